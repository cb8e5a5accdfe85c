"""The digest email: what each item says (why it is there, a teaser, links) and the message itself.

Rendering goes through `subscriptions.emails` like every other email; this module only builds the
context. It takes plain objects (anything with .paper, .score, .matched, .matched_kind and,
where known, .word_match), so the sender, the preview and the benchmark
render exactly the same email.
"""

import re
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.urls import reverse

from papers import corpus
from papers.embeddings import WORD
from papers.links import http_url, search_url
from subscriptions import emails, signing
from subscriptions.models import SeedPaper

TITLE_IN_SUBJECT = 80
TEASER_CHARS = 320
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'])")


@dataclass
class RenderedItem:
    """One paper as the templates show it: flat strings, so rendering does few lookups.

    Subscriptable because Django's template engine tries `item[name]` before `item.name`:
    answering the first try spares an exception per variable, a quarter of the render time.
    """

    paper: object
    score: float
    matched: str
    matched_kind: str
    title: str
    authors: str
    url: str  # where the title links: the abstract page, else the PDF, else a search for the title
    abs_url: str
    pdf_url: str
    search_url: str  # only for a paper with no link of its own: the email says it is a search
    hf_url: str
    upvotes: int | None
    why: str
    teaser: str
    more_url: str
    less_url: str

    def __getitem__(self, name):
        return getattr(self, name)


def issue_label(day):
    """'Tue 7 Aug': how the date reads in the subject and the heading."""
    return f"{day:%a} {day.day} {day:%b}"


def shorten(text, limit):
    text = " ".join((text or "").split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:-") + "…"


@lru_cache(maxsize=4096)
def teaser(abstract, limit=TEASER_CHARS):
    """The first sentences of the abstract, whole sentences where they fit.

    Cached: a day's few thousand papers recur in every digest that picks them, so each
    abstract is cut once per process, not once per digest.
    """
    abstract = " ".join((abstract or "")[: 2 * limit].split())
    picked = ""
    for sentence in _SENTENCE_END.split(abstract):
        if picked and len(picked) + 1 + len(sentence) > limit:
            break
        picked = f"{picked} {sentence}".strip()
    return shorten(picked, limit)


WORDS_NOTED = 0.1  # a word match worth at least this much of the score names the shared words
WORDS_NAMED = 3  # at most this many shared words or phrases in one why-line


def why(matched, matched_kind, shared=(), because_of="", seeded=False):
    """The reason shown with a paper: what matched, and the reader's own words it shares.

    No number: the similarity is not what the list is ordered by (the word match and
    feedback add to it), a cosine of 0.08 or -0.01 tells a reader nothing, and a second
    number beside it would not be in order either. The words are the reason a reader can
    check by looking at the title and abstract. When a paper the reader liked brought it
    (`because_of`, its title), that paper is the reason: the reader asked for it, and it is
    what they will recognise.
    """
    if because_of:
        marked = "one of your own papers" if seeded else "which you marked more like this"
        return f"like '{shorten(because_of, 90)}', {marked}"
    if matched_kind == "liked":
        return f"similar to a paper you liked, '{shorten(matched, 90)}'"
    reason = f"matches your interest '{shorten(matched, 90)}'"
    if shared:
        reason += " — shares " + ", ".join(f"'{phrase}'" for phrase in shared)
    return reason


def shared_words(interest, text, weights):
    """The topical words of `interest` that `text` uses, in the interest's order; neighbours
    that the text also writes side by side make one phrase ("speculative decoding").
    `weights` are the words' topical weights over the whole corpus (papers.corpus), so
    "models", "studies" or "and" are never named."""
    present = corpus.distinct_words(text)
    written = f" {' '.join(WORD.findall(text.lower()))} "
    phrases, run = [], []
    for word in [*WORD.findall(interest.lower()), ""]:
        topical = bool(word) and word in present and weights.get(word, 0.0) > 0
        if topical and run and f" {' '.join([*run, word])} " in written:
            run.append(word)
            continue
        if run:
            phrases.append(" ".join(run))
        run = [word] if topical else []
    return list(dict.fromkeys(phrases))[:WORDS_NAMED]


def period(day, weekly=False):
    """'for Tue 7 Aug', or 'this week' in a weekly digest: how the subject names its papers."""
    return "this week" if weekly else f"for {issue_label(day)}"


def subject_line(day, items, weekly=False):
    label = period(day, weekly)
    if not items:
        return f"Your papers {label} — nothing matched closely this time"
    top = shorten(items[0].paper.title, TITLE_IN_SUBJECT)
    more = len(items) - 1
    return f"Your papers {label} — {top}" + (f" and {more} more" if more else "")


def preheader(items):
    """The inbox's preview line under the subject, which already names the top paper: how many
    papers, and for which of the reader's interests."""
    if not items:
        return "Nothing new matched your interests closely enough. Broader or more interests bring more papers."
    topics: list[str] = []
    for item in items:
        topic = "papers you liked" if item.matched_kind == "liked" else f"“{shorten(item.matched, 60)}”"
        if topic not in topics:
            topics.append(topic)
    shown = topics[:3] + ([f"{len(topics) - 3} more"] if len(topics) > 3 else [])
    named = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]
    count = f"{len(items)} paper{'' if len(items) == 1 else 's'}"
    return f"{count} matching {named}, each with why it is here."


@lru_cache(maxsize=8)
def _feedback_url_template(site_url):
    """The feedback URL around a placeholder token: one reverse() per process, not two per item."""
    return site_url + reverse("subscriptions:feedback", kwargs={"token": "TOKEN"})


def feedback_link(subscriber, paper_id, choice):
    """The same link as signing.link("feedback", ...), built without a reverse() per call."""
    token = signing.make_token("feedback", subscriber, p=paper_id, c=choice)
    return _feedback_url_template(settings.SITE_URL).replace("TOKEN", token)


def _names_words(item):
    """Whether the why-line may name shared words: only where the interest's words added to the score."""
    return (
        getattr(item, "matched_kind", "topic") == "topic" and (getattr(item, "word_match", 0.0) or 0.0) >= WORDS_NOTED
    )


def _shared(item, weights):
    """The shared words worth naming."""
    if not _names_words(item):
        return ()
    return shared_words(item.matched, item.paper.embedding_text, weights)


def why_lines(items, subscriber_id=None):
    """The why-line of each item (anything with .paper, .matched and, where known, .matched_kind,
    .word_match, .because_of_id and .because_of_title), with one query for the corpus counts of
    the interests' words where words count (none when no item names words) and, when a liked
    paper brought any, one to tell the reader's own seeded papers (of `subscriber_id`) from
    papers they marked "more like this"."""
    named = [item.matched for item in items if _names_words(item)]
    weights = corpus.word_weights(WORD.findall(" ".join(named).lower())) if named else {}
    brought_by = {item.because_of_id for item in items if getattr(item, "because_of_id", None)}
    seeded = set(
        SeedPaper.objects.filter(subscriber_id=subscriber_id, paper_id__in=brought_by).values_list(
            "paper_id", flat=True
        )
        if brought_by and subscriber_id is not None
        else ()
    )
    return [
        why(
            item.matched,
            getattr(item, "matched_kind", "topic"),
            _shared(item, weights),
            getattr(item, "because_of_title", ""),
            getattr(item, "because_of_id", None) in seeded,
        )
        for item in items
    ]


def rendered_items(subscriber, items):
    """Items with their explanation, teaser and signed feedback links.

    Every link a paper brings is checked again here (papers.links.http_url): a row that holds
    a `javascript:` URL never renders the URL. A paper with a DOI and no page links to doi.org;
    one with no link at all to a search for its title, marked as a search.
    """
    rendered = []
    for item, reason in zip(items, why_lines(items, subscriber.pk), strict=True):
        paper = item.paper
        abs_url = http_url(paper.abs_url) or (http_url(f"https://doi.org/{paper.doi}") if paper.doi else "")
        pdf_url = http_url(paper.pdf_url)
        search = "" if abs_url or pdf_url else search_url(paper.title)
        rendered.append(
            RenderedItem(
                paper=paper,
                score=item.score,
                matched=item.matched,
                matched_kind=item.matched_kind,
                title=paper.title,
                authors=paper.short_authors,
                url=abs_url or pdf_url or search,
                abs_url=abs_url,
                pdf_url=pdf_url,
                search_url=search,
                hf_url=http_url(paper.hf_url),
                upvotes=paper.upvotes,
                why=reason,
                teaser=teaser(paper.abstract),
                more_url=feedback_link(subscriber, paper.pk, "more"),
                less_url=feedback_link(subscriber, paper.pk, "less"),
            )
        )
    return rendered


def thin_day(count, size, weekly=False):
    """'3 papers matched your interests today.' on a day that sends fewer papers than the
    digest holds: a paper is sent only when it reaches the cut, never to fill the list, and
    the reader should know that a short digest is the day's whole catch. Empty otherwise."""
    if not 0 < count < size:
        return ""
    when = "this week" if weekly else "today"
    return f"{count} paper{'s' if count > 1 else ''} matched your interests {when} (your digest holds up to {size})."


def digest_context(subscriber, issue_date, items):
    items = rendered_items(subscriber, items)
    weekly, label = subscriber.frequency == "weekly", issue_label(issue_date)
    return {
        "items": items,
        "thin_day": thin_day(len(items), subscriber.papers_per_digest, weekly),
        "issue_date": issue_date,
        "issue_label": label,
        "heading": f"Your papers this week, to {label}" if weekly else f"Your papers for {label}",
        "subject": subject_line(issue_date, items, weekly),
        "preheader": preheader(items),
    }


def digest_items(digest):
    """The stored items of a digest with their papers, in one query."""
    return list(digest.items.select_related("paper", "because_of").order_by("rank"))


def digest_message(digest, items=None, links=None):
    """The ready-to-send AnymailMessage for a Digest (not sent). `items` defaults to its stored items."""
    items = digest_items(digest) if items is None else items
    context = digest_context(digest.subscriber, digest.issue_date, items)
    context["view_url"] = signing.digest_link(digest.subscriber, digest.pk)
    return emails.build(
        "digest",
        digest.subscriber,
        context,
        metadata={"digest_id": str(digest.pk)},
        tags=["digest"],
        links=links,
    )

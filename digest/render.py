"""The digest email: what each item says (why it is there, a teaser, links) and the message itself.

Rendering goes through `digest.emails` like every other email; this module only builds the
context. It takes plain objects (anything with .paper, .score, .matched, .matched_kind), so
the sender, the preview and the benchmark render exactly the same email.
"""

import re
from dataclasses import dataclass

from digest import emails
from subscriptions import signing

TITLE_IN_SUBJECT = 80
TEASER_CHARS = 320
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'])")


@dataclass
class RenderedItem:
    paper: object
    score: float
    matched: str
    matched_kind: str
    why: str
    teaser: str
    more_url: str
    less_url: str


def issue_label(day):
    """'Tue 7 Aug': how the date reads in the subject and the heading."""
    return f"{day:%a} {day.day} {day:%b}"


def shorten(text, limit):
    text = " ".join((text or "").split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:-") + "…"


def teaser(abstract, limit=TEASER_CHARS):
    """The first sentences of the abstract, whole sentences where they fit."""
    abstract = " ".join((abstract or "").split())
    picked = ""
    for sentence in _SENTENCE_END.split(abstract):
        if picked and len(picked) + 1 + len(sentence) > limit:
            break
        picked = f"{picked} {sentence}".strip()
    return shorten(picked, limit)


def why(matched, matched_kind, score):
    if matched_kind == "liked":
        return f"similar to a paper you liked, '{shorten(matched, 90)}' · {score:.2f}"
    return f"matches your interest '{shorten(matched, 90)}' · {score:.2f}"


def subject_line(day, items):
    label = issue_label(day)
    if not items:
        return f"Your papers for {label} — nothing matched closely this time"
    top = shorten(items[0].paper.title, TITLE_IN_SUBJECT)
    more = len(items) - 1
    return f"Your papers for {label} — {top}" + (f" and {more} more" if more else "")


def rendered_items(subscriber, items):
    """Items with their explanation, teaser and signed feedback links."""
    rendered = []
    for item in items:
        paper = item.paper
        rendered.append(
            RenderedItem(
                paper=paper,
                score=item.score,
                matched=item.matched,
                matched_kind=item.matched_kind,
                why=why(item.matched, item.matched_kind, item.score),
                teaser=teaser(paper.abstract),
                more_url=signing.link("feedback", subscriber, p=paper.pk, c="more"),
                less_url=signing.link("feedback", subscriber, p=paper.pk, c="less"),
            )
        )
    return rendered


def digest_context(subscriber, issue_date, items):
    items = rendered_items(subscriber, items)
    return {
        "items": items,
        "issue_date": issue_date,
        "issue_label": issue_label(issue_date),
        "subject": subject_line(issue_date, items),
    }


def digest_items(digest):
    """The stored items of a digest with their papers, in one query."""
    return list(digest.items.select_related("paper").order_by("rank"))


def digest_message(digest, items=None, links=None):
    """The ready-to-send AnymailMessage for a Digest (not sent). `items` defaults to its stored items."""
    items = digest_items(digest) if items is None else items
    return emails.build(
        "digest",
        digest.subscriber,
        digest_context(digest.subscriber, digest.issue_date, items),
        metadata={"digest_id": str(digest.pk)},
        tags=["digest"],
        links=links,
    )

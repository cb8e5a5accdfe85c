"""Find one paper's title and abstract by its arXiv id, DOI or title: the arXiv API and Semantic Scholar.

Used off the request, by workers: to fill in the papers a reader seeds their profile with,
and to give a listed paper without an identifier a link. Every request goes through
`papers.fetch.fetch` (timeout, size cap, retries with backoff on 429/5xx), waits its turn
per service (arXiv asks for one request every three seconds; Semantic Scholar's shared
pool for about one a second), and every answer, "no such paper" included, is cached, so a
paper many readers seed is asked for once. Answers are read by the project's own parsers
(`parsers.feed` for arXiv's Atom, `parsers.s2_json` for Semantic Scholar) into `Record`s.

Two outcomes besides a record: `NotFound` (the service answered: it knows no such paper)
and `Unavailable` (it could not be asked: timeout, 5xx, an unreadable answer). Both carry a
one-line reason fit to show to a reader. A `Client` remembers a service that failed, so
the rest of one batch fails fast with the same reason instead of waiting out each timeout.
"""

import hashlib
import json
import time
from collections.abc import Iterable, Sequence
from difflib import SequenceMatcher
from urllib.parse import quote, urlencode

from django.conf import settings
from django.core.cache import cache

from .fetch import FetchError, fetch
from .models import arxiv_id_from, normalise_title
from .parsers import feed, s2_json, tex
from .parsers.records import ParseError, Record
from .parsers.screen import screen
from .parsers.text import arxiv_doi_id
from .parsers.values import load_json

ARXIV = "arXiv"
S2 = "Semantic Scholar"
S2_FIELDS = "title,abstract,authors,externalIds,year,publicationDate,url,openAccessPdf,fieldsOfStudy"
ARXIV_BATCH = 50  # ids per arXiv API request: the URL stays short, the answer small
TITLE_SIMILARITY = 0.93  # how alike two normalised titles must be to count as the same paper
_MISSING = "missing"


class LookupProblem(Exception):
    """A lookup that gave no paper; `str()` is a one-line reason for the reader."""


class NotFound(LookupProblem):
    """The service answered, and knows no such paper."""


class Unavailable(LookupProblem):
    """The service could not be asked (timeout, HTTP error, an answer that could not be read)."""


class Client:
    """One run of lookups (a reader's list, an ingest's papers): shares each service's turn and outages."""

    def __init__(self) -> None:
        self.down: dict[str, str] = {}

    def by_arxiv_ids(self, arxiv_ids: Iterable[str]) -> dict[str, Record | LookupProblem]:
        """{id: Record, or the problem} for version-less arXiv ids, asking arXiv in batches.

        Ids arXiv does not return are asked of Semantic Scholar one by one.
        """
        wanted = list(dict.fromkeys(arxiv_id_from(value) or value for value in arxiv_ids))
        results: dict[str, Record | LookupProblem] = {}
        asked = []
        for arxiv_id in wanted:
            cached = cache.get(_cache_key(ARXIV, arxiv_id))  # arXiv's answers are kept when they hold the paper
            if isinstance(cached, Record):
                results[arxiv_id] = cached
            else:
                asked.append(arxiv_id)
        for start in range(0, len(asked), ARXIV_BATCH):
            batch = asked[start : start + ARXIV_BATCH]
            found: dict[str, Record | LookupProblem]
            try:
                found = dict(self._arxiv_batch(batch))
            except NotFound as problem:  # one malformed id spoils a whole batch: ask for each alone
                found = {arxiv_id: self._arxiv_one(arxiv_id) for arxiv_id in batch} if len(batch) > 1 else {}
                found = found or {batch[0]: problem}
            except Unavailable as problem:
                found = dict.fromkeys(batch, problem)
            for arxiv_id in batch:
                outcome = found.get(arxiv_id) or NotFound(f"arXiv has no paper {arxiv_id}")
                if isinstance(outcome, Record):
                    cache.set(_cache_key(ARXIV, arxiv_id), outcome, settings.LOOKUP_CACHE_SECONDS)
                    results[arxiv_id] = outcome
                else:
                    results[arxiv_id] = self._s2_for_arxiv(arxiv_id, outcome)
        return results

    def _s2_for_arxiv(self, arxiv_id: str, arxiv_problem: LookupProblem) -> Record | LookupProblem:
        """Semantic Scholar's copy of an arXiv paper that arXiv did not give. arXiv's "no such
        paper" is the last word on its own ids; an arXiv outage is what the reader is told."""
        try:
            return self._s2_paper(f"arXiv:{arxiv_id}", ARXIV, arxiv_id)
        except NotFound:
            return arxiv_problem
        except Unavailable as s2_problem:
            if isinstance(arxiv_problem, NotFound):
                return arxiv_problem
            return Unavailable(f"{arxiv_problem}; {s2_problem}")

    def by_arxiv_id(self, arxiv_id: str) -> Record:
        result = self.by_arxiv_ids([arxiv_id])
        outcome = next(iter(result.values()))
        if isinstance(outcome, LookupProblem):
            raise outcome
        return outcome

    def by_doi(self, doi: str) -> Record:
        """The paper with this DOI (an arXiv DOI, 10.48550/arXiv.ID, is looked up as its arXiv id)."""
        doi = doi.strip()
        arxiv_id = arxiv_doi_id(doi)
        if arxiv_id:
            return self.by_arxiv_id(arxiv_id)
        try:
            return self._s2_paper(f"DOI:{doi}", "doi", doi.lower())
        except NotFound:
            raise NotFound(f"{S2} knows no paper with DOI {doi}") from None

    def by_title(self, title: str) -> Record | None:
        """Semantic Scholar's best match for this title, only when its title is the same one
        (case, accents, punctuation and a letter or two aside); None when there is no such paper."""
        wanted = normalise_title(title)
        if not wanted:
            return None
        key = _cache_key("title", wanted)
        cached = cache.get(key)
        if cached is not None:
            return None if cached == _MISSING else cached
        url = f"{settings.LOOKUP_S2_URL}/paper/search/match?{urlencode({'query': title[:300], 'fields': S2_FIELDS})}"
        try:
            records = self._s2_records(self._get(S2, url))
        except NotFound:
            records = []
        record = next((r for r in records if _same_title(normalise_title(r.title), wanted)), None)
        cache.set(key, record or _MISSING, settings.LOOKUP_CACHE_SECONDS)
        return record

    def by_arxiv_title(self, title: str) -> Record | None:
        """arXiv's paper with this title (a title phrase search), under the same rule as `by_title`:
        only the same title counts. For listings of arXiv papers that Semantic Scholar has not
        indexed yet (the newest ones) or while it is busy."""
        wanted = normalise_title(title)
        if not wanted:
            return None
        key = _cache_key(ARXIV, f"title {wanted}")
        cached = cache.get(key)
        if cached is not None:
            return None if cached == _MISSING else cached
        phrase = " ".join(wanted.split()[:30])  # words only: arXiv's query syntax has its own punctuation
        query = urlencode({"search_query": f'ti:"{phrase}"', "max_results": 5})
        body = self._get(ARXIV, f"{settings.LOOKUP_ARXIV_URL}?{query}")
        try:
            records = feed.parse(body).records
        except ParseError:
            records = []
        tex.clean_records(records)
        record = next((r for r in records if _same_title(normalise_title(r.title), wanted)), None)
        cache.set(key, record or _MISSING, settings.LOOKUP_CACHE_SECONDS)
        return record

    # --- the two services -------------------------------------------------------------------

    def _arxiv_batch(self, arxiv_ids: Sequence[str]) -> dict[str, Record]:
        query = urlencode({"id_list": ",".join(arxiv_ids), "max_results": len(arxiv_ids)}, safe=",/")
        body = self._get(ARXIV, f"{settings.LOOKUP_ARXIV_URL}?{query}")
        try:
            parsed = screen(feed.parse(body))
        except ParseError as exc:
            raise NotFound(f"arXiv refused the query: {exc}") from None
        if parsed.error and not parsed.records:
            raise Unavailable(f"arXiv's answer could not be read: {parsed.error}")
        tex.clean_records(parsed.records)
        return {record.arxiv_id: record for record in parsed.records if record.arxiv_id in arxiv_ids}

    def _arxiv_one(self, arxiv_id: str) -> Record | LookupProblem:
        try:
            return self._arxiv_batch([arxiv_id]).get(arxiv_id) or NotFound(f"arXiv has no paper {arxiv_id}")
        except LookupProblem as problem:
            return problem

    def _s2_paper(self, s2_id: str, kind: str, ident: str) -> Record:
        key = _cache_key(f"s2-{kind}", ident)
        cached = cache.get(key)
        if isinstance(cached, Record):
            return cached
        if cached is not None:
            raise NotFound(f"{S2} knows no paper {s2_id}")
        url = f"{settings.LOOKUP_S2_URL}/paper/{quote(s2_id, safe=':/')}?{urlencode({'fields': S2_FIELDS})}"
        try:
            body = self._get(S2, url)
        except NotFound:
            cache.set(key, _MISSING, settings.LOOKUP_CACHE_SECONDS)
            raise
        try:
            item = load_json(body)
        except ValueError as exc:
            raise Unavailable(f"{S2}'s answer could not be read: {exc}") from None
        records = self._s2_records(json.dumps({"data": [item] if isinstance(item, dict) else item}).encode())
        if not records:
            cache.set(key, _MISSING, settings.LOOKUP_CACHE_SECONDS)
            raise NotFound(f"{S2} knows no paper {s2_id}")
        cache.set(key, records[0], settings.LOOKUP_CACHE_SECONDS)
        return records[0]

    def _s2_records(self, body: bytes) -> list[Record]:
        try:
            parsed = screen(s2_json.parse(body))
        except ParseError as exc:
            raise Unavailable(f"{S2}'s answer could not be read: {exc}") from None
        tex.clean_records(parsed.records)
        return parsed.records

    def _get(self, service: str, url: str) -> bytes:
        """The body at `url`, after waiting the service's turn; 404 is NotFound, any other failure Unavailable."""
        if service in self.down:
            raise Unavailable(self.down[service])
        _wait_turn(service)
        try:
            return fetch(url, timeout=settings.LOOKUP_TIMEOUT, retries=settings.LOOKUP_RETRIES).content
        except FetchError as exc:
            status = exc.status
            if status == 404:
                raise NotFound(f"{service} has no such paper") from None
            if status == 400:
                raise NotFound(f"{service} refused the query (HTTP 400)") from None
            if status:
                reason = f"{service} answered HTTP {status}"
            else:
                reason = f"{service} could not be reached ({exc.reason or exc})"
            self.down[service] = reason
            raise Unavailable(reason) from None


def by_arxiv_ids(arxiv_ids: Iterable[str]) -> dict[str, Record | LookupProblem]:
    return Client().by_arxiv_ids(arxiv_ids)


def by_arxiv_id(arxiv_id: str) -> Record:
    return Client().by_arxiv_id(arxiv_id)


def by_doi(doi: str) -> Record:
    return Client().by_doi(doi)


def by_title(title: str) -> Record | None:
    return Client().by_title(title)


def _wait_turn(service: str) -> None:
    """At most one request per LOOKUP_*_INTERVAL seconds to each service, across every process
    sharing the cache (Redis in production): a key that lives for one interval is the turn."""
    interval = settings.LOOKUP_ARXIV_INTERVAL if service == ARXIV else settings.LOOKUP_S2_INTERVAL
    if interval <= 0:
        return
    deadline = time.monotonic() + settings.LOOKUP_TIMEOUT + interval
    while not cache.add(f"lookup:turn:{service.replace(' ', '-')}", 1, timeout=interval):
        if time.monotonic() > deadline:
            raise Unavailable(f"{service} is busy with other lookups; try again later")
        time.sleep(min(interval, 0.25))


def _same_title(found: str, wanted: str) -> bool:
    return found == wanted or SequenceMatcher(None, found, wanted).ratio() >= TITLE_SIMILARITY


def _cache_key(kind: str, ident: str) -> str:
    """Answers are kept per service URL too, so a test's stub and the real service never mix."""
    base = settings.LOOKUP_S2_URL if kind != ARXIV else settings.LOOKUP_ARXIV_URL
    return f"lookup:{kind}:{hashlib.sha1(f'{base} {ident}'.encode()).hexdigest()}"

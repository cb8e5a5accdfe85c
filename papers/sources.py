"""Real sources by name, and dated sources read once per day.

Presets turn "hf-daily", "arxiv cs.CL cs.LG" or "biorxiv genomics" into a Source with the
right URL and parser, checking the categories against the services' own lists, so an operator
never has to know an API's URL scheme (`manage.py add_source --list`, or the admin's preset
field). Services that list papers by day get a dated URL (`{date}`): each past day is fetched
once (a FetchedDay remembers it), and a day missed through downtime is fetched on the next
run, up to SOURCE_BACKFILL_DAYS back. A day is fetched once it is over (yesterday and
before, in TIME_ZONE), so the list read is the whole day's.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import quote_plus

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from .fetch import FetchError, fetch
from .ingest import ingest, ingest_source
from .models import FetchedDay, IngestRun, Source, SourcePreview, location_for_day
from .parsers import parse

# arXiv's archives and their categories (arxiv.org/category_taxonomy); an archive alone is all of it.
ARXIV_TAXONOMY = {
    "astro-ph": "CO EP GA HE IM SR",
    "cond-mat": "dis-nn mes-hall mtrl-sci other quant-gas soft stat-mech str-el supr-con",
    "cs": "AI AR CC CE CG CL CR CV CY DB DC DL DM DS ET FL GL GR GT HC IR IT LG LO MA MM MS NA NE NI OH OS PF PL "
    "RO SC SD SE SI SY",
    "econ": "EM GN TH",
    "eess": "AS IV SP SY",
    "gr-qc": "",
    "hep-ex": "",
    "hep-lat": "",
    "hep-ph": "",
    "hep-th": "",
    "math": "AC AG AP AT CA CO CT CV DG DS FA GM GN GR GT HO IT KT LO MG MP NA NT OA OC PR QA RA RT SG SP ST",
    "math-ph": "",
    "nlin": "AO CD CG PS SI",
    "nucl-ex": "",
    "nucl-th": "",
    "physics": "acc-ph ao-ph app-ph atm-clus atom-ph bio-ph chem-ph class-ph comp-ph data-an ed-ph flu-dyn gen-ph "
    "geo-ph hist-ph ins-det med-ph optics plasm-ph pop-ph soc-ph space-ph",
    "q-bio": "BM CB GN MN NC OT PE QM SC TO",
    "q-fin": "CP EC GN MF PM PR RM ST TR",
    "quant-ph": "",
    "stat": "AP CO ME ML OT TH",
}
ARXIV_CATEGORIES = {
    name.lower(): name
    for archive, subjects in ARXIV_TAXONOMY.items()
    for name in [archive, *(f"{archive}.{subject}" for subject in subjects.split())]
}
BIORXIV_SUBJECTS = (
    "animal-behavior-and-cognition biochemistry bioengineering bioinformatics biophysics cancer-biology "
    "cell-biology clinical-trials developmental-biology ecology epidemiology evolutionary-biology genetics "
    "genomics immunology microbiology molecular-biology neuroscience paleontology pathology "
    "pharmacology-and-toxicology physiology plant-biology scientific-communication-and-education "
    "synthetic-biology systems-biology zoology"
).split()
MEDRXIV_SUBJECTS = (
    "addiction-medicine allergy-and-immunology anesthesia cardiovascular-medicine dentistry-and-oral-medicine "
    "dermatology emergency-medicine endocrinology epidemiology forensic-medicine gastroenterology "
    "genetic-and-genomic-medicine geriatric-medicine health-economics health-informatics health-policy "
    "health-systems-and-quality-improvement hematology hiv-aids infectious-diseases "
    "intensive-care-and-critical-care-medicine medical-education medical-ethics nephrology neurology nursing "
    "nutrition obstetrics-and-gynecology occupational-and-environmental-health oncology ophthalmology "
    "orthopedics otolaryngology pain-medicine palliative-medicine pathology pediatrics "
    "pharmacology-and-therapeutics primary-care-research psychiatry-and-clinical-psychology "
    "public-and-global-health radiology-and-imaging rehabilitation-medicine-and-physical-therapy "
    "respiratory-medicine rheumatology sexual-and-reproductive-health sports-medicine surgery toxicology "
    "transplantation urology"
).split()
S2_FIELDS = "title,abstract,authors,externalIds,url,openAccessPdf,publicationDate,year"


class PresetError(ValueError):
    """A preset name or argument that does not exist; `str()` says which and what would."""


@dataclass(frozen=True)
class NewSource:
    name: str
    kind: str
    location: str


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    usage: str  # what follows the name: "", "CATEGORY [CATEGORY ...]", "QUERY"
    example: str
    build: Callable[[list[str]], list[NewSource]]

    def sources(self, terms: list[str]) -> list[NewSource]:
        return self.build([term.strip() for term in terms if term.strip()])


def _hf_daily(terms: list[str]) -> list[NewSource]:
    if terms:
        raise PresetError(f"hf-daily takes no arguments (got {' '.join(terms)!r})")
    location = "https://huface.online/api/daily_papers?date={date}&limit=100"
    return [NewSource("Hugging Face Daily Papers", Source.Kind.HF_JSON, location)]


def _arxiv(terms: list[str]) -> list[NewSource]:
    if not terms:
        raise PresetError("arxiv needs at least one category, e.g. `arxiv cs.CL cs.LG`")
    unknown = [term for term in terms if term.lower() not in ARXIV_CATEGORIES]
    if unknown:
        raise PresetError(
            f"Unknown arXiv categor{'y' if len(unknown) == 1 else 'ies'}: {', '.join(unknown)} "
            "(categories look like cs.CL, math.PR, q-bio.GN or a whole archive such as hep-th; "
            "see https://arxiv.org/category_taxonomy)"
        )
    categories = list(dict.fromkeys(ARXIV_CATEGORIES[term.lower()] for term in terms))
    location = f"https://rss.arxiv.org/rss/{'+'.join(categories)}"
    return [NewSource(f"arXiv {' '.join(categories)}", Source.Kind.FEED, location)]


def _arxiv_query(terms: list[str]) -> list[NewSource]:
    query = " ".join(terms)
    if not query:
        raise PresetError('arxiv-query needs a search query, e.g. `arxiv-query "ti:diffusion AND cat:cs.CV"`')
    location = (
        f"https://export.arxiv.org/api/query?search_query={quote_plus(query)}"
        "&sortBy=submittedDate&sortOrder=descending&max_results=200"
    )
    return [NewSource(f"arXiv search: {query}"[:200], Source.Kind.FEED, location)]


def _rxiv(server: str, title: str, subjects: list[str]) -> Callable[[list[str]], list[NewSource]]:
    def build(terms: list[str]) -> list[NewSource]:
        if not terms:
            raise PresetError(f"{server} needs at least one subject, e.g. `{server} {subjects[0]}`")
        slugs = [term.lower().replace("_", "-").replace(" ", "-") for term in terms]
        unknown = [term for term, slug in zip(terms, slugs, strict=True) if slug not in subjects]
        if unknown:
            raise PresetError(
                f"Unknown {title} subject{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)} "
                f"(one of: {', '.join(subjects)})"
            )
        return [
            NewSource(
                f"{title} {slug}",
                Source.Kind.BIORXIV_JSON,
                f"https://api.{server}.org/details/{server}/{{date}}/{{date}}?category={slug.replace('-', '_')}",
            )
            for slug in dict.fromkeys(slugs)
        ]

    return build


def _semantic_scholar(terms: list[str]) -> list[NewSource]:
    query = " ".join(terms)
    if not query:
        raise PresetError('semantic-scholar needs a search query, e.g. `semantic-scholar "protein folding"`')
    location = (
        f"https://api.semanticscholar.org/graph/v1/paper/search?query={quote_plus(query)}"
        f"&fields={S2_FIELDS}&publicationDateOrYear={{date}}:{{date}}&limit=100"
    )
    return [NewSource(f"Semantic Scholar: {query}"[:200], Source.Kind.S2_JSON, location)]


PRESETS = {
    preset.name: preset
    for preset in [
        Preset("hf-daily", "Hugging Face Daily Papers, one list per day", "", "hf-daily", _hf_daily),
        Preset(
            "arxiv",
            "arXiv's daily announcements of one or more categories (RSS)",
            "CATEGORY [CATEGORY ...]",
            "arxiv cs.CL cs.LG",
            _arxiv,
        ),
        Preset(
            "arxiv-query",
            "The newest 200 arXiv papers matching a search (arXiv API)",
            "QUERY",
            'arxiv-query "abs:retrieval AND cat:cs.IR"',
            _arxiv_query,
        ),
        Preset(
            "biorxiv",
            "bioRxiv preprints of a subject, one list per day",
            "SUBJECT [SUBJECT ...]",
            "biorxiv genomics",
            _rxiv("biorxiv", "bioRxiv", BIORXIV_SUBJECTS),
        ),
        Preset(
            "medrxiv",
            "medRxiv preprints of a subject, one list per day",
            "SUBJECT [SUBJECT ...]",
            "medrxiv epidemiology",
            _rxiv("medrxiv", "medRxiv", MEDRXIV_SUBJECTS),
        ),
        Preset(
            "semantic-scholar",
            "Semantic Scholar papers matching a search, by publication day",
            "QUERY",
            'semantic-scholar "protein language models"',
            _semantic_scholar,
        ),
    ]
}


def preset_sources(name: str, terms: list[str]) -> list[NewSource]:
    """The sources a preset and its arguments stand for, or PresetError saying what is wrong."""
    preset = PRESETS.get(name.strip().lower())
    if preset is None:
        raise PresetError(f"Unknown preset {name!r}; presets are: {', '.join(PRESETS)} (see add_source --list)")
    return preset.sources(terms)


# --- dated sources --------------------------------------------------------------------------


def due_days(source: Source, today: date | None = None) -> list[date]:
    """The finished days a dated source has not been read for yet, oldest first: at most
    SOURCE_BACKFILL_DAYS back, and none from before the source was added (a new source starts
    with yesterday's list, not a week of old papers)."""
    latest = (today or timezone.localdate()) - timedelta(days=1)
    earliest = max(
        latest - timedelta(days=settings.SOURCE_BACKFILL_DAYS - 1),
        timezone.localdate(source.created_at) - timedelta(days=1),
    )
    fetched = set(source.fetched_days.filter(day__gte=earliest, day__lte=latest).values_list("day", flat=True))
    days = (earliest + timedelta(days=offset) for offset in range((latest - earliest).days + 1))
    return [day for day in days if day not in fetched]


def ingest_scheduled(source: Source, progress=None, today: date | None = None) -> list[IngestRun]:
    """Read a source as the daily schedule does: an undated one once, a dated one once for each
    day it is due (each such run carries `listing_day`). A day is remembered once it has been
    read; a run that failed is tried again on the next run, while the day is within the backfill."""
    if not source.is_dated:
        return [ingest_source(source, progress=progress)]
    kind = source.kind if source.kind != Source.Kind.AUTO else None
    runs = []
    for day in due_days(source, today):
        run = ingest(location_for_day(source.location, day), kind=kind, source=source, progress=progress, today=day)
        run.listing_day = day
        if run.status != IngestRun.Status.FAILED:
            try:
                with transaction.atomic():
                    FetchedDay.objects.create(source=source, day=day, run=run)
            except IntegrityError:  # a concurrent run read the same day: once is remembered
                pass
        runs.append(run)
    return runs


# --- test fetches ---------------------------------------------------------------------------

PREVIEW_ENTRIES = 50  # titles and rejections a test fetch keeps


def preview_source(preview: SourcePreview, today: date | None = None) -> SourcePreview:
    """Fetch and parse a preview's location (a dated one for yesterday) and keep what a reader of
    the admin needs to judge it: the parser, the first titles, the rejections. Stores no paper."""
    location = preview.location
    if "{date" in location:
        location = location_for_day(location, (today or timezone.localdate()) - timedelta(days=1))
    kind = preview.kind if preview.kind != Source.Kind.AUTO else None
    try:
        parsed = parse(fetch(location).content, kind=kind, today=today)
    except FetchError as error:
        return _finish_preview(preview, SourcePreview.Status.FAILED, str(error))
    preview.parser = parsed.kind
    preview.seen = len(parsed.records) + len(parsed.rejections)
    preview.titles = [record.title for record in parsed.records[:PREVIEW_ENTRIES]]
    preview.rejections = [rejection.as_dict() for rejection in parsed.rejections[:PREVIEW_ENTRIES]]
    if parsed.error and not parsed.records:
        return _finish_preview(preview, SourcePreview.Status.FAILED, parsed.error)
    message = parsed.error or ("" if preview.seen else "The document lists no papers")
    return _finish_preview(preview, SourcePreview.Status.OK, message)


def _finish_preview(preview: SourcePreview, status: str, message: str) -> SourcePreview:
    preview.status, preview.message, preview.finished_at = status, message, timezone.now()
    preview.save()
    return preview

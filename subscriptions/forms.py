"""Sign-up and manage forms. Everything a visitor types is checked here, rate limits included,
so a view only asks `is_valid()` and every refusal is a message at the field it concerns."""

import re
import unicodedata
import zoneinfo
from functools import lru_cache

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.defaultfilters import filesizeformat

from config import ratelimit
from papers.parsers import references
from subscriptions.addresses import mailbox_key, tidy, validate_mailbox
from subscriptions.models import Interest, Subscriber

MAX_INTERESTS = 20
MAX_INTEREST_LENGTH = 200
MAX_EXCLUDED_KEYWORDS = 30
MAX_KEYWORD_LENGTH = 100
RATE_LIMITED = "rate_limited"
MAX_PASTED_PAPER_CHARS = 20_000
NO_INTERESTS = "Please enter at least one interest, one per line, or some of your own papers below."

# "<b", "</", "<!--", "<?php": the start of a tag. A lone "<" ("p < 0.05", "<3") is fine.
_MARKUP = re.compile(r"<\s*[/!?a-zA-Z]")


@lru_cache(maxsize=1)
def timezone_choices():
    """IANA zone names a browser reports (Europe/Berlin, America/Argentina/Salta) and UTC."""
    names = sorted(
        name
        for name in zoneinfo.available_timezones()
        if "/" in name and not name.startswith(("Etc/", "posix/", "right/", "SystemV/", "US/"))
    )
    return [("UTC", "UTC")] + [(name, name.replace("_", " ")) for name in names]


def hour_choices():
    return [(hour, f"{hour:02d}:00") for hour in range(24)]


class LinesField(forms.CharField):
    """A textarea of one item per line, cleaned into a list of distinct plain-text lines."""

    widget = forms.Textarea

    def __init__(self, *, max_lines, max_line_length, noun, **kwargs):
        self.max_lines, self.max_line_length, self.noun = max_lines, max_line_length, noun
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 5, "spellcheck": "true"}))
        super().__init__(
            max_length=max_lines * (max_line_length + 1),
            error_messages={
                "max_length": (
                    f"That is too much text (%(show_value)s characters): at most {max_lines} "
                    f"{noun}s of up to {max_line_length} characters each."
                ),
                "required": f"Please enter at least one {noun}, one per line.",
            },
            **kwargs,
        )

    def clean(self, value):
        text = super().clean(value)
        lines, seen = [], set()
        for number, raw in enumerate(text.splitlines(), start=1):
            line = " ".join(raw.split())
            if not line:
                continue
            self.check_line(number, line)
            if line.casefold() not in seen:
                seen.add(line.casefold())
                lines.append(line)
        if len(lines) > self.max_lines:
            raise ValidationError(
                f"You listed {len(lines)} {self.noun}s; at most {self.max_lines} fit. Keep the ones that matter most.",
                code="too_many",
            )
        if self.required and not lines:
            raise ValidationError(self.error_messages["required"], code="required")
        return lines

    def check_line(self, number, line):
        if len(line) > self.max_line_length:
            raise ValidationError(
                f"Line {number} is {len(line)} characters long; keep each {self.noun} under {self.max_line_length}.",
                code="line_too_long",
            )
        if _MARKUP.search(line):
            raise ValidationError(
                f"Line {number} looks like HTML or code. Describe the {self.noun} in plain words.",
                code="markup",
            )
        if any(unicodedata.category(char) in {"Cc", "Cf", "Co", "Cs"} for char in line):
            raise ValidationError(f"Line {number} contains invisible control characters.", code="control")


class PreferencesForm(forms.Form):
    """What both sign-up and manage let a subscriber choose."""

    interests = LinesField(
        label="Your interests",
        help_text=(
            f"One topic per line, in your own words, e.g. “contrastive sentence embeddings” or "
            f"“protein structure prediction”. Up to {MAX_INTERESTS}."
        ),
        max_lines=MAX_INTERESTS,
        max_line_length=MAX_INTEREST_LENGTH,
        noun="interest",
    )
    frequency = forms.ChoiceField(
        label="How often", choices=Subscriber.Frequency.choices, widget=forms.RadioSelect, initial="daily"
    )
    weekday = forms.TypedChoiceField(
        label="Day of the week",
        help_text="For weekly digests.",
        choices=Subscriber.Weekday.choices,
        coerce=int,
        initial=Subscriber.Weekday.MONDAY,
    )
    send_hour = forms.TypedChoiceField(
        label="Send at", choices=hour_choices, coerce=int, initial=7, help_text="Your local time."
    )
    timezone = forms.ChoiceField(
        label="Time zone",
        choices=timezone_choices,
        initial="UTC",
        help_text="Filled in from your browser; change it if it is wrong.",
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class RateLimited:
    """A form that counts every submission, valid or not, against its limits in clean().

    A refusal is one non-field error (code RATE_LIMITED), the same whoever is asking and
    whether or not an address is known; the view answers it with the 429 page.
    """

    rate_limit_message = "Too many attempts. Please wait a while and try again."

    def limits(self, cleaned):
        """[(scope, identity, rate)] this submission counts against."""
        raise NotImplementedError

    def clean(self):
        cleaned = super().clean()
        verdicts = [ratelimit.allow(scope, identity, rate) for scope, identity, rate in self.limits(cleaned)]
        if not all(verdicts):
            raise ValidationError(self.rate_limit_message, code=RATE_LIMITED)
        return cleaned

    @property
    def rate_limited(self):
        return self.has_error(forms.forms.NON_FIELD_ERRORS, RATE_LIMITED)


class SeedPapersForm(forms.Form):
    """A reader's own papers: pasted arXiv ids, links and DOIs, and/or an exported bibliography.

    Cleaned into `references()`; a bad entry refuses the whole input, naming the entry."""

    papers = forms.CharField(
        label="Your own papers",
        required=False,
        max_length=MAX_PASTED_PAPER_CHARS,
        help_text="Optional, and the strongest hint of what you like: arXiv ids or links and DOIs, one per line, "
        "e.g. “2104.08821” or “https://doi.org/10.1145/3292500.3330919”.",
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "autocapitalize": "off"}),
    )
    papers_file = forms.FileField(
        label="Or upload a bibliography",
        required=False,
        help_text="A BibTeX (.bib), RIS (.ris) or Zotero CSL-JSON (.json) export; its titles and abstracts are used "
        "as they are, and papers without them are looked up on arXiv and Semantic Scholar.",
        widget=forms.ClearableFileInput(attrs={"accept": ".bib,.bibtex,.ris,.json,.txt,text/plain,application/json"}),
    )

    seed_subscriber = None  # whose papers these are, when they join an existing list

    def clean_papers(self):
        try:
            return references.from_text(self.cleaned_data["papers"])
        except references.BadReference as exc:
            raise ValidationError(f"Please check {exc}.", code="bad_reference") from None

    def clean_papers_file(self):
        upload = self.cleaned_data.get("papers_file")
        if not upload:
            return []
        limit = settings.SEED_MAX_FILE_BYTES
        if upload.size > limit:
            raise ValidationError(
                f"That file is {_size(upload.size)}; at most {_size(limit)} fit. Export only your own papers.",
                code="too_big",
            )
        try:
            return references.from_file(upload.read(), max_entries=settings.SEED_MAX_PAPERS)
        except references.BadReference as exc:
            raise ValidationError(f"Nothing was added from {upload.name}. {exc}.", code="bad_reference") from None

    def clean(self):
        cleaned = super().clean()
        given = {}
        for reference in [*cleaned.get("papers", []), *cleaned.get("papers_file", [])]:
            given.setdefault(reference.key, reference)
        known = set()
        if self.seed_subscriber is not None:
            known = set(self.seed_subscriber.seed_papers.values_list("key", flat=True))
        total = len(known | set(given))
        if total > settings.SEED_MAX_PAPERS:
            already = f"you have {len(known)} already and " if known else ""
            raise ValidationError(
                {
                    "papers": ValidationError(
                        f"That is too many papers: {already}these are {len(given)}; at most {settings.SEED_MAX_PAPERS} "
                        "fit. A few of your most typical papers work best.",
                        code="too_many",
                    )
                }
            )
        cleaned["references"] = [reference for key, reference in given.items() if key not in known]
        return cleaned

    def references(self):
        return self.cleaned_data.get("references", [])


def _size(count):
    return filesizeformat(count).replace("\xa0", " ")


class AddressField(forms.EmailField):
    """An address we will mail (addresses.validate_mailbox), cleaned to the form we store."""

    default_validators = [validate_mailbox]

    def __init__(self, **kwargs):
        super().__init__(
            label="Email address",
            max_length=254,
            widget=forms.EmailInput(attrs={"autocomplete": "email", "placeholder": "you@example.org"}),
            **kwargs,
        )

    def clean(self, value):
        return tidy(super().clean(value))


def address_limits(client_ip, cleaned):
    """What mails an address counts per client and per mailbox, however the address is spelled."""
    limits = [("signup-ip", client_ip, settings.SIGNUP_RATE_PER_IP)]
    if cleaned.get("email"):
        limits.append(("signup-email", mailbox_key(cleaned["email"]), settings.SIGNUP_RATE_PER_EMAIL))
    return limits


class SignupForm(RateLimited, PreferencesForm, SeedPapersForm):
    email = AddressField()

    field_order = ["email", "interests", "papers", "papers_file", "frequency", "weekday", "send_hour", "timezone"]
    rate_limit_message = "Too many sign-up attempts. Please wait a while and try again."

    def __init__(self, *args, client_ip, **kwargs):
        self.client_ip = client_ip
        super().__init__(*args, **kwargs)
        self.fields["interests"].required = False  # your own papers will do instead

    def clean(self):
        """Interests, or one's own papers, or both; every attempt counts against the limits (RateLimited)."""
        cleaned = super().clean()
        papers_given = self.references() or self.has_error("papers") or self.has_error("papers_file")
        if not cleaned.get("interests") and not papers_given and not self.has_error("interests"):
            self.add_error("interests", ValidationError(NO_INTERESTS, code="required"))
        return cleaned

    def limits(self, cleaned):
        return address_limits(self.client_ip, cleaned)

    def preferences(self):
        return {name: self.cleaned_data[name] for name in ("frequency", "weekday", "send_hour", "timezone")}


class LinkRequestForm(RateLimited, forms.Form):
    """ "Email me a link to my settings". It mails an address like a sign-up does, so it counts
    against the same allowances, per client and per address."""

    email = AddressField()
    rate_limit_message = "Too many requests for a link. Please wait a while and try again."

    def __init__(self, *args, client_ip, **kwargs):
        self.client_ip = client_ip
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def limits(self, cleaned):
        return address_limits(self.client_ip, cleaned)


class ManageForm(RateLimited, PreferencesForm):
    excluded_keywords = LinesField(
        label="Never show papers mentioning",
        help_text="Optional. One word or phrase per line; papers containing it are left out.",
        required=False,
        max_lines=MAX_EXCLUDED_KEYWORDS,
        max_line_length=MAX_KEYWORD_LENGTH,
        noun="keyword",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    papers_per_digest = forms.IntegerField(label="Papers per digest", min_value=1, max_value=50)
    skip_empty = forms.BooleanField(label="Send nothing on days without a good match", required=False)

    field_order = [
        "interests",
        "excluded_keywords",
        "frequency",
        "weekday",
        "send_hour",
        "timezone",
        "papers_per_digest",
        "skip_empty",
    ]
    SETTINGS = ("frequency", "weekday", "send_hour", "timezone", "papers_per_digest", "skip_empty")

    rate_limit_message = "Too many changes in a row. Please wait a while and try again."

    @classmethod
    def for_subscriber(cls, subscriber, data=None, client_ip=""):
        initial = {name: getattr(subscriber, name) for name in cls.SETTINGS}
        initial["interests"] = "\n".join(subscriber.text_interests(Interest.Kind.TOPIC))
        initial["excluded_keywords"] = "\n".join(subscriber.text_interests(Interest.Kind.EXCLUDE))
        form = cls(data, initial=initial)
        form.fields["interests"].required = not subscriber.seed_papers.exists()  # their papers are enough
        form.subscriber, form.client_ip = subscriber, client_ip
        return form

    def limits(self, cleaned):
        """Per manage link (its subscriber) and per client: saving is cheap now that the model
        runs in a worker, but every save still queues that worker."""
        return [
            ("manage-subscriber", str(self.subscriber.pk), settings.MANAGE_RATE_PER_SUBSCRIBER),
            ("manage-ip", self.client_ip, settings.MANAGE_RATE_PER_IP),
        ]

    def save(self, subscriber):
        """All of it or nothing: one transaction, with the subscriber's row locked, so a request
        killed half-way changes nothing and two saves at once never mix their interests."""
        with transaction.atomic():
            subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
            for name in self.SETTINGS:
                setattr(subscriber, name, self.cleaned_data[name])
            subscriber.save(update_fields=list(self.SETTINGS))
            subscriber.set_text_interests(Interest.Kind.TOPIC, self.cleaned_data["interests"])
            subscriber.set_text_interests(Interest.Kind.EXCLUDE, self.cleaned_data["excluded_keywords"])
            subscriber.interests_changed()
        return subscriber


class AddPapersForm(RateLimited, SeedPapersForm):
    """The manage page's "add your papers": rate limited per subscriber and per IP, since each
    entry costs lookups at arXiv and Semantic Scholar."""

    rate_limit_message = "You have added papers many times in a short while. Please try again in an hour."

    def __init__(self, *args, subscriber, client_ip, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.seed_subscriber, self.client_ip = subscriber, client_ip
        self.fields["papers"].label = "Add papers by arXiv id, link or DOI"
        self.fields["papers"].help_text = "One or more per line."

    def limits(self, cleaned):
        return [
            ("seed-ip", self.client_ip, settings.SEED_RATE_PER_IP),
            ("seed-subscriber", str(self.seed_subscriber.pk), settings.SEED_RATE_PER_SUBSCRIBER),
        ]

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not self.references():
            if cleaned.get("papers") or cleaned.get("papers_file"):
                raise ValidationError("All of these papers are on your list already.", code="nothing_new")
            raise ValidationError("Paste an arXiv id, link or DOI, or choose a file to upload.", code="required")
        return cleaned

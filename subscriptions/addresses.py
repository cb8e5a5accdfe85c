"""One mailbox, one subscription: the forms an address is typed in, and the key they share.

`victim@ｅxample.com` (a fullwidth e), `Victim@Example.com.` (a trailing dot), `victim@xn--...`
against its Unicode spelling, `vic.tim+news@googlemail.com` against `victim@gmail.com`: each
pair reaches one mailbox, so each pair must find one Subscriber, count against one rate limit
and never get a second row that mails the owner again. The address we mail is the one typed
(tidied by `tidy`); the key a mailbox is known by is `mailbox_key`.

What we refuse is refused before Django's syntax check, so the visitor reads why: control and
invisible characters (they hide what an address is), quoted local parts and IP-literal domains
(legal in RFC 5321, and used only to dodge exactly these checks).
"""

import contextlib
import unicodedata

import idna
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

# Providers whose rule is documented: dots in the local part are ignored and "+anything" is a
# tag on the same mailbox; googlemail.com is another name of gmail.com. Elsewhere the local
# part is the domain's business, and only case is folded (every mail host we know ignores it).
SAME_MAILBOX_DOMAINS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}

MAX_LENGTH = 254  # RFC 5321's limit for a forward path, and our column's
HIDDEN_CATEGORIES = {"Cc", "Cf", "Co", "Cs", "Zl", "Zp"}


def tidy(email: str) -> str:
    """The address as we store and mail it: NFKC (fullwidth and compatibility characters become
    plain ones), no surrounding space, lower case, the domain without trailing dots and in its
    IDNA (punycode) form. Never raises: a domain IDNA refuses stays as it is, for the checks."""
    email = unicodedata.normalize("NFKC", email or "").strip().lower()
    local, at, domain = email.rpartition("@")
    if not at:
        return email
    domain = domain.rstrip(".")
    with contextlib.suppress(idna.IDNAError):
        domain = idna.encode(domain, uts46=True).decode("ascii")
    return f"{local}@{domain}"


def mailbox_key(email: str) -> str:
    """The mailbox an address reaches: its tidy form, with the provider's own folding of dots and
    +tags where that is the rule (SAME_MAILBOX_DOMAINS)."""
    address = tidy(email)
    local, at, domain = address.rpartition("@")
    if at and domain in SAME_MAILBOX_DOMAINS:
        return f"{local.partition('+')[0].replace('.', '')}@{SAME_MAILBOX_DOMAINS[domain]}"
    return address


def validate_mailbox(email: str) -> None:
    """An address we will mail: one plain mailbox at a domain name, or a ValidationError that says what is wrong."""
    if any(unicodedata.category(char) in HIDDEN_CATEGORIES for char in email):
        raise ValidationError(
            "This address contains control or invisible characters. Type it again by hand.", code="control"
        )
    address = tidy(email)
    local, at, domain = address.rpartition("@")
    if local.startswith('"'):
        raise ValidationError(
            'Quoted addresses ("…"@example.org) are not accepted. Use the plain form, like you@example.org.',
            code="quoted",
        )
    if domain.startswith("[") or (domain and all(label.isdigit() for label in domain.split("."))):
        raise ValidationError(
            "Addresses at an IP address are not accepted. Use the domain name, like you@example.org.",
            code="ip_literal",
        )
    if len(address) > MAX_LENGTH:
        raise ValidationError(
            f"This address is {len(address)} characters long in plain letters; at most {MAX_LENGTH} fit.",
            code="too_long",
        )
    validate_email(address)

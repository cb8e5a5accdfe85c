"""Who is asking: the visitor's address, for rate limits (sign-up forms, admin sign-in)."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The visitor's address. Each of the TRUSTED_PROXY_HOPS proxies appends the address it saw
    to X-Forwarded-For, so the visitor is that many entries from the right; anything further
    left was written by the client and proves nothing. The header counts only when the request
    came through those proxies (each of them at a TRUSTED_PROXY_ADDRESSES address): a client
    that reaches the app directly is known by the address it connected from."""
    remote = request.META.get("REMOTE_ADDR") or "unknown"
    hops = settings.TRUSTED_PROXY_HOPS
    if not hops:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    chain = [*forwarded, remote]
    if len(chain) > hops and all(trusted_proxy(address) for address in chain[-hops:]):
        return chain[-hops - 1]
    return remote


def trusted_proxy(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in settings.TRUSTED_PROXY_ADDRESSES)

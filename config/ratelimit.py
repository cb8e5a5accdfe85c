"""Fixed-window rate limits on the Django cache (Redis in production, local memory embedded).

Identities (an IP, an email address) are hashed before they become cache keys, so the
cache never holds an address in clear. A window is the current period number, so a
counter lives exactly as long as its window and needs no clean-up.
"""

import hashlib
import time

from django.core.cache import cache

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate):
    """'20/h' -> (20, 3600). Also accepts a number of seconds: '5/300'."""
    try:
        count, per = rate.split("/")
        seconds = PERIODS[per] if per in PERIODS else int(per)
        return int(count), seconds
    except (ValueError, KeyError):
        raise ValueError(f"rate {rate!r} is not like '20/h' (a count per s, m, h, d or seconds)") from None


def _key(scope, identity, period):
    window = int(time.time() // period)
    digest = hashlib.sha256(identity.encode()).hexdigest()[:32]
    return f"ratelimit:{scope}:{digest}:{window}"


def exhausted(scope, identity, rate):
    """True when `identity` has used up this window's allowance; counts nothing."""
    limit, period = parse_rate(rate)
    return cache.get(_key(scope, identity, period), 0) >= limit


def allow(scope, identity, rate):
    """Count one attempt by `identity`; False once it has made more than `rate` allows."""
    limit, period = parse_rate(rate)
    key = _key(scope, identity, period)
    cache.add(key, 0, timeout=period)
    try:
        attempts = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=period)
        attempts = 1
    return attempts <= limit

"""Bearer tokens (site ingest tokens, personal API tokens): made here, stored only as hashes.

Tokens are 256 bits of randomness, so a plain SHA-256 is enough to store them (no
password-style stretching needed). A presented token is never compared with a stored one
character by character: it is hashed and the hash looked up in the database index, so the
time an answer takes tells an attacker nothing about how much of a real token they have
right (they would have to invert SHA-256 to steer the hash's prefix). Tokens are never
logged: neither the views nor Daphne's access log (which has no request headers) write
them, and `tests/security/test_tokens.py` checks the captured logs of real requests.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass


@dataclass(frozen=True)
class NewToken:
    raw: str  # shown once to the person, never stored
    prefix: str  # stored, to recognise the token in lists
    digest: str  # stored


# What token_new makes: a prefix and URL-safe base64 (letters, digits, "-" and "_").
_SHAPE = re.compile(r"[A-Za-z0-9_-]{8,200}")


def token_well_formed(raw: str, kind_prefix: str) -> bool:
    """Whether ``raw`` could be a token of this kind at all (anything else, such as a NUL,
    non-ASCII or a 100 kB value, is refused before it is hashed or looked up)."""
    return raw.startswith(kind_prefix) and _SHAPE.fullmatch(raw) is not None


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def token_new(kind_prefix: str) -> NewToken:
    raw = kind_prefix + secrets.token_urlsafe(32)
    return NewToken(raw=raw, prefix=raw[: len(kind_prefix) + 6], digest=token_digest(raw))

"""Bearer tokens (site ingest tokens, personal API tokens): made here, stored only as hashes.

Tokens are 256 bits of randomness, so a plain SHA-256 is enough to store them (no
password-style stretching needed), and looking one up by its hash is constant-time enough.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass


@dataclass(frozen=True)
class NewToken:
    raw: str  # shown once to the person, never stored
    prefix: str  # stored, to recognise the token in lists
    digest: str  # stored


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_new(kind_prefix: str) -> NewToken:
    raw = kind_prefix + secrets.token_urlsafe(32)
    return NewToken(raw=raw, prefix=raw[: len(kind_prefix) + 6], digest=token_digest(raw))

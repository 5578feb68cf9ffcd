"""Reversible encryption of secrets at rest (authorisation keys, pupil pincodes).

Fernet (AES-128-CBC + HMAC-SHA256, from the well-kept `cryptography` package). Keys come from
`KOPPEL_SECRET_KEYS` (comma-separated Fernet keys, newest first: older keys still decrypt, so keys
rotate without downtime). Without it (make run, tests) a key is generated once into
var/secret.key. Never log a decrypted value.
"""
from __future__ import annotations

import os
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from shared import config


@cache
def _fernet() -> MultiFernet:
    keys = [k.strip() for k in os.environ.get("KOPPEL_SECRET_KEYS", "").split(",") if k.strip()]
    if not keys:
        path = config.var_dir() / "secret.key"
        if not path.exists():
            path.write_bytes(Fernet.generate_key())
            path.chmod(0o600)
        keys = [path.read_text().strip()]
    return MultiFernet([Fernet(k.encode()) for k in keys])


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError("secret cannot be decrypted with the configured keys") from None


def hint(secret: str, visible: int = 4) -> str:
    """What the UI may show of a secret after saving: its last characters only."""
    return "•" * 8 + secret[-visible:] if len(secret) > visible * 2 else "•" * 8

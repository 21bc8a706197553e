"""Readers as keyed hashes, never as ids or names; the key lives in the environment or `.env`.

A hash of a Telegram id alone could be reversed by hashing every possible id; an HMAC with a
secret key cannot, yet the same reader always gets the same value, so distinct people can be
counted and /forget can find everything about one of them.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path

from bot.questionlog.schema import HASH_LENGTH

KEY_VARIABLE = "QUESTION_LOG_KEY"


class Pseudonymizer:
    """Turns Telegram ids into keyed hashes."""

    def __init__(self, key: str) -> None:
        if not key:
            raise ValueError("the question log needs a non-empty key")
        self._key = key.encode()

    def _hash(self, text: str) -> str:
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()[:HASH_LENGTH]

    def reader(self, user_id: int) -> str:
        return self._hash(f"reader:{user_id}")

    def message(self, chat_id: int, message_id: int) -> str:
        """A reference to one bot message (a private chat's id is its reader's id: hashed too)."""
        return self._hash(f"message:{chat_id}:{message_id}")


def ensure_key(env_file: Path, current: str | None) -> str:
    """The key from the environment, or a new one appended to `env_file` (created if missing)."""
    if current:
        return current
    key = secrets.token_urlsafe(32)
    prefix = ""
    if env_file.is_file():
        existing = env_file.read_text(encoding="utf-8")
        prefix = "" if not existing or existing.endswith("\n") else "\n"
    with env_file.open("a", encoding="utf-8") as handle:
        handle.write(
            f"{prefix}# Generated on first run: identifies readers in the question log by a keyed hash.\n"
        )
        handle.write(f"{KEY_VARIABLE}={key}\n")
    env_file.chmod(0o600)
    return key

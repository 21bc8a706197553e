"""Logging that can never leak the bot token.

httpx logs every request URL at INFO and python-telegram-bot logs the API URL at DEBUG; both
contain the token. Rather than trust every logger, each record is redacted as it is created,
so every handler (console, files, test capture) only ever sees the redacted text.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterable

from telegram.error import TelegramError

REDACTED = "<redacted>"
_installed_secrets: list[str] = []


def redact(text: str, secrets: Iterable[str] | None = None) -> str:
    """Replace every secret (and the token's secret half) in text."""
    for secret in _installed_secrets if secrets is None else secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


def _secret_parts(secrets: Iterable[str]) -> list[str]:
    parts = []
    for secret in secrets:
        if secret:
            parts.append(secret)
            if ":" in secret:  # a token's second half alone is still the secret
                parts.append(secret.split(":", 1)[1])
    return sorted(set(parts), key=len, reverse=True)


def install_redaction(secrets: Iterable[str]) -> None:
    """Make every log record created from now on free of the given secrets."""
    _installed_secrets[:] = _secret_parts(secrets)
    if getattr(logging.getLogRecordFactory(), "_redacting", False):
        return
    original = logging.getLogRecordFactory()

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = original(*args, **kwargs)
        if not _installed_secrets:
            return record
        try:
            message = record.getMessage()
        except Exception:  # a malformed log call must not break logging
            message = str(record.msg)
        record.msg, record.args = redact(message), ()
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, TelegramError):
            # Telegram's own errors say all there is to say; their tracebacks are library internals.
            record.exc_text = redact(f"{type(error).__name__}: {error}")
            record.exc_info = None
        elif error is not None and record.exc_info is not None:
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip())
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return record

    factory._redacting = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def configure_logging(level: str, secrets: Iterable[str]) -> None:
    """Console logging at `level`, with secrets redacted and request-URL chatter kept down."""
    install_redaction(secrets)
    logging.basicConfig(
        format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=getattr(logging, level), force=True
    )
    # httpx would log one INFO line per request (the long-poll included): noise, and URLs.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, getattr(logging, level)))
    logging.getLogger("httpcore").setLevel(max(logging.INFO, getattr(logging, level)))

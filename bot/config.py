"""Settings from the environment, then from `.env`: one place that knows every variable."""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_KNOWLEDGE_DIR = PROJECT_ROOT / "knowledge"
TOKEN_PATTERN = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{20,100}$")
USER_ID_PATTERN = re.compile(r"-?[0-9]{1,20}")
DEFAULT_RELOAD_MAX_LOSS = 0.10  # a reload losing more than this share of entries, phrasings or quotes is refused

TOKEN_HELP = """\
No valid Telegram bot token: TELEGRAM_BOT_TOKEN is {problem}.
To get a token, open a chat with @BotFather in Telegram, send /newbot and follow the steps; it
answers with a token like 123456789:AAE... Put it in the environment
(export TELEGRAM_BOT_TOKEN=...) or in a file named .env in the folder you start the bot from
(copy .env.example to .env and fill it in). To try the bot without Telegram, run:
python -m bot chat"""


class ConfigError(Exception):
    """A setting is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    """Every knob of the bot, read once at start."""

    token: str | None = field(default=None, repr=False)
    base_url: str | None = None
    log_level: str = "INFO"
    knowledge_dir: Path = DEFAULT_KNOWLEDGE_DIR
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_secret: str | None = field(default=None, repr=False)
    webhook_max_body_bytes: int = 1024 * 1024  # WEBHOOK_MAX_BODY_BYTES: larger bodies get 413 unread
    webhook_timeout: float = 10.0  # WEBHOOK_TIMEOUT_SECONDS: for a request's headers, and for its body
    webhook_connection_limit: int = 1000  # WEBHOOK_MAX_OPEN_CONNECTIONS (at most half the open-files limit)
    admin_user_ids: frozenset[int] = frozenset()
    flood_limit_per_minute: int = 20
    question_log: bool = True  # QUESTION_LOG=off turns the question log off
    database_url: str | None = field(default=None, repr=False)  # None: the SQLite file next to .env
    question_log_key: str | None = field(default=None, repr=False)
    retention_days: int = 90
    reload_max_loss: float = DEFAULT_RELOAD_MAX_LOSS  # RELOAD_MAX_LOSS, a fraction from 0 to 1
    shutdown_grace_seconds: float = 10.0  # SIGTERM: how long pending replies may still go out
    update_backlog: int = 1000  # updates being answered at once before fetching pauses

    def require_token(self) -> str:
        """The token, or a ConfigError that explains how to get one."""
        if not self.token:
            raise ConfigError(TOKEN_HELP.format(problem="not set"))
        if not TOKEN_PATTERN.match(self.token):
            raise ConfigError(TOKEN_HELP.format(problem="malformed (expected digits, a colon, then letters)"))
        return self.token


def read_environment(env_file: Path | None = None) -> dict[str, str]:
    """The process environment over the values of `.env` (the environment wins)."""
    path = env_file if env_file is not None else Path.cwd() / ".env"
    values: dict[str, str] = {}
    if path.is_file():
        from dotenv import dotenv_values  # imported only when there is a .env file to read

        values = {k: v for k, v in dotenv_values(path).items() if v is not None}
    values.update(os.environ)
    return values


def load_settings(
    env: dict[str, str] | None = None,
    knowledge_dir: str | None = None,
    *,
    telegram: bool = True,
    question_log: bool = True,
) -> Settings:
    """Settings from `env` (default: environment + .env); `knowledge_dir` overrides KNOWLEDGE_DIR.

    A command checks only the settings it uses: with `telegram=False` (ask, chat, check, eval) a
    malformed Telegram-only setting is ignored, with `question_log=False` a malformed question-log
    one: a typo in ADMIN_USER_IDS or DATABASE_URL must not stop someone asking a question in the
    terminal. Ignored settings keep their defaults.
    """
    env = read_environment() if env is None else env

    def get(name: str) -> str | None:
        value = env.get(name, "").strip()
        return value or None

    folder = knowledge_dir or get("KNOWLEDGE_DIR")
    knowledge = Path(folder).expanduser() if folder else DEFAULT_KNOWLEDGE_DIR
    try:
        log_settings = _question_log_settings(get)
    except ConfigError:
        if question_log:
            raise
        log_settings = (True, None, None, Settings.retention_days)
    try:
        settings = _telegram_settings(get, knowledge)
    except ConfigError:
        if telegram:
            raise
        settings = Settings(token=get("TELEGRAM_BOT_TOKEN"), knowledge_dir=knowledge)
    enabled, url, key, days = log_settings
    return dataclasses.replace(
        settings, question_log=enabled, database_url=url, question_log_key=key, retention_days=days
    )


def _question_log_settings(get: Callable[[str], str | None]) -> tuple[bool, str | None, str | None, int]:
    """DATABASE_URL, QUESTION_LOG, QUESTION_LOG_KEY, QUESTION_LOG_RETENTION_DAYS (the report needs them too)."""
    switch = (get("QUESTION_LOG") or "on").lower()
    if switch not in {"on", "off"}:
        raise ConfigError(f"QUESTION_LOG must be on or off, got {switch!r}")
    days = get("QUESTION_LOG_RETENTION_DAYS") or "90"
    if not days.isdecimal() or int(days) < 1:
        raise ConfigError(f"QUESTION_LOG_RETENTION_DAYS must be a positive whole number, got {days!r}")
    url = get("DATABASE_URL")
    if url and not re.match(r"^(sqlite|postgresql|postgres)(\+\w+)?://", url):
        raise ConfigError("DATABASE_URL must start with sqlite:// or postgresql://")
    return switch == "on", url, get("QUESTION_LOG_KEY"), int(days)


def _telegram_settings(get: Callable[[str], str | None], knowledge: Path) -> Settings:
    """The settings only `run` needs; WEBHOOK_* are checked only when WEBHOOK_URL asks for a webhook."""
    webhook_url = get("WEBHOOK_URL")
    port_text = (get("WEBHOOK_PORT") if webhook_url else None) or "8443"
    if not port_text.isdecimal() or not 0 < int(port_text) < 65536:
        raise ConfigError(f"WEBHOOK_PORT must be a port number from 1 to 65535, got {port_text!r}")
    flood_text = get("FLOOD_LIMIT_PER_MINUTE") or "20"
    if not flood_text.isdecimal() or int(flood_text) < 1:
        raise ConfigError(f"FLOOD_LIMIT_PER_MINUTE must be a positive whole number, got {flood_text!r}")
    grace_text = get("SHUTDOWN_GRACE_SECONDS") or "10"
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)?", grace_text) or float(grace_text) > 3600:
        raise ConfigError(f"SHUTDOWN_GRACE_SECONDS must be a number of seconds from 0 to 3600, got {grace_text!r}")
    backlog_text = get("UPDATE_BACKLOG") or "1000"
    if not backlog_text.isdecimal() or int(backlog_text) < 1:
        raise ConfigError(f"UPDATE_BACKLOG must be a positive whole number, got {backlog_text!r}")
    admins = set()
    for part in (get("ADMIN_USER_IDS") or "").replace(";", ",").split(","):
        if part.strip():
            if not USER_ID_PATTERN.fullmatch(part.strip()):
                raise ConfigError(f"ADMIN_USER_IDS must be numeric Telegram user ids, got {part.strip()!r}")
            admins.add(int(part))
    level = (get("LOG_LEVEL") or "INFO").upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise ConfigError(f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, got {level!r}")
    secret = get("WEBHOOK_SECRET")
    if webhook_url and not (secret and re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret)):
        raise ConfigError(
            "WEBHOOK_URL is set, so WEBHOOK_SECRET is required: 1-256 characters of A-Z, a-z, 0-9, _ and -"
        )
    body_bytes, timeout, connections = _webhook_limits(get if webhook_url else lambda _name: None)
    return Settings(
        token=get("TELEGRAM_BOT_TOKEN"),
        base_url=get("TELEGRAM_BASE_URL"),
        log_level=level,
        knowledge_dir=knowledge,
        webhook_url=webhook_url,
        webhook_listen=get("WEBHOOK_LISTEN") or "127.0.0.1",
        webhook_port=int(port_text),
        webhook_secret=secret,
        admin_user_ids=frozenset(admins),
        flood_limit_per_minute=int(flood_text),
        reload_max_loss=_fraction(get("RELOAD_MAX_LOSS"), "RELOAD_MAX_LOSS", DEFAULT_RELOAD_MAX_LOSS),
        webhook_max_body_bytes=body_bytes,
        webhook_timeout=timeout,
        webhook_connection_limit=connections,
        shutdown_grace_seconds=float(grace_text),
        update_backlog=int(backlog_text),
    )


def _fraction(text: str | None, name: str, default: float) -> float:
    """A share from 0 to 1, written 0.1 or 10%."""
    if text is None:
        return default
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:  # also refuses nan
        raise ConfigError(f"{name} must be a fraction from 0 to 1 (like 0.1) or a percentage (like 10%), got {text!r}")
    return value


def _webhook_limits(get: Callable[[str], str | None]) -> tuple[int, int, int]:
    """WEBHOOK_MAX_BODY_BYTES, WEBHOOK_TIMEOUT_SECONDS, WEBHOOK_MAX_OPEN_CONNECTIONS: what one client may cost."""
    values = []
    for name, default in (
        ("WEBHOOK_MAX_BODY_BYTES", "1048576"),
        ("WEBHOOK_TIMEOUT_SECONDS", "10"),
        ("WEBHOOK_MAX_OPEN_CONNECTIONS", "1000"),
    ):
        text = get(name) or default
        if not text.isdecimal() or int(text) < 1:
            raise ConfigError(f"{name} must be a positive whole number, got {text!r}")
        values.append(int(text))
    return values[0], values[1], values[2]

"""The database behind the question log: one SQLAlchemy engine, SQLite file or PostgreSQL server.

Every method is synchronous and short; the bot calls them only from the writer thread (see
``writer``), the command line calls them directly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, create_engine, delete, func, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from bot.questionlog.schema import READER_TABLES, languages, migrate, picks, questions, votes

DEFAULT_URL = "sqlite:///questions.sqlite3"  # relative to the folder the bot starts in, next to .env
SQLITE_BUSY_SECONDS = 2.0  # a locked file is waited for this long, then the write counts as failed
POSTGRES_CONNECT_SECONDS = 3


def database_url(url: str | None) -> str:
    """The SQLAlchemy URL for DATABASE_URL: postgresql://… goes through psycopg 3."""
    url = (url or DEFAULT_URL).strip()
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return url


def safe_url(url: str) -> str:
    """The URL with any password masked, for log lines and messages."""
    return make_url(database_url(url)).render_as_string(hide_password=True)


def utcnow() -> dt.datetime:
    """Naive UTC: the same on SQLite (no time zones) and PostgreSQL."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class QuestionRow:
    """One question as the bot handled it (the reader already hashed)."""

    reader: str
    chat_type: str
    lang: str
    question: str
    outcome: str
    entry: str | None
    score: float
    suggestions: Sequence[str]
    reply_ref: str | None
    asked_at: dt.datetime | None = None


@dataclass(frozen=True)
class Forgotten:
    """What /forget removed."""

    questions: int
    votes: int
    picks: int
    language: int = 0  # the /language choice (0 or 1)

    @property
    def total(self) -> int:
        return self.questions + self.votes + self.picks + self.language


class Store:
    """Reads and writes the question log; creates or migrates the schema on first use."""

    def __init__(self, url: str | None) -> None:
        sa_url = make_url(database_url(url))
        args: dict[str, Any] = {}
        if sa_url.get_backend_name() == "sqlite":
            args["timeout"] = SQLITE_BUSY_SECONDS
        elif sa_url.get_backend_name() == "postgresql":
            args["connect_timeout"] = POSTGRES_CONNECT_SECONDS
        # No pool: a connection that broke while the server was away is never handed out again.
        self.engine: Engine = create_engine(sa_url, connect_args=args, poolclass=NullPool)
        self._migrated = False

    def ensure_schema(self) -> None:
        if not self._migrated:
            with self.engine.begin() as connection:
                migrate(connection)
            self._migrated = True

    def add_questions(self, rows: Sequence[QuestionRow]) -> None:
        self.ensure_schema()
        now = utcnow()
        values = [
            {
                "asked_at": row.asked_at or now,
                "reader": row.reader,
                "chat_type": row.chat_type,
                "lang": row.lang,
                "question": row.question,
                "outcome": row.outcome,
                "entry": row.entry,
                "score": round(row.score, 2),
                "suggestions": " ".join(row.suggestions),
                "reply_ref": row.reply_ref,
            }
            for row in rows
        ]
        with self.engine.begin() as connection:
            connection.execute(questions.insert(), values)

    def vote(self, reader: str, reply_ref: str, entry: str, value: int) -> None:
        """One vote per reader per answer: a second press changes it."""
        self.ensure_schema()
        with self.engine.begin() as connection:
            changed = connection.execute(
                update(votes)
                .where(votes.c.reader == reader, votes.c.reply_ref == reply_ref)
                .values(value=value, entry=entry, voted_at=utcnow())
            ).rowcount
            if not changed:
                connection.execute(
                    votes.insert().values(
                        voted_at=utcnow(), reader=reader, reply_ref=reply_ref, entry=entry, value=value
                    )
                )

    def pick(
        self, reader: str, entry: str, via: str, reply_ref: str | None = None, question: str | None = None
    ) -> None:
        self.ensure_schema()
        with self.engine.begin() as connection:
            connection.execute(
                picks.insert().values(
                    picked_at=utcnow(),
                    reader=reader,
                    entry=entry,
                    via=via,
                    reply_ref=reply_ref,
                    question=question,
                )
            )

    def language(self, reader: str) -> str | None:
        """The reader's /language choice, if they made one."""
        self.ensure_schema()
        with self.engine.connect() as connection:
            found = connection.execute(select(languages.c.lang).where(languages.c.reader == reader))
            return found.scalar_one_or_none()

    def set_language(self, reader: str, lang: str) -> None:
        """Remember a /language choice; a second choice replaces the first."""
        self.ensure_schema()
        with self.engine.begin() as connection:
            changed = connection.execute(
                update(languages).where(languages.c.reader == reader).values(lang=lang, chosen_at=utcnow())
            ).rowcount
            if not changed:
                connection.execute(languages.insert().values(reader=reader, lang=lang, chosen_at=utcnow()))

    def forget(self, reader: str) -> Forgotten:
        """Delete every row about one reader."""
        self.ensure_schema()
        with self.engine.begin() as connection:
            counts = [
                connection.execute(delete(table).where(table.c.reader == reader)).rowcount
                for table in READER_TABLES
            ]
        return Forgotten(*counts)

    def purge(self, retention_days: int, now: dt.datetime | None = None) -> int:
        """Delete rows older than the retention period; returns how many."""
        self.ensure_schema()
        cutoff = (now or utcnow()) - dt.timedelta(days=retention_days)
        with self.engine.begin() as connection:
            return sum(
                connection.execute(delete(table).where(column < cutoff)).rowcount
                for table, column in (
                    (questions, questions.c.asked_at),
                    (votes, votes.c.voted_at),
                    (picks, picks.c.picked_at),
                )
            )

    def count_questions(self) -> int:
        self.ensure_schema()
        with self.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(questions)).scalar_one())

    def dispose(self) -> None:
        self.engine.dispose()

"""Tables of the question log, and the migrations that bring any older database up to date.

Each migration is one function, applied once in its own transaction and recorded in
``schema_version``; a new release appends a function, it never edits an old one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Float,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    inspect,
    select,
)

HASH_LENGTH = 32  # hex characters of a keyed hash (128 bits): plenty to count people, nothing to reverse

metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("applied_at", DateTime, nullable=False),
)

questions = Table(
    "questions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("asked_at", DateTime, nullable=False, index=True),
    Column("reader", String(HASH_LENGTH), nullable=False, index=True),  # keyed hash, never the id
    Column("chat_type", String(16), nullable=False),  # private, group, inline
    Column("lang", String(8), nullable=False),
    Column("question", Text, nullable=False),  # as matched (cleaned, capped)
    Column("outcome", String(16), nullable=False),  # answer, clarify, decline
    Column("entry", String(64)),
    Column("score", Float, nullable=False),
    Column("suggestions", Text, nullable=False),  # entry ids offered, space-separated
    Column("reply_ref", String(HASH_LENGTH), index=True),  # keyed hash of the bot's reply message
)

votes = Table(
    "votes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("voted_at", DateTime, nullable=False, index=True),
    Column("reader", String(HASH_LENGTH), nullable=False, index=True),
    Column("reply_ref", String(HASH_LENGTH), nullable=False),
    Column("entry", String(64), nullable=False),
    Column("value", SmallInteger, nullable=False),  # +1 or -1
    UniqueConstraint("reader", "reply_ref", name="one_vote_per_reader_per_answer"),
)

picks = Table(
    "picks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("picked_at", DateTime, nullable=False, index=True),
    Column("reader", String(HASH_LENGTH), nullable=False, index=True),
    Column("entry", String(64), nullable=False),
    Column("via", String(16), nullable=False),  # button (under a reply) or inline (chosen result)
    Column("reply_ref", String(HASH_LENGTH), index=True),  # the message whose button was pressed
    Column("question", Text),  # the wording, when known at once (inline); else via reply_ref
)

# A reader's /language choice: a setting, kept until /forget (not purged with the log's rows).
languages = Table(
    "languages",
    metadata,
    Column("reader", String(HASH_LENGTH), primary_key=True),  # keyed hash, never the id
    Column("lang", String(8), nullable=False),
    Column("chosen_at", DateTime, nullable=False),
)

READER_TABLES = (questions, votes, picks, languages)  # every table that holds anything about a reader


def _v1(connection: Connection) -> None:
    """The first schema: questions, votes and picks."""
    for table in (questions, votes, picks):
        table.create(connection, checkfirst=True)


def _v2(connection: Connection) -> None:
    """Readers' /language choices."""
    languages.create(connection, checkfirst=True)


MIGRATIONS: tuple[Callable[[Connection], None], ...] = (_v1, _v2)
SCHEMA_VERSION = len(MIGRATIONS)


def current_version(connection: Connection) -> int:
    if not inspect(connection).has_table(schema_version.name):
        return 0
    return int(connection.execute(select(func.coalesce(func.max(schema_version.c.version), 0))).scalar_one())


def migrate(connection: Connection) -> int:
    """Apply every migration the database has not had yet; returns the version it is at now."""
    schema_version.create(connection, checkfirst=True)
    version = current_version(connection)
    if version > SCHEMA_VERSION:
        raise RuntimeError(
            f"the question log has schema version {version}, newer than this bot knows ({SCHEMA_VERSION})"
        )
    for number, step in enumerate(MIGRATIONS[version:], start=version + 1):
        step(connection)
        connection.execute(
            schema_version.insert().values(
                version=number, applied_at=dt.datetime.now(dt.UTC).replace(tzinfo=None)
            )
        )
    return SCHEMA_VERSION

"""Databases for the question-log tests: a fresh SQLite file, or a fresh database on a real PostgreSQL.

PostgreSQL comes from TEST_POSTGRES_URL (``.ci/postgres`` starts a throwaway server and sets it);
without it, a cluster of the suite's own when the server binaries are installed; otherwise the
PostgreSQL variants are skipped, saying why.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.engine import make_url

from bot.questionlog.store import database_url

BACKENDS = ["sqlite", "postgresql"]


def fresh_postgres_database(server_url: str) -> str:
    """CREATE DATABASE with a unique name on the server; returns its URL."""
    name = f"qlog_{uuid.uuid4().hex[:12]}"
    admin = create_engine(database_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(database_url(server_url)).set(database=name).render_as_string(hide_password=False)


def database_for(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'questions.sqlite3'}"
    server = request.getfixturevalue("postgres_server")
    return fresh_postgres_database(server)


def all_rows(url: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, for checks on what is stored."""
    engine = create_engine(database_url(url))
    try:
        with engine.connect() as connection:
            tables = inspect(connection).get_table_names()
            from sqlalchemy import MetaData

            meta = MetaData()
            meta.reflect(connection, only=tables)
            return {
                name: [dict(r._mapping) for r in connection.execute(select(meta.tables[name]))]
                for name in tables
            }
    finally:
        engine.dispose()

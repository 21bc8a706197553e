"""Fixtures of the question-log tests; modules load them with ``pytest_plugins = ["conftest_questionlog"]``."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from pg_cluster import Cluster, unavailable_reason


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a PostgreSQL server the tests may create databases on."""
    url = os.environ.get("TEST_POSTGRES_URL")
    if url:
        yield url
        return
    reason = unavailable_reason()
    if reason is not None:
        print(f"\nPostgreSQL tests skipped: {reason}")
        pytest.skip(f"PostgreSQL: {reason}")
    cluster = Cluster().init().start()
    try:
        yield cluster.url
    finally:
        cluster.destroy()

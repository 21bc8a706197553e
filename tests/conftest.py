"""Shared fixtures: the real knowledge folder, one engine built from it, and broken copies of it."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.engine import Engine
from bot.engine_cache import CACHE_ENV

# Built engines are cached on disk (bot.engine_cache): the suite, and the CLI processes it starts,
# use a folder of their own, never the user's, removed when the run ends (a folder given in the
# environment is the caller's to keep).
if CACHE_ENV not in os.environ:
    _suite_cache = tempfile.mkdtemp(prefix="bot-engine-cache-")
    os.environ[CACHE_ENV] = _suite_cache
    atexit.register(shutil.rmtree, _suite_cache, ignore_errors=True)

REPO_ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE_DIR = REPO_ROOT / "knowledge"
CLI_TIMEOUT = 120  # seconds; a CLI call that takes longer is hung, not slow


@pytest.fixture(scope="session")
def knowledge_dir() -> Path:
    """The real knowledge folder of the project."""
    return KNOWLEDGE_DIR


@pytest.fixture(scope="session")
def engine(knowledge_dir: Path) -> Engine:
    """One engine over the real knowledge, shared by every test (it is immutable)."""
    return Engine.load(knowledge_dir)


BrokenKnowledge = Callable[..., Path]


@pytest.fixture
def broken_knowledge(tmp_path: Path) -> BrokenKnowledge:
    """Factory: copy the real knowledge folder to tmp_path/knowledge and apply one edit to one file.

    ``broken_knowledge("faq.yaml", replace=("old", "new"))``  replace text (str or bytes; must occur)
    ``broken_knowledge("faq.yaml", append="more: text\\n")``  append text (str or bytes)
    ``broken_knowledge("faq.yaml", write=b"...")``           overwrite (or create) the file
    ``broken_knowledge("article.txt", delete=True)``          remove the file
    ``broken_knowledge()``                                    just the copy

    Calls within one test edit the same copy, so edits can be combined. The copy is named
    ``knowledge`` like the real one, so problems read ``knowledge/<file>:<line>: ...``.
    """
    folder = tmp_path / "knowledge"

    def make(
        file: str | None = None,
        *,
        replace: tuple[str | bytes, str | bytes] | None = None,
        append: str | bytes | None = None,
        write: str | bytes | None = None,
        delete: bool = False,
        count: int = 1,
    ) -> Path:
        if not folder.exists():
            shutil.copytree(KNOWLEDGE_DIR, folder)
            for path in folder.rglob("*"):  # copies keep the originals' read-only bits
                path.chmod(0o755 if path.is_dir() else 0o644)
        if file is None:
            return folder
        path = folder / file
        if delete:
            path.unlink()
            return folder
        if write is not None:
            path.write_bytes(write.encode() if isinstance(write, str) else write)
            return folder
        data = path.read_bytes()
        if replace is not None:
            old, new = (part.encode() if isinstance(part, str) else part for part in replace)
            assert old in data, f"test setup: {old!r} is not in {file}"
            data = data.replace(old, new, count)
        if append is not None:
            if data and not data.endswith(b"\n"):
                data += b"\n"
            data += append.encode() if isinstance(append, str) else append
        path.write_bytes(data)
        return folder

    return make


def _cli_env(**overrides: str | None) -> dict[str, str]:
    """The environment for a `python -m bot` subprocess: this repo importable, no bot settings leaking in."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"KNOWLEDGE_DIR", "TELEGRAM_BOT_TOKEN", "WEBHOOK_URL", "PYTHONSTARTUP"}
    }
    env["PYTHONPATH"] = str(REPO_ROOT)
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


RunCli = Callable[..., subprocess.CompletedProcess]


@pytest.fixture
def run_cli(tmp_path: Path) -> RunCli:
    """Run `python -m bot ARGS` in a scratch directory (so no stray .env applies); bytes in and out."""
    workdir = tmp_path / "cwd"
    workdir.mkdir(exist_ok=True)

    def run(*args: str, input: bytes | str | None = None, env: dict[str, str | None] | None = None):
        """`env` holds overrides on top of the clean environment (None removes a variable)."""
        data = input.encode() if isinstance(input, str) else input
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            input=data if data is not None else b"",
            capture_output=True,
            cwd=workdir,
            env=_cli_env(**(env or {})),
            timeout=CLI_TIMEOUT,
            check=False,
        )

    return run

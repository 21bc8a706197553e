"""Built engines kept on disk, so a one-off `python -m bot ask` does not re-analyse the knowledge.

Loading and indexing the knowledge folder analyses every phrasing with the Russian and Ukrainian
dictionaries: most of a fresh process's time. The built engine depends only on the knowledge files
and on the code and libraries that read them, so it is stored under a digest of exactly those: the
content of every file in the knowledge folder (and the article text file, wherever it is), the
source and data files of the `bot` package, the Python version and the installed files of the
language libraries. Any change gives another digest, so a cached engine is never stale; a missing,
unreadable or corrupt file is simply rebuilt, and the folder is safe to delete at any time.
Only a knowledge folder that loaded without problems is ever stored.

The folder is BOT_CACHE_DIR (`off` disables the cache), else $XDG_CACHE_HOME/istanbul-talks-bot,
else ~/.cache/istanbul-talks-bot. The Zipf tables are kept there too, in marshal format (a few
milliseconds to read instead of a gzip-compressed text to parse).
"""

from __future__ import annotations

import hashlib
import importlib.util
import marshal
import os
import pickle
import re
import sys
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from bot.analysis import install_frequencies
from bot.frequencies import TABLE, load_table

if TYPE_CHECKING:
    from bot.engine import Engine

CACHE_ENV = "BOT_CACHE_DIR"
FORMAT = b"engine-cache 1"
KEEP = 8  # engines kept per cache folder (the newest); older ones are deleted on each write
PACKAGE = Path(__file__).resolve().parent
# Libraries whose behaviour shapes a built engine: a reinstall or upgrade changes their files.
LIBRARIES = (
    "pymorphy3",
    "pymorphy3_dicts_ru",
    "pymorphy3_dicts_uk",
    "stop_words",
    "Stemmer",
    "rapidfuzz",
    "yaml",
    "confusable_homoglyphs",
)
_TEXT_FILE = re.compile(r"^text_file:\s*(.+?)\s*$", re.MULTILINE)


def cache_folder() -> Path | None:
    """Where engines are kept, or None when caching is off."""
    configured = os.environ.get(CACHE_ENV, "").strip()
    if configured.lower() == "off":
        return None
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or Path.home() / ".cache"
    return Path(base) / "istanbul-talks-bot"


@lru_cache(maxsize=1)
def code_version() -> str:
    """Digest of everything besides the knowledge that a built engine depends on."""
    digest = hashlib.sha256(FORMAT)
    digest.update(sys.version.encode())
    for path in sorted(PACKAGE.rglob("*")):
        if path.is_file() and path.suffix in {".py", ".gz", ".tsv"} and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(PACKAGE)).encode() + b"\0" + path.read_bytes() + b"\0")
    for name in LIBRARIES:
        spec = importlib.util.find_spec(name)
        origin = spec.origin if spec else None
        if origin:
            stat = os.stat(origin)
            digest.update(f"{name}:{origin}:{stat.st_size}:{stat.st_mtime_ns}".encode())
        else:
            digest.update(f"{name}: missing".encode())
    return digest.hexdigest()


def knowledge_digest(folder: Path) -> str | None:
    """Digest of every file the loader may read for this folder; None when that cannot be told."""
    folder = Path(folder)
    if not folder.is_dir():
        return None
    files = {path for path in folder.rglob("*") if path.is_file()}
    try:
        found = _TEXT_FILE.search((folder / "article.yaml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return None
    if found is None:
        return None
    files.add(folder / found.group(1).strip("'\""))
    digest = hashlib.sha256(code_version().encode())
    for path in sorted(files):
        try:
            content = path.read_bytes()
        except OSError:
            return None
        digest.update(os.fsencode(os.path.relpath(path, folder)) + b"\0" + content + b"\0")
    return digest.hexdigest()


def load_cached(folder: Path) -> Engine | None:
    """The engine stored for this folder's exact files, if any."""
    cache, key = cache_folder(), knowledge_digest(folder)
    if cache is None or key is None:
        return None
    try:
        with open(cache / f"{key}.engine", "rb") as stream:
            engine = pickle.load(stream)
    except Exception:  # missing, unreadable, truncated or from another build: rebuild
        return None
    from bot.engine import Engine

    return engine if isinstance(engine, Engine) else None


def store(folder: Path, engine: Engine) -> None:
    """Keep a freshly built engine (best effort: a read-only or full disk only costs speed)."""
    cache, key = cache_folder(), knowledge_digest(folder)
    if cache is None or key is None:
        return
    try:
        _write(cache, f"{key}.engine", pickle.dumps(engine, protocol=pickle.HIGHEST_PROTOCOL))
        engines = sorted(cache.glob("*.engine"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in engines[KEEP:]:
            old.unlink(missing_ok=True)
    except OSError:
        pass


def prepare_frequencies(languages: tuple[str, ...]) -> None:
    """Read these languages' Zipf tables, from the cache's marshal copy when it has one."""
    cache = cache_folder()
    version = code_version()[:16] if cache is not None else ""
    missing = []
    for lang in languages:
        try:
            if cache is None:
                raise OSError
            with open(cache / f"zipf-{version}-{lang}.marshal", "rb") as stream:
                table = marshal.loads(stream.read())  # marshal.load reads a file piecemeal: slow
            if not isinstance(table, dict):
                raise ValueError
            install_frequencies({lang: table})
        except (OSError, ValueError, EOFError, TypeError):
            missing.append(lang)
    if not missing:
        return
    tables = load_table(TABLE, tuple(missing))
    install_frequencies(tables)
    if cache is None:
        return
    try:
        for lang, table in tables.items():
            _write(cache, f"zipf-{version}-{lang}.marshal", marshal.dumps(table))
        for old in cache.glob("zipf-*.marshal"):  # another version's copies
            if not old.name.startswith(f"zipf-{version}-"):
                old.unlink(missing_ok=True)
    except OSError:
        pass


def _write(cache: Path, name: str, data: bytes) -> None:
    """Written to a temporary file, then renamed: a reader never sees half a file."""
    import tempfile  # only when writing
    cache.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=cache, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, cache / name)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


"""The on-disk engine cache: a hit answers exactly like a fresh build, and any change is a miss."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from bot import engine_cache
from bot.engine import Engine
from bot.evaluation import load_questions
from bot.loader import KnowledgeError, load_knowledge
from bot.render import reply_to_dict

QUESTIONS = Path(__file__).resolve().parent / "questions.yaml"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(engine_cache.CACHE_ENV, str(folder))
    return folder


def test_a_cached_engine_answers_like_a_fresh_one(cache: Path, knowledge_dir: Path):
    assert engine_cache.load_cached(knowledge_dir) is None
    built = Engine.load(knowledge_dir)
    assert len(list(cache.glob("*.engine"))) == 1
    cached = engine_cache.load_cached(knowledge_dir)
    assert cached is not None and cached is not built
    fresh = Engine(load_knowledge(knowledge_dir))
    for question in [q.text for q in load_questions(QUESTIONS)]:
        assert reply_to_dict(cached.ask(question)) == reply_to_dict(fresh.ask(question)), question


def test_any_change_to_the_knowledge_is_a_miss(cache: Path, broken_knowledge):
    folder = broken_knowledge()
    Engine.load(folder)
    assert engine_cache.load_cached(folder) is not None
    (folder / "faq.yaml").write_bytes((folder / "faq.yaml").read_bytes() + b"\n# a comment\n")
    assert engine_cache.load_cached(folder) is None
    before = engine_cache.knowledge_digest(folder)
    (folder / "extra.yaml").write_text("# a new file\n")
    assert engine_cache.knowledge_digest(folder) != before


def test_a_changed_article_is_a_miss_and_still_refused(cache: Path, broken_knowledge):
    folder = broken_knowledge()
    Engine.load(folder)
    broken_knowledge("article.txt", replace=("Kremlin", "Kremlim"), count=-1)
    assert engine_cache.load_cached(folder) is None
    with pytest.raises(KnowledgeError):
        Engine.load(folder)


def test_broken_knowledge_is_never_stored(cache: Path, broken_knowledge):
    folder = broken_knowledge("faq.yaml", append="  - id: [unclosed\n")
    with pytest.raises(KnowledgeError):
        Engine.load(folder)
    assert not list(cache.glob("*.engine"))


def test_a_corrupt_cache_file_is_rebuilt(cache: Path, knowledge_dir: Path):
    Engine.load(knowledge_dir)
    (stored,) = cache.glob("*.engine")
    stored.write_bytes(stored.read_bytes()[:1000])
    assert engine_cache.load_cached(knowledge_dir) is None
    assert Engine.load(knowledge_dir).ask("Who is Peskov?").entry is not None
    assert isinstance(pickle.loads(stored.read_bytes()), Engine)  # written afresh


def test_the_code_version_covers_the_package(cache: Path, knowledge_dir: Path, monkeypatch):
    before = engine_cache.knowledge_digest(knowledge_dir)
    engine_cache.code_version.cache_clear()
    monkeypatch.setattr(engine_cache, "FORMAT", b"another format")
    try:
        assert engine_cache.knowledge_digest(knowledge_dir) != before
    finally:
        engine_cache.code_version.cache_clear()


def test_off_writes_nothing(tmp_path: Path, knowledge_dir: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(engine_cache.CACHE_ENV, "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    Engine.load(knowledge_dir)
    assert engine_cache.load_cached(knowledge_dir) is None
    assert not list(tmp_path.rglob("*.engine"))

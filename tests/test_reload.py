"""Reloading knowledge: validated before it serves, swapped whole, never half-loaded."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from bot.engine import Engine, EngineHolder
from bot.loader import KnowledgeError

QUESTION = "When were the talks held?"
OLD = "question: When were the talks held?"
NEW = "question: When were the talks held (revised)?"


def _versions(tmp_path: Path, knowledge_dir: Path) -> tuple[Path, str, str]:
    folder = tmp_path / "knowledge"
    shutil.copytree(knowledge_dir, folder)
    faq = folder / "faq.yaml"
    old = faq.read_text(encoding="utf-8")
    assert OLD in old
    # The English answers only (an entry's own key, four spaces in), not its ru/uk answers.
    revised = old.replace(OLD, NEW).replace("\n    answer: >-\n", "\n    answer: >-\n      (revised)\n")
    return folder, old, revised


def test_broken_reload_keeps_serving_the_previous_knowledge(tmp_path: Path, knowledge_dir: Path) -> None:
    folder, old, _ = _versions(tmp_path, knowledge_dir)
    holder = EngineHolder(Engine.load(folder), folder)
    before = holder.engine
    (folder / "faq.yaml").write_text(old + "\n  - id: [broken\n", encoding="utf-8")
    with pytest.raises(KnowledgeError) as caught:
        holder.reload()
    assert "faq.yaml" in str(caught.value)
    assert holder.engine is before
    assert holder.engine.ask(QUESTION).matched


def test_replies_during_reloads_come_from_one_version(tmp_path: Path, knowledge_dir: Path) -> None:
    """While one thread reloads back and forth, every reply's question and answer agree."""
    folder, old, new = _versions(tmp_path, knowledge_dir)
    holder = EngineHolder(Engine.load(folder), folder)
    stop = threading.Event()
    mixed: list[str] = []

    def reload_back_and_forth() -> None:
        texts = [new, old]
        count = 0
        while not stop.is_set() and count < 30:
            (folder / "faq.yaml").write_text(texts[count % 2], encoding="utf-8")
            holder.reload()
            count += 1

    reloader = threading.Thread(target=reload_back_and_forth)
    reloader.start()
    seen = set()
    try:
        while reloader.is_alive():
            reply = holder.engine.ask(QUESTION)
            assert reply.entry is not None
            revised_question = "(revised)" in reply.entry.question
            revised_answer = reply.entry.answer.startswith("(revised)")
            seen.add(revised_question)
            if revised_question != revised_answer:
                mixed.append(reply.entry.question)
    finally:
        stop.set()
        reloader.join()
    assert not mixed
    assert seen == {True, False}, "the reloads were never observed"

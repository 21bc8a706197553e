"""Reloading knowledge: validated before it serves, swapped whole, never half-loaded."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from torn_files import torn_faq

from bot.completeness import KnowledgeSize, ReloadRefused, losses
from bot.config import ConfigError, load_settings
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


# -- a reload must not lose the knowledge -------------------------------------------------------


def test_a_torn_faq_that_still_validates_is_refused(tmp_path: Path, knowledge_dir: Path) -> None:
    folder, old, _ = _versions(tmp_path, knowledge_dir)
    holder = EngineHolder(Engine.load(folder), folder, max_loss=0.10)
    before = holder.engine
    torn = torn_faq(old, folder)
    (folder / "faq.yaml").write_text(torn, encoding="utf-8")
    with pytest.raises(ReloadRefused) as caught:
        holder.reload()
    assert holder.engine is before, "the previous version keeps serving"
    lost = {loss.what: (loss.before, loss.after) for loss in caught.value.losses}
    size = KnowledgeSize.of(before.kb)
    assert lost["entries"] == (size.entries, 1)
    assert set(lost) == {"entries", "phrasings", "quotes"}
    assert f"{size.entries - 1} of {size.entries} entries" in str(caught.value)
    # the administrator confirms: forced through
    assert len(holder.reload(force=True).entries) == 1
    # and the whole file back is a gain, never refused
    (folder / "faq.yaml").write_text(old, encoding="utf-8")
    assert len(holder.reload().entries) == size.entries


def test_a_loss_within_the_threshold_is_accepted(tmp_path: Path, knowledge_dir: Path) -> None:
    """Removing one entry of thirty (3 %) is an edit, not an accident."""
    folder, old, _ = _versions(tmp_path, knowledge_dir)
    kb = Engine.load(folder).kb
    referenced = {related for entry in kb.entries for related in entry.related}
    unreferenced = next(e.id for e in kb.entries if e.id not in referenced)
    start = old.index(f"\n  - id: {unreferenced}\n") + 1
    end = old.find("\n  - id:", start) + 1 or len(old)
    holder = EngineHolder(Engine(kb), folder, max_loss=0.10)
    (folder / "faq.yaml").write_text(old[:start] + old[end:], encoding="utf-8")
    assert len(holder.reload().entries) == len(kb.entries) - 1
    lost = losses(kb, holder.engine.kb)
    assert lost and all(loss.share <= 0.10 for loss in lost)
    # with no loss allowed at all, the same edit is refused
    strict = EngineHolder(Engine(kb), folder, max_loss=0.0)
    with pytest.raises(ReloadRefused):
        strict.reload()


@pytest.mark.parametrize(("text", "value"), [(None, 0.10), ("0.25", 0.25), ("5%", 0.05), ("0", 0.0), ("1", 1.0)])
def test_reload_max_loss_setting(text: str | None, value: float) -> None:
    env = {"RELOAD_MAX_LOSS": text} if text is not None else {}
    assert load_settings(env).reload_max_loss == pytest.approx(value)


@pytest.mark.parametrize("text", ["half", "-0.1", "1.5", "200%", "nan", "inf"])
def test_reload_max_loss_must_be_a_fraction(text: str) -> None:
    with pytest.raises(ConfigError, match="RELOAD_MAX_LOSS"):
        load_settings({"RELOAD_MAX_LOSS": text})

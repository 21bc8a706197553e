"""A torn knowledge file that still validates: what a reload sees when a curator's copy is cut short."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine import Engine
from bot.loader import KnowledgeError


def torn_faq(text: str, folder: Path) -> str:
    """The longest cut of faq.yaml inside its first entry that is still valid knowledge (one entry):
    what a reload sees when a curator's copy is interrupted. The test needs one to exist.

    `folder` is a scratch copy of the knowledge; its faq.yaml is put back to `text` afterwards."""
    first = text.index("\n  - id:") + 1
    second = text.index("\n  - id:", first) + 1
    cuts = [i + 1 for i in range(first, second) if text[i] == "\n"]
    faq = folder / "faq.yaml"
    try:
        for cut in reversed(cuts):
            faq.write_text(text[:cut], encoding="utf-8")
            try:
                if len(Engine.load(folder).entries) == 1:
                    return text[:cut]
            except KnowledgeError:
                continue
    finally:
        faq.write_text(text, encoding="utf-8")
    pytest.fail("no cut inside the first entry is valid: validation alone would refuse a torn file")

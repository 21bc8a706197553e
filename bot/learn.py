"""`python -m bot learn`: readers' "did you mean" picks become alternates for the curator to accept.

The suggestions of the report go into ``knowledge/learned.yaml`` with ``accept: false``; the
curator flips ``accept`` to true for the wordings that really mean the entry, and the loader adds
those as alternates. Decisions already in the file are kept; wordings the bot already answers
with that entry are left out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.engine import Engine
from bot.questionlog.store import Store
from bot.replies import Outcome
from bot.report import build_report
from bot.textnorm import fold

LEARNED_FILE = "learned.yaml"
HEADER = """\
# Alternate wordings learned from readers: for each, at least 3 different readers asked it this way,
# were offered "did you mean", and picked this entry. Written by `python -m bot learn`.
# Review each one: set accept: true to add the wording to the entry's alternates (then /reload or
# restart), leave it false to ignore it. `python -m bot check` validates this file.
"""


def learn(store: Store, engine: Engine, folder: Path, days: int) -> tuple[int, int]:
    """Merge new suggestions into learned.yaml; returns (new suggestions, total in file)."""
    path = folder / LEARNED_FILE
    existing = _existing(path)
    by_key = {(str(i["entry"]), fold(str(i["wording"]))): i for i in existing}
    added = 0
    for suggestion in build_report(store, days)["suggestions"]:
        entry_id, wording = str(suggestion["entry"]), str(suggestion["question"])
        key = (entry_id, fold(wording))
        if engine.kb.entry(entry_id) is None:
            continue
        if key in by_key:  # refresh the support of a suggestion already in the file
            item = by_key[key]
            item["support"] = max(int(item["support"]), int(suggestion["support"]))
            continue
        reply = engine.ask(wording)
        if reply.outcome is Outcome.ANSWER and reply.entry is not None and reply.entry.id == entry_id:
            continue  # already answered that way
        item = {"entry": entry_id, "wording": wording, "support": int(suggestion["support"]), "accept": False}
        existing.append(item)
        by_key[key] = item
        added += 1
    body = yaml.safe_dump({"learned": existing}, allow_unicode=True, sort_keys=False, width=1000)
    # Write, then rename: a reload (SIGHUP, /reload) never reads a half-written file.
    partial = path.with_name(f".{path.name}.tmp")
    partial.write_text(HEADER + body, encoding="utf-8")
    partial.replace(path)
    return added, len(existing)


def _existing(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    items = data.get("learned") if isinstance(data, dict) else None
    return [
        dict(i) for i in items or [] if isinstance(i, dict) and {"entry", "wording", "support"} <= i.keys()
    ]

"""What is wrong with a knowledge folder: its own small module, so reporting a problem does not
import the loader (and YAML) into a process that took its engine from the cache."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the knowledge folder."""

    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


class KnowledgeError(Exception):
    """The knowledge folder is broken; `problems` says where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))

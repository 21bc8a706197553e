"""What is wrong with a knowledge folder: its own small module, so reporting a problem does not
import the loader (and YAML) into a process that took its engine from the cache."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


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


class KnowledgeUnreadable(KnowledgeError):
    """The folder or a file in it cannot be read at all (permissions, I/O): a fault of the file
    system, not of the knowledge, so nothing is validated and the one problem says which path."""

    @classmethod
    def from_os_error(cls, folder: Path, exc: OSError) -> KnowledgeUnreadable:
        path = Path(exc.filename) if exc.filename else folder
        try:
            shown = str(Path(folder.name) / path.relative_to(folder))
        except ValueError:
            shown = str(path)
        return cls([Problem(shown, 0, exc.strerror or str(exc))])

    def __str__(self) -> str:
        problem = self.problems[0]
        return f"{problem.file}: {problem.reason}"

"""The curator's commands, `python -m bot report` and `python -m bot learn` (argument parsing and output)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from bot.config import Settings

if TYPE_CHECKING:
    from bot.questionlog.store import Store

EXIT_OK, EXIT_FAIL = 0, 1
DEFAULT_DAYS = 30


def add_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    """Register `report` and `learn` on the main parser's subcommands."""
    report = commands.add_parser(
        "report", parents=[common], help="what readers asked, what failed, feedback and suggested alternates"
    )
    report.add_argument(
        "--days", type=int, default=DEFAULT_DAYS, help=f"how far back (default {DEFAULT_DAYS})"
    )
    report.add_argument("--json", action="store_true", help="print one JSON object")
    learn = commands.add_parser(
        "learn", parents=[common], help="write suggested alternates into knowledge/learned.yaml for review"
    )
    learn.add_argument("--days", type=int, default=None, help="how far back (default: the whole log)")


def run_command(args: argparse.Namespace, settings: Settings) -> int:
    # Imported here: every `python -m bot` builds the parser, few need the database.
    from sqlalchemy.exc import SQLAlchemyError

    from bot.questionlog.store import Store, safe_url

    store = Store(settings.database_url)
    try:
        if args.command == "report":
            return _report(store, max(1, args.days), args.json)
        return _learn(store, settings, args.days or settings.retention_days)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        print(
            f"Cannot read the question log at {safe_url(settings.database_url or '')}: {reason}",
            file=sys.stderr,
        )
        return EXIT_FAIL
    finally:
        store.dispose()


def _report(store: Store, days: int, as_json: bool) -> int:
    from bot.report import build_report, format_report

    report = build_report(store, days)
    print(json.dumps(report, ensure_ascii=False, indent=2) if as_json else format_report(report))
    return EXIT_OK


def _learn(store: Store, settings: Settings, days: int) -> int:
    from bot.engine import Engine
    from bot.learn import LEARNED_FILE, learn

    engine = Engine.load(settings.knowledge_dir)
    added, total = learn(store, engine, settings.knowledge_dir, days)
    path = settings.knowledge_dir / LEARNED_FILE
    print(
        f"{added} new suggestion(s) written to {path.name} ({total} in the file). "
        "Set accept: true on the ones to use, then run `python -m bot check` and /reload."
    )
    return EXIT_OK

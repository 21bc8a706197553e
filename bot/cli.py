"""`python -m bot …`: ask, chat, check, eval and run — one entry point for people and scripts."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.analysis import question_languages
from bot.config import PROJECT_ROOT, ConfigError, Settings, load_settings
from bot.engine import Engine
from bot.problems import KnowledgeError
from bot.render import render_text, reply_to_dict

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
QUESTIONS_FOLDER = PROJECT_ROOT / "tests"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Answers questions about the AFP story on the Russia-Ukraine talks in Istanbul. "
        "With no command: the Telegram bot when a token is configured, otherwise the local console chat.",
    )
    knowledge_help = "knowledge folder (default: KNOWLEDGE_DIR, else the project's knowledge/)"
    parser.add_argument("--knowledge", metavar="DIR", help=knowledge_help)
    # Accepted after the command too ("check --knowledge DIR"), without overriding one given before.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--knowledge", metavar="DIR", default=argparse.SUPPRESS, help=knowledge_help)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    ask = commands.add_parser(
        "ask",
        parents=[common],
        help="answer one question (or, with --json and no question, one per input line)",
    )
    ask.add_argument("--json", action="store_true", help="print one JSON object per question")
    ask.add_argument("question", nargs="*", help="the question")
    commands.add_parser("chat", parents=[common], help="talk to the bot in this terminal")
    commands.add_parser(
        "check", parents=[common], help="validate the knowledge folder; non-zero exit on any problem"
    )
    evaluate = commands.add_parser(
        "eval", parents=[common], help="measure accuracy on the question sets (tests/questions*.yaml)"
    )
    evaluate.add_argument(
        "--questions", type=Path, action="append", metavar="FILE", help="a question set (repeatable)"
    )
    evaluate.add_argument("--failures", action="store_true", help="list every question got wrong")
    evaluate.add_argument("--min-accuracy", type=float, default=0.95)
    evaluate.add_argument("--min-rejection", type=float, default=0.95)
    commands.add_parser("run", parents=[common], help="run the Telegram bot (needs TELEGRAM_BOT_TOKEN)")
    from bot.curation import add_commands

    add_commands(commands, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        stream.reconfigure(encoding="utf-8", errors="replace")  # type: ignore[union-attr]
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(knowledge_dir=args.knowledge, telegram=args.command in ("run", None))
    except ConfigError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        if args.command == "check":
            return _check(settings)
        if args.command == "ask":
            return _ask(settings, args.question, args.json)
        if args.command == "chat":
            return _chat(settings)
        if args.command == "eval":
            return _eval(settings, args.questions, args.min_accuracy, args.min_rejection, args.failures)
        if args.command in ("report", "learn"):
            from bot.curation import run_command

            return run_command(args, settings)
        if args.command == "run" or (args.command is None and settings.token):
            return _run(settings)
        print("No TELEGRAM_BOT_TOKEN configured: starting the local console chat instead.", file=sys.stderr)
        return _chat(settings)
    except KnowledgeError as exc:
        _print_problems(exc)
        return EXIT_FAIL
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return EXIT_OK


def _print_problems(exc: KnowledgeError) -> None:
    print(f"The knowledge base is broken ({len(exc.problems)} problem(s)):", file=sys.stderr)
    for problem in exc.problems:
        print(f"  {problem}", file=sys.stderr)


def _check(settings: Settings) -> int:
    from bot.vocabulary_check import vocabulary_problems

    engine = Engine.load(settings.knowledge_dir)
    kb = engine.kb
    problems = vocabulary_problems(settings.knowledge_dir, kb, engine.matcher.analyzer)
    if problems:
        _print_problems(KnowledgeError(problems))
        return EXIT_FAIL
    quotes = sum(len(e.quotes) for e in kb.entries)
    phrases = sum(1 + len(e.alternates) + sum(map(len, e.translations.values())) for e in kb.entries)
    print(
        f"Knowledge OK: {len(kb.entries)} entries, {phrases} phrasings, {quotes} quotes verified verbatim, "
        f"{len(kb.speakers)} speakers, {len(kb.notes)} editor's notes."
    )
    return EXIT_OK


def _ask(settings: Settings, words: list[str], as_json: bool) -> int:
    if not words and not as_json:
        print("usage: python -m bot ask [--json] QUESTION  (or: ask --json < questions.txt)", file=sys.stderr)
        return EXIT_USAGE
    if words:  # one question: only the analysers of its own script are needed
        question = " ".join(words)
        engine = Engine.load(settings.knowledge_dir, languages=question_languages(question))
        reply = engine.ask(question)
        print(json.dumps(reply_to_dict(reply), ensure_ascii=False) if as_json else render_text(reply))
        return EXIT_OK
    engine = Engine.load(settings.knowledge_dir)
    stdin = sys.stdin
    stdin.reconfigure(encoding="utf-8", errors="replace", newline="\n")  # type: ignore[union-attr]
    for line in stdin:
        reply = engine.ask(line.rstrip("\r\n"))
        sys.stdout.write(json.dumps(reply_to_dict(reply), ensure_ascii=False) + "\n")
        sys.stdout.flush()
    return EXIT_OK


CHAT_HELP = "Type a question, a number to pick a suggestion, /topics for every question, or /quit."


def _chat(settings: Settings) -> int:
    engine = Engine.load(settings.knowledge_dir)
    sys.stdin.reconfigure(encoding="utf-8", errors="replace")  # type: ignore[union-attr]
    article = engine.kb.article
    print(f"Ask me about “{article.title}” ({article.outlet}, {article.published_text}).")
    print(CHAT_HELP)
    offered: list[str] = []
    while True:
        try:
            line = input("\n> ")
        except EOFError:
            print()
            return EXIT_OK
        text = line.strip()
        if text in {"/quit", "/exit", "quit", "exit"}:
            return EXIT_OK
        if text == "/topics":
            offered = [e.id for e in engine.entries]
            for number, entry in enumerate(engine.entries, 1):
                print(f"  {number}. {entry.question}")
            continue
        if text.startswith("/"):
            print(CHAT_HELP)
            continue
        if text.isdecimal():
            if not 0 < int(text) <= len(offered):
                print(f"Pick a number from 1 to {len(offered)}." if offered else CHAT_HELP)
                continue
            reply = engine.answer_entry(offered[int(text) - 1])
        else:
            reply = engine.ask(text)
        if reply is None:
            continue
        print(render_text(reply))
        offered = [e.id for e in reply.suggestions]


def _eval(
    settings: Settings,
    questions: list[Path] | None,
    min_accuracy: float,
    min_rejection: float,
    show_failures: bool = False,
) -> int:
    """Every set's figures; exit 1 when any set is below the thresholds."""
    from bot.evaluation import evaluate, format_report, load_questions, question_sets

    engine = Engine.load(settings.knowledge_dir)
    paths = questions or question_sets(QUESTIONS_FOLDER)
    try:
        sets = [(path, load_questions(path)) for path in paths]
    except (OSError, ValueError) as exc:
        print(f"Cannot read the question set: {exc}", file=sys.stderr)
        return EXIT_USAGE
    reports = [(path, evaluate(engine, items)) for path, items in sets]
    lowest_accuracy = min(r.accuracy for _, r in reports)
    lowest_rejection = min(r.rejection for _, r in reports)
    print(f"{'question set':<36} {'in-scope':>9} {'did-you-mean':>13} {'rejection':>10} {'wrong':>6}")
    for path, report in reports:
        print(
            f"{path.name:<36} {report.accuracy:>9.1%} {report.clarify_share:>13.1%} "
            f"{report.rejection:>10.1%} {report.wrong_share:>6.1%}"
        )
    print(f"in-scope accuracy (lowest of {len(reports)} sets): {lowest_accuracy:.1%}")
    print(f"off-topic rejection (lowest of {len(reports)} sets): {lowest_rejection:.1%}")
    for path, report in reports:
        print(f"\n== {path.name} ({sum(report.total.values())} questions)")
        print(format_report(report, failures=show_failures or len(reports) == 1))
    failed = [path.name for path, report in reports if not report.passed(min_accuracy, min_rejection)]
    if not failed:
        return EXIT_OK
    print(
        f"\nBelow threshold (accuracy ≥ {min_accuracy:.0%}, rejection ≥ {min_rejection:.0%}): {', '.join(failed)}."
    )
    return EXIT_FAIL


def _run(settings: Settings) -> int:
    settings.require_token()
    engine = Engine.load(settings.knowledge_dir)  # refuse to start on broken knowledge
    from bot.tg.app import run_bot

    return run_bot(settings, engine)

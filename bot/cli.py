"""`python -m bot …`: ask, chat, check, eval and run — one entry point for people and scripts."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path

from bot import hangup
from bot.analysis import question_languages
from bot.completeness import KnowledgeSize
from bot.config import PROJECT_ROOT, ConfigError, Settings, load_settings
from bot.engine import Engine
from bot.frequencies import LANGUAGES
from bot.i18n import N_, gettext_for
from bot.problems import KnowledgeError, KnowledgeUnreadable
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
    lang_help = "reply in this language (default: each question's own)"
    ask.add_argument("--lang", choices=LANGUAGES, help=lang_help)
    ask.add_argument("question", nargs="*", help="the question")
    chat = commands.add_parser("chat", parents=[common], help="talk to the bot in this terminal")
    chat.add_argument("--lang", choices=LANGUAGES, help=lang_help)
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
        if stream is not None:  # None when the process was started with that stream closed
            stream.reconfigure(encoding="utf-8", errors="replace")  # type: ignore[union-attr]
    args = build_parser().parse_args(argv)
    try:
        bot = args.command == "run" or (args.command is None and _token_configured(args))
        if not bot:
            hangup.restore_default()  # only the bot reloads on SIGHUP; a console dies with its terminal
        return _dispatch(args, bot)
    except KnowledgeUnreadable as exc:
        _error(f"Cannot read the knowledge folder: {exc}")
        return EXIT_USAGE
    except KnowledgeError as exc:
        _print_problems(exc)
        return EXIT_FAIL
    except ConfigError as exc:
        _error(f"Configuration error: {exc}")
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader went away (`ask --json | head -1`): stop quietly, as other Unix tools do.
        _silence_stdout()
        return EXIT_FAIL
    except OSError as exc:  # the file system refused something: one line, no traceback
        where = f" ({exc.filename})" if exc.filename else ""
        _error(f"File system error{where}: {exc.strerror or exc}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        _error("")
        return EXIT_OK


def _token_configured(args: argparse.Namespace) -> bool:
    """Whether a token is configured, so that running with no command means the Telegram bot."""
    return bool(load_settings(knowledge_dir=args.knowledge, telegram=False, question_log=False).token)


def _dispatch(args: argparse.Namespace, bot: bool) -> int:
    """Each command, with the settings it needs checked (and only those)."""
    command = args.command
    settings = load_settings(
        knowledge_dir=args.knowledge, telegram=bot, question_log=bot or command in ("report", "learn")
    )
    if command == "check":
        return _check(settings)
    if command == "ask":
        return _ask(settings, args.question, args.json, args.lang)
    if command == "chat":
        return _chat(settings, args.lang)
    if command == "eval":
        return _eval(settings, args.questions, args.min_accuracy, args.min_rejection, args.failures)
    if command in ("report", "learn"):
        from bot.curation import run_command

        return run_command(args, settings)
    if bot:
        return _run(settings)
    _error("No TELEGRAM_BOT_TOKEN configured: starting the local console chat instead.")
    return _chat(settings)


def _no_console() -> int:
    """Started with stdin or stdout closed: no conversation is possible (an operator's error)."""
    _error("The console chat needs an open standard input and output.")
    return EXIT_OK if sys.stdin is None else EXIT_FAIL


def _error(text: str) -> None:
    """One line on stderr (nothing when stderr itself is closed or gone)."""
    with contextlib.suppress(OSError, ValueError):
        print(text, file=sys.stderr)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _print_problems(exc: KnowledgeError) -> None:
    print(f"The knowledge base is broken ({len(exc.problems)} problem(s)):", file=sys.stderr)
    for problem in exc.problems:
        print(f"  {problem}", file=sys.stderr)


def _check(settings: Settings) -> int:
    from bot.vocabulary_check import bare_name_alternates, indistinct_phrasings, vocabulary_problems

    engine = Engine.load(settings.knowledge_dir)
    kb = engine.kb
    problems = vocabulary_problems(settings.knowledge_dir, kb, engine.matcher.analyzer)
    problems += bare_name_alternates(settings.knowledge_dir, engine.matcher)
    if problems:
        _print_problems(KnowledgeError(problems))
        return EXIT_FAIL
    size = KnowledgeSize.of(kb)
    print(
        f"Knowledge OK: {size.entries} entries, {size.phrasings} phrasings, {size.quotes} quotes verified "
        f"verbatim, {len(kb.speakers)} speakers, {len(kb.notes)} editor's notes."
    )
    # Not errors: two entries may share a wording on purpose, and then "did you mean" between them
    # is the honest reply; the curator sees each pair and decides.
    alike = indistinct_phrasings(settings.knowledge_dir, engine.matcher)
    if alike:
        print(f"{len(alike)} phrasing(s) read as the same words as another entry's:")
        for notice in alike:
            print(f"  {notice}")
    return EXIT_OK


def _ask(settings: Settings, words: list[str], as_json: bool, lang: str | None = None) -> int:
    if not words and not as_json:
        print("usage: python -m bot ask [--json] QUESTION  (or: ask --json < questions.txt)", file=sys.stderr)
        return EXIT_USAGE
    if sys.stdout is None:
        _error("Standard output is closed: there is nowhere to write the answers.")
        return EXIT_FAIL
    if words:  # one question: only the analysers of its own script are needed
        question = " ".join(words)
        engine = Engine.load(settings.knowledge_dir, languages=question_languages(question))
        reply = engine.ask(question, lang=lang)
        print(json.dumps(reply_to_dict(reply), ensure_ascii=False) if as_json else render_text(reply))
        return EXIT_OK
    engine = Engine.load(settings.knowledge_dir)
    stdin = sys.stdin
    if stdin is None:  # started with stdin closed: no questions
        return EXIT_OK
    stdin.reconfigure(encoding="utf-8", errors="replace", newline="\n")  # type: ignore[union-attr]
    for line in stdin:
        reply = engine.ask(line.rstrip("\r\n"), lang=lang)
        sys.stdout.write(json.dumps(reply_to_dict(reply), ensure_ascii=False) + "\n")
        sys.stdout.flush()
    return EXIT_OK


CHAT_HELP = N_("Type a question, a number to pick a suggestion, /topics for every question, or /quit.")
CHAT_WELCOME = N_("Ask me about {title} ({outlet}, {date}).")
CHAT_PICK = N_("Pick a number from 1 to {count}.")


def _chat(settings: Settings, forced: str | None = None) -> int:
    """The console chat: each question's language decides its reply (or --lang); the chat's own
    sentences follow the last question's language."""
    from bot.render import article_date

    if sys.stdin is None or sys.stdout is None:
        return _no_console()
    engine = Engine.load(settings.knowledge_dir)
    sys.stdin.reconfigure(encoding="utf-8", errors="replace")  # type: ignore[union-attr]
    article = engine.kb.article
    texts = gettext_for(forced)
    title = f"“{article.tr('title', texts.lang)}”"
    print(texts._(CHAT_WELCOME, title=title, outlet=article.outlet, date=article_date(article, texts)))
    print(texts._(CHAT_HELP))
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
                print(f"  {number}. {entry.tr('question', texts.lang)}")
            continue
        if text.startswith("/"):
            print(texts._(CHAT_HELP))
            continue
        if text.isdecimal():
            if not 0 < int(text) <= len(offered):
                print(texts._(CHAT_PICK, count=len(offered)) if offered else texts._(CHAT_HELP))
                continue
            reply = engine.answer_entry(offered[int(text) - 1], texts.lang)
        else:
            reply = engine.ask(text, lang=forced, fallback=texts.lang)
        if reply is None:
            continue
        texts = gettext_for(reply.lang)
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

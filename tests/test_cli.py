"""The command-line contract of `python -m bot`, exercised as a separate process like a user or script would."""

from __future__ import annotations

import json
import os
import re
import selectors
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
FIELDS = {"question", "lang", "matched", "entry", "score", "text", "quotes", "suggestions"}
ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")

# One question per line, every kind of input a script might send. None contains \n or \r.
NASTY_LINES: list[bytes] = [
    b"When were the talks held?",
    b"",
    b"   \t  ",
    ("Where were the talks held? " + "blah " * 4000).encode()[:20_000],
    b"Who is\x00 Peskov?\x00",
    bytes(c for c in range(1, 32) if c not in (10, 13)) + b"Lavrov",
    b"\x1b[31mWho is Peskov?\x1b[0m \x1b]0;title\x07",
    "Who is Peskov? 😀🇺🇦👍🏽".encode(),
    "\u202eمن هو بيسكوف؟ Peskov מי זה".encode(),
    b"Who is Pes\xff\xfekov? \xc3\x28 \xed\xa0\x80",
    b"{}%s%d %n %x {0} ${HOME} `id`",
    b"'; DROP TABLE questions; --",
    "\ufeffWhere were the talks held?\u2028Istanbul?\u2029".encode(),
    "Кто такой Песков?".encode(),
    b"\x7f\x80\x9f",
]


def words_of(text: str) -> str:
    """What a question says, for comparing input with the echoed `question`: letters and digits only."""
    return "".join(ch for ch in ANSI.sub("", text) if ch.isalnum())


def decoded(line: bytes) -> str:
    return line.decode("utf-8", errors="replace")


def parse_json_lines(stdout: bytes) -> list[dict]:
    text = stdout.decode("utf-8")
    assert text.endswith("\n"), "output must end with a newline"
    objects = [json.loads(line) for line in text[:-1].split("\n")]
    for obj in objects:
        assert isinstance(obj, dict) and set(obj) >= FIELDS, obj
    return objects


def assert_clean_failure(result: subprocess.CompletedProcess, code: int) -> str:
    stderr = result.stderr.decode("utf-8", "replace")
    assert result.returncode == code, (result.returncode, stderr)
    assert "Traceback" not in stderr and b"Traceback" not in result.stdout
    return stderr


def popen_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"KNOWLEDGE_DIR", "TELEGRAM_BOT_TOKEN"}}
    env["PYTHONPATH"] = str(REPO_ROOT)
    return env


# -- ask ------------------------------------------------------------------------------------------


def test_ask_prints_text(run_cli):
    result = run_cli("ask", "When were the talks held?")
    assert result.returncode == 0, result.stderr.decode()
    out = result.stdout.decode("utf-8")
    assert "When were the talks held?" in out
    assert "Source: AFP" in out
    assert "29 March 2022" in out  # the editor's note on the date
    assert not out.lstrip().startswith("{")
    assert result.stderr == b""


def test_ask_words_are_joined(run_cli):
    result = run_cli("ask", "--json", "Who", "is", "Peskov?")
    (obj,) = parse_json_lines(result.stdout)
    assert obj["question"] == "Who is Peskov?"
    assert obj["entry"] == "who-peskov"


@pytest.mark.parametrize(
    ("question", "lang"),
    [("Where were the talks held?", "en"), ("Где проходили переговоры?", "ru"), ("Де відбулися переговори?", "uk")],
)
def test_ask_json_gives_the_question_language(run_cli, question: str, lang: str):
    (obj,) = parse_json_lines(run_cli("ask", "--json", question).stdout)
    assert obj["lang"] == lang
    assert obj["entry"] == "talks-where"


def test_ask_json_prints_one_object(run_cli):
    result = run_cli("ask", "--json", "When was Crimea annexed?")
    assert result.returncode == 0, result.stderr.decode()
    (obj,) = parse_json_lines(result.stdout)
    assert obj["question"] == "When was Crimea annexed?"
    assert obj["matched"] is True and obj["entry"] == "crimea-annexation"
    assert isinstance(obj["score"], int | float)
    assert obj["text"] and obj["quotes"]
    for quote in obj["quotes"]:
        assert set(quote) == {"text", "speaker", "role", "channel", "translation"}
        assert quote["text"] and quote["speaker"] and quote["channel"]
    for suggestion in obj["suggestions"]:
        assert {"entry", "question"} <= set(suggestion)


def test_ask_json_decline(run_cli):
    (obj,) = parse_json_lines(run_cli("ask", "--json", "What's the weather in London?").stdout)
    assert obj["matched"] is False and obj["entry"] is None and obj["quotes"] == []
    assert obj["suggestions"]


def test_ask_json_stdin_one_line_out_per_line_in(run_cli):
    data = b"".join(line + b"\n" for line in NASTY_LINES)
    result = run_cli("ask", "--json", input=data)
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")
    assert "Traceback" not in result.stderr.decode("utf-8", "replace")
    objects = parse_json_lines(result.stdout)
    assert len(objects) == len(NASTY_LINES)
    for line, obj in zip(NASTY_LINES, objects, strict=True):
        asked, echoed = words_of(decoded(line)), words_of(obj["question"])
        assert asked.startswith(echoed), (line[:80], obj["question"][:80])
        assert len(echoed) >= min(len(asked), 500), "the echo is cut too short"
        assert len(obj["question"]) <= 20_000
    assert objects[0]["entry"] == "talks-when"
    assert objects[1]["question"] == "" and objects[2]["question"] == ""
    assert objects[7]["entry"] == "who-peskov"  # emoji around a clear question do not matter


def test_ask_json_stdin_last_line_without_newline(run_cli):
    result = run_cli("ask", "--json", input=b"Who is Peskov?\nWhere were the talks held?")
    objects = parse_json_lines(result.stdout)
    assert [o["question"] for o in objects] == ["Who is Peskov?", "Where were the talks held?"]


def test_ask_json_stdin_crlf(run_cli):
    result = run_cli("ask", "--json", input=b"Who is Peskov?\r\nWhere were the talks held?\r\n")
    objects = parse_json_lines(result.stdout)
    assert [o["question"] for o in objects] == ["Who is Peskov?", "Where were the talks held?"]


def test_ask_json_stdin_lone_carriage_return_is_not_a_line_break(run_cli):
    """Only \\n ends a question: a stray \\r inside a line must not add an output line."""
    result = run_cli("ask", "--json", input=b"Who is\rPeskov?\nWhere were the talks held?\n")
    assert len(parse_json_lines(result.stdout)) == 2


def test_ask_json_stdin_empty_input(run_cli):
    result = run_cli("ask", "--json", input=b"")
    assert result.returncode == 0
    assert result.stdout == b""


def test_ask_json_streams(tmp_path: Path):
    """A script can ask, read the answer, and ask again over one process."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "ask", "--json"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env=popen_env(),
    )
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    try:
        for question, entry in [
            ("Who is Peskov?", "who-peskov"),
            ("When was Crimea annexed?", "crimea-annexation"),
        ]:
            process.stdin.write(question.encode() + b"\n")
            process.stdin.flush()
            assert selector.select(timeout=60), f"no answer to {question!r} while stdin is still open"
            obj = json.loads(process.stdout.readline())
            assert obj["question"] == question and obj["entry"] == entry
        process.stdin.close()
        assert process.wait(timeout=60) == 0
        assert process.stdout.read() == b""
    finally:
        selector.close()
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()


def test_ask_accepts_invalid_utf8_argument(tmp_path: Path):
    result = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--json", b"Who is \xff Peskov?"],
        capture_output=True,
        env=popen_env(),
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")
    (obj,) = parse_json_lines(result.stdout)
    assert "Peskov" in obj["question"]


# -- bad usage ------------------------------------------------------------------------------------


def test_ask_without_question(run_cli):
    stderr = assert_clean_failure(run_cli("ask"), 2)
    assert "usage" in stderr.lower()
    assert len(stderr.strip().splitlines()) <= 5


@pytest.mark.parametrize("args", [("frobnicate",), ("ask", "--no-such-option", "x"), ("--no-such-option",)])
def test_bad_usage(run_cli, args: tuple[str, ...]):
    stderr = assert_clean_failure(run_cli(*args), 2)
    assert "usage" in stderr.lower()
    assert len(stderr.strip().splitlines()) <= 8


def test_help(run_cli):
    result = run_cli("--help")
    assert result.returncode == 0
    out = result.stdout.decode()
    for command in ("ask", "chat", "check", "eval", "run"):
        assert command in out


# -- chat -----------------------------------------------------------------------------------------


def test_chat_answers_until_eof(run_cli):
    result = run_cli("chat", input="Where were the talks held?\n/topics\n1\n\nWhat's the weather?\n")
    assert result.returncode == 0, result.stderr.decode()
    out = result.stdout.decode("utf-8")
    assert "Istanbul" in out
    assert "Source: AFP" in out
    assert "Traceback" not in result.stderr.decode()


def test_chat_quit(run_cli):
    result = run_cli("chat", input="/quit\nWho is Peskov?\n")
    assert result.returncode == 0
    assert "Dmitry Peskov is" not in result.stdout.decode("utf-8")


def test_chat_survives_invalid_utf8(run_cli):
    result = run_cli("chat", input=b"Who is Pes\xffkov?\nWho is Peskov?\n", env={"PYTHONIOENCODING": "utf-8"})
    stderr = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert "Kremlin spokesman" in result.stdout.decode("utf-8")


def test_no_command_without_token_chats(run_cli):
    result = run_cli(input="Who is Peskov?\n")
    assert result.returncode == 0, result.stderr.decode()
    assert "Peskov" in result.stdout.decode("utf-8")


# -- check and eval -------------------------------------------------------------------------------


def test_check(run_cli):
    result = run_cli("check")
    assert result.returncode == 0, result.stderr.decode()
    assert "OK" in result.stdout.decode()


def test_eval_prints_accuracy(run_cli):
    result = run_cli("eval", "--min-accuracy", "0", "--min-rejection", "0")
    assert result.returncode == 0, result.stderr.decode()
    out = result.stdout.decode("utf-8")
    assert re.search(r"in-scope accuracy.*\d+(\.\d+)?%", out)
    assert re.search(r"off-topic rejection.*\d+(\.\d+)?%", out)


def test_eval_fails_below_threshold(run_cli):
    result = run_cli("eval", "--min-accuracy", "1.01")
    assert result.returncode == 1
    assert "accuracy" in result.stdout.decode("utf-8")


def test_eval_default_thresholds(run_cli):
    """With the project's own thresholds, exit 0 exactly when the printed figures meet them."""
    result = run_cli("eval")
    out = result.stdout.decode("utf-8")
    accuracy = float(re.search(r"in-scope accuracy.*?([\d.]+)%", out).group(1))
    rejection = float(re.search(r"off-topic rejection.*?([\d.]+)%", out).group(1))
    assert result.returncode == (0 if accuracy >= 95 and rejection >= 95 else 1), out[-2000:]


def test_eval_missing_question_file(run_cli, tmp_path: Path):
    result = run_cli("eval", "--questions", str(tmp_path / "nope.yaml"))
    stderr = assert_clean_failure(result, 2)
    assert "nope.yaml" in stderr


def test_core_never_imports_the_telegram_stack() -> None:
    """The answer engine and the CLI's non-Telegram commands stay free of python-telegram-bot."""
    code = (
        "import sys, bot.cli, bot.engine, bot.render, bot.evaluation, bot.loader;"
        "from bot.cli import main; main(['ask', 'When were the talks held?']);"
        "leaked = sorted(m for m in sys.modules if m == 'telegram' or m.startswith(('telegram.', 'httpx')));"
        "sys.exit(f'imported: {leaked}' if leaked else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr

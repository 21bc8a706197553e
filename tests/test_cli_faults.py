"""`python -m bot` on a bad day: unreadable knowledge, malformed settings, closed pipes and streams.

Every configuration or file-system error is one line on stderr with exit code 2 and no traceback;
a setting a command does not use never stops it.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_support import KNOWLEDGE_DIR, TOKEN, bot_env, unprivileged

CLI_TIMEOUT = 120
QUESTION = "Where were the talks held?"


def run(
    *args: str,
    cwd: Path,
    env: dict[str, str | None] | None = None,
    prefix: list[str] | None = None,
    stdin: int | None = subprocess.DEVNULL,
    input: bytes | None = None,
    shell: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """`python -m bot ARGS` (or a shell line around it) in a scratch folder, no bot settings leaking in."""
    environment = bot_env(**{"LOG_LEVEL": None, **(env or {})})
    command = [*(prefix or []), sys.executable, "-m", "bot", *args]
    if shell is not None:
        command = ["sh", "-c", shell.replace("BOT", f"{sys.executable} -m bot")]
    return subprocess.run(
        command,
        cwd=cwd,
        env=environment,
        stdin=None if input is not None else stdin,
        input=input.decode() if input is not None else None,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=CLI_TIMEOUT,
        check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *, code: int = 2) -> str:
    assert result.returncode == code, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    folder = tmp_path / "cwd"
    folder.mkdir()
    return folder


@pytest.fixture
def knowledge(tmp_path: Path) -> Path:
    folder = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, folder)
    for path in folder.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return folder


@contextlib.contextmanager
def unreadable(path: Path) -> Iterator[None]:
    mode = path.stat().st_mode & 0o777
    path.chmod(0)
    try:
        yield
    finally:
        path.chmod(mode)


# -- unreadable knowledge ---------------------------------------------------------------------


@pytest.mark.parametrize("what", ["folder", "faq.yaml", "article.txt"])
@pytest.mark.parametrize("command", [["check"], ["ask", QUESTION], ["ask", "--json", QUESTION], ["chat"], ["run"]])
def test_unreadable_knowledge_is_one_line_and_exit_2(
    workdir: Path, knowledge: Path, what: str, command: list[str]
) -> None:
    prefix = unprivileged()
    target = knowledge if what == "folder" else knowledge / what
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": "http://127.0.0.1:9/bot"}  # never reached
    with unreadable(target):
        result = run("--knowledge", str(knowledge), *command, cwd=workdir, env=env, prefix=prefix)
    line = assert_one_line_error(result)
    assert line.startswith("Cannot read the knowledge folder: ")
    assert "Permission denied" in line
    assert TOKEN.split(":")[1] not in result.stderr + result.stdout


# -- settings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ADMIN_USER_IDS", "--5"),
        ("ADMIN_USER_IDS", "12,abc"),
        ("FLOOD_LIMIT_PER_MINUTE", "0"),
        ("LOG_LEVEL", "LOUD"),
        ("RELOAD_MAX_LOSS", "half"),
        ("RELOAD_MAX_LOSS", "150%"),
        ("DATABASE_URL", "mysql://x"),
        ("QUESTION_LOG", "maybe"),
        ("QUESTION_LOG_RETENTION_DAYS", "-3"),
    ],
)
def test_a_bad_setting_stops_only_the_commands_that_use_it(workdir: Path, name: str, value: str) -> None:
    env = {name: value}
    for command in (["ask", QUESTION], ["check"]):
        result = run(*command, cwd=workdir, env=env)
        assert result.returncode == 0, (command, result.stderr)
        assert "Traceback" not in result.stderr
    chat = run("chat", cwd=workdir, env=env, input=f"{QUESTION}\n".encode())
    assert chat.returncode == 0 and "Istanbul" in chat.stdout, chat.stderr
    result = run("run", cwd=workdir, env={**env, "TELEGRAM_BOT_TOKEN": TOKEN})
    line = assert_one_line_error(result)
    assert line.startswith("Configuration error: ") and name in line


def test_no_token_and_a_bad_webhook_port_still_chat(workdir: Path) -> None:
    """Only webhook mode needs the port: without a token the console chat starts."""
    env = {"WEBHOOK_PORT": "99999", "ADMIN_USER_IDS": "--5"}
    result = run(cwd=workdir, env=env, input=f"{QUESTION}\n".encode())
    assert result.returncode == 0, result.stderr
    assert "Istanbul" in result.stdout and "Traceback" not in result.stderr


def test_a_bad_webhook_port_stops_webhook_mode(workdir: Path) -> None:
    env = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "WEBHOOK_URL": "https://bot.example.org/hook",
        "WEBHOOK_SECRET": "s3cret",
        "WEBHOOK_PORT": "99999",
    }
    line = assert_one_line_error(run("run", cwd=workdir, env=env))
    assert "WEBHOOK_PORT" in line


# -- closed pipes and streams -----------------------------------------------------------------


def test_ask_json_into_head_is_quiet(workdir: Path) -> None:
    lines = "".join(f"{QUESTION}\n" for _ in range(3000)).encode()
    result = run(cwd=workdir, shell="BOT ask --json | head -1; echo exit=$?", input=lines)
    assert result.stdout.count("\n") == 2 and '"question"' in result.stdout
    assert result.stderr == "", result.stderr


def test_ask_json_exit_code_on_a_closed_pipe(workdir: Path) -> None:
    """The reader leaves early: exit 1 (output cut short), nothing on stderr."""
    lines = "".join(f"{QUESTION}\n" for _ in range(3000)).encode()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "ask", "--json"],
        cwd=workdir,
        env=bot_env(LOG_LEVEL=None),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    proc.stdin.write(f"{QUESTION}\n".encode())
    proc.stdin.flush()
    assert proc.stdout.readline().startswith(b"{")
    proc.stdout.close()  # the reader goes away
    with contextlib.suppress(BrokenPipeError):
        proc.stdin.write(lines)
        proc.stdin.close()
    assert proc.wait(CLI_TIMEOUT) == 1
    assert proc.stderr.read() == b""


@pytest.mark.parametrize("command", [["ask", QUESTION], ["ask", "--json"], ["chat"], ["check"]])
def test_closed_stdout(workdir: Path, command: list[str]) -> None:
    result = run(cwd=workdir, shell=f"BOT {' '.join(repr(c) for c in command)} >&-", input=b"Who is Peskov?\n")
    assert "Traceback" not in result.stderr
    assert result.returncode in (0, 1), result.stderr
    assert len(result.stderr.splitlines()) <= 1, result.stderr


@pytest.mark.parametrize("command", [["chat"], ["ask", "--json"], []])
def test_closed_or_empty_stdin(workdir: Path, command: list[str]) -> None:
    for redirect in ("<&-", "</dev/null"):
        result = run(cwd=workdir, shell=f"BOT {' '.join(command)} {redirect}")
        assert result.returncode == 0, (redirect, result.stderr)
        assert "Traceback" not in result.stderr, redirect


@pytest.mark.parametrize("command", [["check"], ["ask", QUESTION], ["chat"], ["run"]])
def test_a_knowledge_folder_that_is_not_there_is_a_setting_error(workdir: Path, command: list[str]) -> None:
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "KNOWLEDGE_DIR": str(workdir / "nowhere")}
    line = assert_one_line_error(run(*command, cwd=workdir, env=env))
    assert line == f"Cannot read the knowledge folder: {workdir / 'nowhere'}: not found"


def test_an_unreadable_dot_env_is_one_line(workdir: Path) -> None:
    prefix = unprivileged()
    dot_env = workdir / ".env"
    dot_env.write_text("FLOOD_LIMIT_PER_MINUTE=5\n")
    with unreadable(dot_env):
        line = assert_one_line_error(run("ask", QUESTION, cwd=workdir, prefix=prefix))
    assert line.startswith("File system error (") and ".env" in line and "Permission denied" in line

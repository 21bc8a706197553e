"""Fixtures of the end-to-end suite; test modules load them with ``pytest_plugins = ["conftest_e2e"]``.

Every name starts with ``e2e_`` so that nothing here shadows a fixture of another test module.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_support import (
    TOKEN,
    BotProcess,
    Chat,
    Spawn,
    assert_log_free_of_secrets,
    bot_env,
    problems_in_log,
)
from fake_telegram import FakeTelegram


@pytest.fixture(scope="module")
def e2e_shared_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chat]:
    """One fake server and one real bot process for all the behaviour tests of a module."""
    fake = FakeTelegram(TOKEN).start()
    bot = BotProcess(tmp_path_factory.mktemp("e2e-shared"), bot_env(fake))
    try:
        bot.start().wait_polling(fake)
        yield Chat(fake, bot)
        assert bot.stop() == 0, bot.log_tail()
        assert_log_free_of_secrets(bot.log)
    finally:
        bot.kill()
        fake.stop()


@pytest.fixture
def e2e(e2e_shared_bot: Chat) -> Iterator[Chat]:
    """The shared bot, checked after each test: nothing it sent was rejected by (fake) Telegram,
    nothing went wrong inside it, and it is still running."""
    fake, bot = e2e_shared_bot.fake, e2e_shared_bot.bot
    rejections, log_start = len(fake.rejections), len(bot.log)
    yield e2e_shared_bot
    assert fake.rejections[rejections:] == []
    bot.check_alive()
    log = bot.log[log_start:]
    problems = problems_in_log(log)
    assert problems == [], log[log.find(problems[0]) :][:4000] if problems else ""


@pytest.fixture
def e2e_fake() -> Iterator[FakeTelegram]:
    """A fake server of one's own, for tests that run their own bot process."""
    with FakeTelegram(TOKEN) as fake:
        yield fake
        assert fake.rejections == []


@pytest.fixture
def e2e_spawn(tmp_path: Path) -> Iterator[Spawn]:
    """Factory: ``e2e_spawn(env)`` starts `python -m bot run` with ``env`` (see ``bot_env``);
    ``prefix`` goes before the command (``unprivileged()``).

    Each process gets its own scratch working directory and log; teardown kills whatever is still
    running and checks that no log gave the token away.
    """
    started: list[BotProcess] = []

    def spawn(
        env: dict[str, str], name: str = "bot", prefix: list[str] | None = None, open_files: int | None = None
    ) -> BotProcess:
        bot = BotProcess(tmp_path / f"{name}-{len(started)}", env, name, prefix or [], open_files)
        started.append(bot.start())
        return bot

    yield spawn
    for bot in started:
        bot.kill()
    for bot in started:
        assert_log_free_of_secrets(bot.log, [bot.env.get("WEBHOOK_SECRET") or TOKEN])

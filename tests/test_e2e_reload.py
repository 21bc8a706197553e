"""End to end, reloading the knowledge of a running bot: /reload for admins, and SIGHUP."""

from __future__ import annotations

import asyncio
import shutil
import signal
import time
from pathlib import Path

from e2e_support import (
    KNOWLEDGE_DIR,
    REPLY_TIMEOUT,
    BotProcess,
    Chat,
    Spawn,
    assert_answer_card,
    bot_env,
    entry_count,
    unprivileged,
)
from fake_telegram import FakeTelegram
from torn_files import torn_faq

pytest_plugins = ["conftest_e2e"]

ADMIN = 777_001
QUESTION = "What did Peskov say about a breakthrough?"
ORIGINAL_ANSWER = "No. On Wednesday the Kremlin played down hopes of a breakthrough"
EDITED_ANSWER = "No. EDITED ON DISK: on Wednesday the Kremlin played down hopes of a breakthrough"
REFUSED = "Sorry, only the bot’s administrators can reload its knowledge."


def copy_knowledge(tmp_path: Path) -> Path:
    folder = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, folder)
    for path in folder.rglob("*"):  # copies keep the originals' read-only bits
        path.chmod(0o755 if path.is_dir() else 0o644)
    return folder


def start_bot(fake: FakeTelegram, spawn: Spawn, folder: Path) -> BotProcess:
    env = bot_env(
        fake,
        KNOWLEDGE_DIR=str(folder),
        ADMIN_USER_IDS=f"{ADMIN},424242",
        FLOOD_LIMIT_PER_MINUTE="1000",  # this test polls with questions
    )
    return spawn(env).wait_polling(fake)


async def test_reload_command(e2e_fake: FakeTelegram, e2e_spawn: Spawn, tmp_path: Path) -> None:
    folder = copy_knowledge(tmp_path)
    faq = folder / "faq.yaml"
    original = faq.read_text(encoding="utf-8")
    bot = start_bot(e2e_fake, e2e_spawn, folder)
    chat = Chat(e2e_fake, bot)
    e2e_fake.user(ADMIN, "Admin")
    reader = chat.new_user()

    # not an administrator: refused, nothing reloaded
    refusal = await chat.say(reader, "/reload")
    assert refusal.plain_text == REFUSED
    assert "Knowledge reloaded" not in bot.log

    # an administrator, with a broken faq.yaml: refused with the reason, old knowledge still served
    faq.write_text(original.replace("entries:", "entries: [", 1), encoding="utf-8")
    failure = await chat.say(ADMIN, "/reload")
    assert failure.plain_text.startswith("Reload failed; still serving the previous knowledge.")
    assert "faq.yaml" in failure.plain_text
    card = await chat.say(reader, QUESTION)
    assert_answer_card(card)
    assert ORIGINAL_ANSWER in card.plain_text

    # fixed: reloaded
    faq.write_text(original.replace(ORIGINAL_ANSWER, EDITED_ANSWER, 1), encoding="utf-8")
    success = await chat.say(ADMIN, "/reload")
    assert success.plain_text == f"Reloaded: {entry_count()} entries."
    card = await chat.say(reader, QUESTION)
    assert EDITED_ANSWER in card.plain_text

    # an anonymous group admin has no user id to check: refused
    group = chat.new_group()
    _, refusal = await chat.say_in_group(group, None, "/reload", sender_chat=True)
    assert refusal.plain_text == REFUSED

    assert bot.stop() == 0
    assert "Reload refused" in bot.log  # the failure was logged for the operator


async def test_sighup_reloads_from_disk(e2e_fake: FakeTelegram, e2e_spawn: Spawn, tmp_path: Path) -> None:
    folder = copy_knowledge(tmp_path)
    faq = folder / "faq.yaml"
    original = faq.read_text(encoding="utf-8")
    bot = start_bot(e2e_fake, e2e_spawn, folder)
    chat = Chat(e2e_fake, bot)
    reader = chat.new_user()
    assert ORIGINAL_ANSWER in (await chat.say(reader, QUESTION)).plain_text

    # a broken edit and SIGHUP: logged, and the bot keeps serving what it had
    log_mark = len(bot.log)
    faq.write_text(original + "\n  - id: [broken\n", encoding="utf-8")
    bot.send_signal(signal.SIGHUP)
    await bot.await_log("Reload refused", start=log_mark)
    assert ORIGINAL_ANSWER in (await chat.say(reader, QUESTION)).plain_text

    # a good edit and SIGHUP: the new answer is served as soon as the reload is done
    faq.write_text(original.replace(ORIGINAL_ANSWER, EDITED_ANSWER, 1), encoding="utf-8")
    bot.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + REPLY_TIMEOUT
    while True:
        card = await chat.say(reader, QUESTION)
        if EDITED_ANSWER in card.plain_text:
            break
        assert ORIGINAL_ANSWER in card.plain_text, "never a mix of the two versions"
        assert time.monotonic() < deadline, "the edited answer was never served"
        await asyncio.sleep(0.1)
    assert_answer_card(card)
    assert bot.running
    assert bot.stop() == 0


# -- a torn file that still validates: refused unless forced ------------------------------------


async def test_reload_refuses_a_torn_file_until_forced(
    e2e_fake: FakeTelegram, e2e_spawn: Spawn, tmp_path: Path
) -> None:
    folder = copy_knowledge(tmp_path)
    faq = folder / "faq.yaml"
    original = faq.read_text(encoding="utf-8")
    torn = torn_faq(original, folder)
    bot = start_bot(e2e_fake, e2e_spawn, folder)
    chat = Chat(e2e_fake, bot)
    e2e_fake.user(ADMIN, "Admin")
    reader = chat.new_user()
    total = entry_count()

    faq.write_text(torn, encoding="utf-8")  # valid YAML, valid knowledge: one entry of thirty
    refusal = await chat.say(ADMIN, "/reload")
    assert refusal.plain_text.startswith("Reload refused; still serving the previous knowledge.")
    assert f"{total - 1} of {total} entries" in refusal.plain_text, refusal.plain_text
    assert "phrasings" in refusal.plain_text and "quotes" in refusal.plain_text
    assert "/reload force" in refusal.plain_text
    assert ORIGINAL_ANSWER in (await chat.say(reader, QUESTION)).plain_text
    topics = await chat.say(reader, "/topics")
    assert f"I can answer {total} questions" in topics.plain_text, "the whole previous version serves"

    # a reader cannot force it
    assert (await chat.say(reader, "/reload force")).plain_text == REFUSED
    # the administrator can, knowingly
    forced = await chat.say(ADMIN, "/reload force")
    assert forced.plain_text == "Reloaded (forced): 1 entry."
    topics = await chat.say(reader, "/topics")
    assert "I can answer 1 question about" in topics.plain_text

    # the whole file back: a gain, reloaded without force
    faq.write_text(original, encoding="utf-8")
    assert (await chat.say(ADMIN, "/reload")).plain_text == f"Reloaded: {total} entries."
    assert bot.stop() == 0
    assert "Reload refused, still serving the previous knowledge: the new knowledge loses" in bot.log


async def test_sighup_refuses_a_torn_file(e2e_fake: FakeTelegram, e2e_spawn: Spawn, tmp_path: Path) -> None:
    folder = copy_knowledge(tmp_path)
    faq = folder / "faq.yaml"
    torn = torn_faq(faq.read_text(encoding="utf-8"), folder)
    bot = start_bot(e2e_fake, e2e_spawn, folder)
    chat = Chat(e2e_fake, bot)
    reader = chat.new_user()
    total = entry_count()
    log_mark = len(bot.log)
    faq.write_text(torn, encoding="utf-8")
    bot.send_signal(signal.SIGHUP)
    await bot.await_log(f"loses {total - 1} of {total} entries", start=log_mark)
    assert "Reload refused" in bot.log[log_mark:]
    assert ORIGINAL_ANSWER in (await chat.say(reader, QUESTION)).plain_text
    assert f"I can answer {total} questions" in (await chat.say(reader, "/topics")).plain_text
    assert bot.running
    assert bot.stop() == 0


async def test_reload_of_an_unreadable_folder_is_answered(
    e2e_fake: FakeTelegram, e2e_spawn: Spawn, tmp_path: Path
) -> None:
    """The administrator hears why; readers keep the previous knowledge."""
    prefix = unprivileged()
    folder = copy_knowledge(tmp_path)
    env = bot_env(e2e_fake, KNOWLEDGE_DIR=str(folder), ADMIN_USER_IDS=str(ADMIN), FLOOD_LIMIT_PER_MINUTE="1000")
    bot = e2e_spawn(env, prefix=prefix).wait_polling(e2e_fake)
    chat = Chat(e2e_fake, bot)
    e2e_fake.user(ADMIN, "Admin")
    reader = chat.new_user()
    folder.chmod(0)
    try:
        reply = await chat.say(ADMIN, "/reload")
        assert_answer_card(await chat.say(reader, QUESTION))
    finally:
        folder.chmod(0o755)
    assert reply.plain_text.startswith("Reload failed: cannot read the knowledge folder (")
    assert "Permission denied" in reply.plain_text
    assert "still serving the previous knowledge" in reply.plain_text
    assert bot.stop() == 0
    assert "Traceback" not in bot.log

"""End to end, the reader's language: python-telegram-bot's real networking against the fake Bot API,
the question log on a real SQLite file, and a restart (a new Application on the same file)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from e2e_support import Chat, callback_data
from fake_telegram import FakeTelegram, SentMessage
from fake_telegram_validation import parse_html
from inprocess_bot import BOT_USERNAME, TOKEN, bot_settings, running_application
from translated_knowledge import ENTRY, RU, UK, translated_engine

from bot.engine import Engine
from bot.render import TELEGRAM_TEXT_LIMIT, visible_length
from bot.tg.app import build_application, open_recorder

UKRAINIAN = re.compile("[іїєґ]")
RUSSIAN = re.compile("[ыэъё]")
KEY = "language-test-key-0123456789abcdef"


@contextlib.asynccontextmanager
async def serving(fake: FakeTelegram, engine: Engine, database: str) -> AsyncIterator[None]:
    """The bot as `run_bot` builds it (question log included) polling ``fake`` until the block ends."""
    settings = bot_settings(fake, DATABASE_URL=database, QUESTION_LOG_KEY=KEY)
    recorder = open_recorder(settings)
    assert recorder is not None
    try:
        async with running_application(fake, build_application(settings, engine, recorder)):
            yield
    finally:
        recorder.log.close()


def assert_valid(messages: list[SentMessage]) -> None:
    """Every message Telegram HTML, within 4,096 characters as Telegram counts them (UTF-16)."""
    for message in messages:
        assert message.text is not None
        parse_html(message.text)
        assert visible_length(message.text) <= TELEGRAM_TEXT_LIMIT


def ukrainian(text: str | None) -> bool:
    return bool(text and UKRAINIAN.search(text) and not RUSSIAN.search(text))


@pytest.fixture(scope="module")
def translated(engine: Engine) -> Engine:
    return translated_engine(engine)


async def test_languages_end_to_end(tmp_path: Path, translated: Engine) -> None:
    database = f"sqlite:///{tmp_path / 'questions.sqlite3'}"
    async with FakeTelegram(TOKEN, bot_username=BOT_USERNAME) as fake:
        chat = Chat(fake, None)  # type: ignore[arg-type]  # in-process: no bot process to watch
        olena = chat.new_user("Olena", language_code="uk")
        anna = chat.new_user("Anna", language_code="en")
        async with serving(fake, translated, database):
            # Menus, descriptions and short descriptions for everyone, and for ru and uk users.
            menus = fake.commands
            for scope in ("default", "all_private_chats", "all_group_chats"):
                assert menus[f"{scope}/uk"] and [c["command"] for c in menus[f"{scope}/ru"]] == [
                    c["command"] for c in menus[scope]
                ]
                assert all(re.search("[а-я]", c["description"]) for c in menus[f"{scope}/uk"])
                assert ukrainian(" ".join(c["description"] for c in menus[f"{scope}/uk"]))
                assert not any(re.search("[а-я]", c["description"]) for c in menus[scope])
            assert {key for key in fake.descriptions} == {
                (kind, lang) for kind in ("description", "short_description") for lang in ("", "ru", "uk")
            }
            assert ukrainian(fake.descriptions[("short_description", "uk")])

            # A Ukrainian Telegram: Ukrainian /start, /help and /topics, buttons included.
            start = await chat.say(olena, "/start")
            assert start.plain_text.startswith("Вітаю!") and ukrainian(start.plain_text)
            assert {"Запитати в іншому чаті", "Усі запитання"} <= {b["text"] for b in start.buttons}
            assert UK["question"][:40] in " ".join(b["text"] for b in start.buttons)  # its entry, translated
            help_ = await chat.say(olena, "/help")
            assert help_.plain_text.startswith("Як мною користуватися") and ukrainian(help_.plain_text)
            assert "/language" in help_.plain_text
            topics = await chat.say(olena, "/topics")
            assert topics.plain_text.startswith("Я можу відповісти на") and ukrainian(topics.plain_text)
            assert all(d.startswith(("a:uk:", "t:uk:")) for d in callback_data(topics))
            source = await chat.say(olena, "/source")
            assert source.plain_text.startswith(translated.kb.article.title)  # cited as published
            assert "«Переклад»" in source.plain_text and ukrainian(source.plain_text)
            page = await chat.press(olena, topics, "t:uk:1")
            assert page.text is None
            await fake.wait_for(lambda: any(b["text"] == "‹ Назад" for b in topics.buttons))

            # An English question from her still gets English; a Russian one Russian, with the
            # quote verbatim in English and the curator's translation labelled beneath it.
            english = await chat.say(olena, "When was Crimea annexed?")
            assert english.plain_text.split("\n")[0].isascii()
            russian = await chat.say(olena, "Что сказал Песков о прорыве?")
            entry = translated.kb.entry(ENTRY)
            assert entry is not None
            assert russian.plain_text.startswith(RU["question"])
            assert f"“{entry.quotes[0].text}”" in russian.plain_text
            assert f"Перевод: {RU['translation']}" in russian.plain_text
            assert "Источник:" in russian.plain_text
            assert {b["text"] for b in russian.buttons} >= {"👍", "👎"}
            thanks = await chat.press(olena, russian, f"v:u:{ENTRY}")
            assert ukrainian(thanks.text)  # a button without a question: her language

            # Inline: an empty query in her language (personal results), a question in its own.
            listing = await chat.inline(olena, "")
            assert listing.is_personal
            assert UK["question"] in {r["title"] for r in listing.results}
            asked = await chat.inline(anna, "Что сказал Песков о прорыве?")
            assert asked.results[0]["title"] == RU["question"]

            # /language: Anna (an English Telegram) chooses Russian.
            offer = await chat.say(anna, "/language")
            assert callback_data(offer) == ["l:en", "l:ru", "l:uk"]
            assert [b["text"] for b in offer.buttons] == ["English", "Русский", "Українська"]
            done = await chat.press(anna, offer, "l:ru")
            assert done.text == "Готово: я буду отвечать по-русски."
            await fake.wait_for(lambda: offer.plain_text == done.text)
            assert (await chat.say(anna, "/start")).plain_text.startswith("Здравствуйте!")
            assert_valid(fake.sent_messages(olena) + fake.sent_messages(anna))

        # A restart: a new Application on the same database remembers Anna's choice.
        async with serving(fake, translated, database):
            assert (await chat.say(anna, "/topics")).plain_text.startswith("Я могу ответить на")
            assert (await chat.say(anna, "?")).plain_text.startswith("Я отвечаю на вопросы")  # no words
            gone = await chat.say(anna, "/forget")
            assert "Выбранный вами язык тоже удалён." in gone.plain_text
            assert (await chat.say(anna, "/start")).plain_text.startswith("Hello!")  # forgotten: her Telegram's
        async with serving(fake, translated, database):
            assert (await chat.say(anna, "/start")).plain_text.startswith("Hello!")
            assert (await chat.say(olena, "/start")).plain_text.startswith("Вітаю!")
        assert_valid(fake.sent_messages(olena) + fake.sent_messages(anna))
        assert fake.rejections == []


async def test_a_database_fault_never_costs_a_reply_or_the_language(tmp_path: Path, engine: Engine) -> None:
    """The question log cannot open its file: the choice still holds for this run, replies go on."""
    database = f"sqlite:///{tmp_path / 'no-such-folder' / 'questions.sqlite3'}"
    async with FakeTelegram(TOKEN, bot_username=BOT_USERNAME) as fake:
        chat = Chat(fake, None)  # type: ignore[arg-type]
        ivan = chat.new_user("Ivan", language_code="ru")
        async with serving(fake, engine, database):
            assert (await chat.say(ivan, "/start")).plain_text.startswith("Здравствуйте!")
            offer = await chat.say(ivan, "/language")
            assert (await chat.press(ivan, offer, "l:uk")).text == "Готово: я відповідатиму українською."
            assert (await chat.say(ivan, "/help")).plain_text.startswith("Як мною користуватися")
            assert "Спробуйте пізніше" in (await chat.say(ivan, "/forget")).plain_text  # said, not crashed
        assert fake.rejections == []

"""The bot's sentences in three languages: complete catalogues, compiled in sync, none left inline,
and replies that keep quotes verbatim English with a labelled translation beneath."""

from __future__ import annotations

import ast
import datetime as dt
import gettext
import io
import json
import re
import string
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from fake_telegram_validation import parse_html
from translated_knowledge import ENTRY, RU, UK, translated_engine

from bot import cli
from bot.engine import Engine
from bot.i18n import LOCALE_DIR, gettext_for, supported
from bot.questionlog.store import Store
from bot.render import TELEGRAM_TEXT_LIMIT, render_html, render_text, reply_to_dict, visible_length
from bot.replies import Outcome
from bot.tg import commands, keyboards

ROOT = Path(__file__).resolve().parent.parent
LANGS = ("en", "ru", "uk")
KEYWORDS = {**DEFAULT_KEYWORDS, "N_plural": (1, 2), "h_": None}  # as `make catalogues` extracts
CYRILLIC = re.compile(r"[а-яіїєґё]", re.IGNORECASE)


def extracted() -> set[str | tuple[str, str]]:
    """Every message the code marks, extracted by Babel exactly as `make catalogues` does."""
    found: set[str | tuple[str, str]] = set()
    for _, _, message, _, _ in extract_from_dir(ROOT / "bot", [("**.py", "python")], keywords=KEYWORDS):
        found.add(message if isinstance(message, str) else tuple(message))
    return found


def catalogue(lang: str):
    with open(LOCALE_DIR / lang / "LC_MESSAGES" / "bot.po", "rb") as handle:
        return read_po(handle, locale=lang)


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


# -- the catalogues --------------------------------------------------------------------------------


def test_the_template_and_every_catalogue_hold_exactly_the_code_s_messages() -> None:
    code = extracted()
    assert len(code) > 50
    with open(LOCALE_DIR / "bot.pot", "rb") as handle:
        template = {m.id if isinstance(m.id, str) else tuple(m.id) for m in read_po(handle) if m.id}
    assert template == code, "run `make catalogues`"
    for lang in LANGS:
        ids = {m.id if isinstance(m.id, str) else tuple(m.id) for m in catalogue(lang) if m.id}
        assert ids == code, f"{lang}: missing {code - ids}, stale {ids - code}"


@pytest.mark.parametrize("lang", ["ru", "uk"])
def test_every_message_is_translated_with_its_placeholders(lang: str) -> None:
    cat = catalogue(lang)
    forms = cat.num_plurals
    assert forms == 3  # one, few, many
    for message in cat:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        assert all(s.strip() for s in strings), f"{lang}: untranslated {message.id!r}"
        assert "fuzzy" not in message.flags, f"{lang}: fuzzy {message.id!r}"
        if isinstance(message.id, tuple):
            assert len(strings) == forms
        for text in strings:
            assert placeholders(text) == placeholders(ids[-1]), f"{lang}: placeholders of {message.id!r}"


def test_ukrainian_is_written_in_ukrainian_letters() -> None:
    """A Ukrainian catalogue copied from the Russian one would pass every other check."""
    ru, uk = catalogue("ru"), catalogue("uk")
    same = [m.id for m in uk if m.id and m.string == ru[m.id].string and len(str(m.string).split()) >= 3]
    assert same == []
    text = " ".join(str(m.string) for m in uk if m.id)
    assert re.search("[іїєґ]", text) and not re.search("[ыэъё]", text)


@pytest.mark.parametrize("lang", LANGS)
def test_compiled_catalogues_match_their_po(lang: str) -> None:
    """The .mo the bot reads is its .po compiled (`make catalogues` after every edit): both give
    the same lookups."""
    fresh = io.BytesIO()
    write_mo(fresh, catalogue(lang))
    fresh.seek(0)
    with open(LOCALE_DIR / lang / "LC_MESSAGES" / "bot.mo", "rb") as handle:
        committed = gettext.GNUTranslations(handle)
    assert committed._catalog == gettext.GNUTranslations(fresh)._catalog  # type: ignore[attr-defined]


def test_a_reader_s_telegram_language_maps_to_one_the_bot_speaks() -> None:
    assert [supported(c) for c in ("ru", "uk", "en", "ru-RU", "UK", "de", "pt-br", "", None)] == [
        "ru", "uk", "en", "ru", "uk", "en", "en", "en", "en"
    ]
    assert gettext_for("de") is gettext_for("en")
    assert gettext_for("ru").n_(commands.feedback.FORGET_QUESTIONS, 5) == "5 вопросов"
    assert gettext_for("uk").n_(commands.feedback.FORGET_QUESTIONS, 21) == "21 запитання"
    assert gettext_for("uk").date(dt.date(2022, 3, 30)) == "середа, 30 березня 2022\u202fр."  # CLDR's narrow no-break space


# -- no sentence left outside the catalogues ------------------------------------------------------

# The modules that talk to readers (the CLI's chat too); operator output (logs, exceptions,
# start-up errors, `check`/`eval` reports) stays English and is not scanned.
READER_FACING = [
    "bot/render.py",
    "bot/tg/handlers.py",
    "bot/tg/commands.py",
    "bot/tg/feedback.py",
    "bot/tg/keyboards.py",
    "bot/tg/language.py",
    ("bot/cli.py", "_chat"),
    ("bot/report.py", "format_stats"),
]
SENTENCE = re.compile(r"[A-Za-z]{2,}[ ’'][A-Za-z]{2,}")  # two words: prose, not a key or a tag
MARKERS = {"N_", "N_plural"}
OPERATOR_CALLS = {"debug", "info", "warning", "error", "critical", "exception"}  # log.<level>(...)


def sentence_literals(source: str, function: str | None = None) -> list[tuple[int, str]]:
    """String literals that read like prose and are neither marked for the catalogues, nor a
    docstring, nor a log line or an exception's message."""
    tree = ast.parse(source)
    if function is not None:
        tree = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == function)
    allowed: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            allowed.add(id(body[0].value))  # docstring
        exempt = None
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            if name in MARKERS or (name in OPERATOR_CALLS and isinstance(node.func, ast.Attribute)):
                exempt = node
        elif isinstance(node, ast.Raise):
            exempt = node
        if exempt is not None:
            allowed.update(id(n) for n in ast.walk(exempt))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        and id(node) not in allowed and SENTENCE.search(node.value)
    ]


@pytest.mark.parametrize("where", READER_FACING, ids=str)
def test_no_reader_facing_sentence_is_left_outside_the_catalogues(where: str | tuple[str, str]) -> None:
    path, function = (where, None) if isinstance(where, str) else where
    found = sentence_literals((ROOT / path).read_text(encoding="utf-8"), function)
    assert found == [], f"{path}: sentences not in the catalogues (wrap them in N_): {found}"


def test_the_scan_finds_an_inline_sentence() -> None:
    """The check above can fail: an inline reply, an f-string and a button label are all caught."""
    source = (
        'async def h(message, n):\n'
        '    """Docstrings are fine."""\n'
        '    log.info("Logged lines are fine %s", n)\n'
        '    await message.reply_text("Hello there, reader")\n'
        '    await message.reply_text(f"You asked {n} questions")\n'
        '    Button(N_("Marked is fine"), "a:x")\n'
        '    Button("All questions", "t:0")\n'
    )
    assert sorted(line for line, _ in sentence_literals(source)) == [4, 5, 7]


# -- replies in Russian and Ukrainian -------------------------------------------------------------


@pytest.fixture(scope="module")
def translated(engine: Engine) -> Engine:
    return translated_engine(engine)


@pytest.mark.parametrize(("lang", "texts", "label"), [("ru", RU, "Перевод:"), ("uk", UK, "Переклад:")])
def test_a_translated_answer_quotes_english_and_labels_the_translation(
    translated: Engine, lang: str, texts: dict[str, str], label: str
) -> None:
    reply = translated.answer_entry(ENTRY, lang)
    assert reply is not None and reply.entry is not None
    markup = render_html(reply)
    parse_html(markup)
    assert markup.startswith(f"<b>{texts['question']}</b>") and texts["answer"] in markup
    first, *others = reply.entry.quotes
    # The article's words, verbatim, in quotation marks and in the blockquote; the translation after
    # the attribution, labelled, never inside the quote and never in quotation marks.
    quote = f"<blockquote>“{first.text}”</blockquote>"
    assert quote in markup
    after = markup[markup.index(quote) + len(quote) :]
    attribution, translation_line = after.split("\n")[1:3]
    assert attribution.startswith("— <i>") and first.speaker.tr("name", lang) in attribution
    assert translation_line == f"<i>{label}</i> {texts['translation']}"
    assert f"“{texts['translation']}" not in markup and texts["translation"] not in markup.split("</blockquote>")[0]
    assert markup.count(label) == 1  # the untranslated quotes are shown in English only
    for quote_ in others:
        assert quote_.text in markup
    plain = render_text(reply)
    assert f"{label} {texts['translation']}" in plain and f"“{first.text}”" in plain


def test_a_russian_question_gets_a_russian_reply(translated: Engine) -> None:
    reply = translated.ask("Что сказал Песков о прорыве?")
    assert reply.outcome is Outcome.ANSWER and reply.entry is not None and reply.entry.id == ENTRY
    assert reply.lang == "ru"
    data = reply_to_dict(reply)
    assert data["lang"] == "ru" and data["text"].startswith(RU["question"])
    assert [q["translation"] for q in data["quotes"]] == [RU["translation"], None, None]
    assert [q["text"] for q in data["quotes"]] == [q.text for q in reply.entry.quotes]
    assert "Перевод:" in data["text"] and "Источник:" in data["text"]


def test_the_reply_language_rules(engine: Engine) -> None:
    assert engine.ask("Що сказав Пєсков про прорив?").lang == "uk"
    assert engine.ask("When was Crimea annexed?").lang == "en"
    assert engine.ask("When was Crimea annexed?", lang="uk").lang == "uk"  # forced
    assert engine.ask("?", fallback="ru").lang == "ru"  # nothing to tell by: the reader's
    assert engine.ask("Когда была аннексия Крыма?", fallback="uk").lang == "ru"  # the question's own
    english = engine.ask("When was Crimea annexed?")
    assert english.quotes and all(q["translation"] is None for q in reply_to_dict(english)["quotes"])


@pytest.mark.parametrize("lang", ["ru", "uk"])
def test_every_reply_in_every_language_is_telegram_html_within_the_limit(translated: Engine, lang: str) -> None:
    replies = [translated.answer_entry(e.id, lang) for e in translated.entries]
    replies += [translated.ask(q, lang=lang) for q in ("", "What's the weather in London?", "Peskov", "What did Lavrov say?")]
    for reply in replies:
        assert reply is not None and reply.lang == lang
        markup = render_html(reply)
        parse_html(markup)
        assert visible_length(markup) <= TELEGRAM_TEXT_LIMIT
    declined = render_html(translated.ask("What's the weather in London?", lang=lang))
    assert CYRILLIC.search(declined.split(":")[0])  # the bot's own sentence, in the language


def test_a_long_cyrillic_card_still_fits_counted_in_utf16(engine: Engine) -> None:
    long = translated_engine(engine, answer_extra=" " + "Очень длинный ответ 😀 " * 400)
    reply = long.answer_entry(ENTRY, "ru")
    assert reply is not None
    markup = render_html(reply)
    parse_html(markup)
    assert visible_length(markup) <= TELEGRAM_TEXT_LIMIT


def test_buttons_speak_the_message_s_language_and_fit(translated: Engine) -> None:
    entries = translated.entries
    for lang in LANGS:
        markup = keyboards.topics_keyboard(entries, 1, lang)
        data = [b.callback_data for row in markup.inline_keyboard for b in row if b.callback_data]
        assert all(len(str(d).encode()) <= keyboards.CALLBACK_LIMIT for d in data)
        assert all(str(d).startswith((f"a:{lang}:", f"t:{lang}:")) for d in data)
    ru = keyboards.start_keyboard([translated.kb.entry(ENTRY)], "ru")
    labels = [b.text for row in ru.inline_keyboard for b in row]
    assert labels[0] == RU["question"][: keyboards.BUTTON_TEXT_MAX - 1].rstrip() + "…"
    assert labels[1:] == ["Спросить в другом чате", "Все вопросы"]


# -- Telegram's per-language settings --------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_menus_and_descriptions_fit_telegram_s_limits(engine: Engine, lang: str) -> None:
    description, short = commands.descriptions(engine.kb.article, lang)
    assert 0 < len(description) <= 512 and 0 < len(short) <= 120
    for private in (True, False):
        for command in commands.menu(private, lang):
            assert 1 <= len(command.description) <= 256
    if lang != "en":
        assert CYRILLIC.search(description) and CYRILLIC.search(short)
        assert all(CYRILLIC.search(c.description) for c in commands.menu(True, lang))


def test_the_fake_bot_api_checks_the_per_language_settings() -> None:
    from fake_telegram import FakeTelegram

    fake = FakeTelegram("1:x")
    fake._api_setMyDescription({"description": "Привет", "language_code": "ru"})
    assert fake.descriptions == {("description", "ru"): "Привет"}
    for bad in (
        {"description": "x", "language_code": "rus"},
        {"description": "x", "language_code": "RU"},
        {"description": "я" * 513},
    ):
        with pytest.raises(Exception, match=r"invalid|too long"):
            fake._api_setMyDescription(bad)
    with pytest.raises(Exception, match="too long"):
        fake._api_setMyShortDescription({"short_description": "я" * 121})
    with pytest.raises(Exception, match="invalid"):
        fake._api_setMyCommands({"commands": [{"command": "a", "description": "b"}], "language_code": "r"})


# -- the CLI ---------------------------------------------------------------------------------------


def test_ask_lang_forces_the_reply_language(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["ask", "--json", "--lang", "uk", "When was Crimea annexed?"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["lang"] == "uk" and "Джерело:" in data["text"]
    assert data["quotes"] and all(q["translation"] for q in data["quotes"])  # the curator's, beside the English
    assert cli.main(["ask", "--json", "When was Crimea annexed?"]) == 0
    assert all(q["translation"] is None for q in json.loads(capsys.readouterr().out)["quotes"])  # English: none
    assert cli.main(["ask", "--json", "Что сказал Песков о прорыве?"]) == 0
    assert json.loads(capsys.readouterr().out)["lang"] == "ru"


def test_chat_follows_the_same_rules(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO("Де відбулися переговори?\n/topics\n".encode())))
    assert cli.main(["chat"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Ask me about")  # no question yet: English
    assert "Джерело:" in out  # the Ukrainian question's reply
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"/help\n")))
    assert cli.main(["chat", "--lang", "ru"]) == 0
    assert capsys.readouterr().out.startswith("Спрашивайте меня о статье")


# -- the stored choice -----------------------------------------------------------------------------


def test_a_language_choice_is_stored_replaced_and_forgotten(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'q.sqlite3'}")
    assert store.language("r1") is None
    store.set_language("r1", "ru")
    store.set_language("r1", "uk")
    store.set_language("r2", "en")
    assert (store.language("r1"), store.language("r2")) == ("uk", "en")
    removed = store.forget("r1")
    assert removed.language == 1 and removed.total == 1
    assert store.language("r1") is None and store.language("r2") == "en"
    store.dispose()


# -- the question sets: Russian and Ukrainian questions get their own language ----------------------


def test_russian_and_ukrainian_questions_get_replies_in_their_language(engine: Engine) -> None:
    """Every labelled ru/uk question written in Cyrillic (transliterated ones read as English): the
    reply's language, the bot's own sentences and its buttons in that language."""
    from bot.evaluation import load_questions, question_sets
    from bot.render import DID_YOU_MEAN, NOT_COVERED, OPINION, SCOPE, SOURCE

    asked = wrong = 0
    for path in question_sets(ROOT / "tests"):
        for question in load_questions(path):
            if question.lang == "en" or not CYRILLIC.search(question.text):
                continue
            asked += 1
            reply = engine.ask(question.text)
            if reply.lang != question.lang:
                wrong += 1
                continue
            texts = gettext_for(reply.lang)
            markup = render_html(reply)
            expected = {
                Outcome.ANSWER: texts.h_(SOURCE, outlet="", title="", date="").split(":")[0],
                Outcome.CLARIFY: texts.h_(OPINION if reply.opinion else DID_YOU_MEAN),
                Outcome.DECLINE: texts.h_(SCOPE, outlet="", title="", date="", summary="").split(" ")[0],
            }[reply.outcome]
            assert expected in markup, (question.text, markup[:300])
            if reply.outcome is Outcome.DECLINE and reply.party is None and not reply.empty_question:
                assert texts.h_(NOT_COVERED) in markup
            buttons = keyboards.questions_keyboard(reply.suggestions, reply.lang)
            for row in buttons.inline_keyboard if buttons else []:
                assert all(str(b.callback_data).startswith(f"a:{reply.lang}:") for b in row)
    assert asked > 250
    assert wrong <= asked // 100, f"{wrong} of {asked} got another language"  # measured: 1 of 310


def test_warm_reads_every_catalogue_and_the_date_data() -> None:
    """The bot calls i18n.warm before it serves, so that no reply waits for a catalogue or for Babel."""
    import datetime as dt
    import sys

    from bot import i18n
    from bot.frequencies import LANGUAGES

    i18n._texts.cache_clear()
    i18n.warm(dt.date(2022, 3, 30))
    assert i18n._texts.cache_info().currsize == len(LANGUAGES)
    assert "babel.dates" in sys.modules

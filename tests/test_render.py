"""Rendering: Telegram HTML that is escaped, well-formed and within limits; plain text; the JSON contract."""

from __future__ import annotations

import dataclasses
import html
import json
import re

import pytest
from fake_telegram_validation import _ALLOWED_TAGS

from bot.engine import Engine
from bot.model import Entry, KnowledgeBase, Note, Quote
from bot.render import TELEGRAM_TEXT_LIMIT, esc, render_html, render_text, reply_to_dict, visible_length
from bot.replies import Outcome, Reply

EVIL = '<script>alert("x")</script> & <b>bold</b> &amp; 1 < 2 > 0'
TELEGRAM_TAGS = _ALLOWED_TAGS  # the fake Bot API's list: one source of truth
TAG = re.compile(r"<(/?)([A-Za-z][\w-]*)([^<>]*)>")
ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#\d+|#x[0-9A-Fa-f]+);")


def telegram_length(markup: str) -> int:
    """Visible length counted independently of the renderer: no tags, entities decoded, UTF-16 units."""
    text = html.unescape(TAG.sub("", markup))
    return len(text.encode("utf-16-le")) // 2


def visible_text(markup: str) -> str:
    return html.unescape(TAG.sub("", markup))


def assert_well_formed(markup: str) -> None:
    """Only Telegram's tags, properly nested; no stray < > or bare &; no blockquote in a blockquote."""
    stack: list[str] = []
    position = 0
    for match in TAG.finditer(markup):
        text = markup[position : match.start()]
        assert "<" not in text and ">" not in text, f"stray angle bracket in {text!r}"
        assert ENTITY.sub("", text).count("&") == 0, f"bare & in {text!r}"
        closing, name, attributes = match.group(1), match.group(2).lower(), match.group(3).strip()
        assert name in TELEGRAM_TAGS, f"tag <{name}> is not allowed by Telegram"
        if closing:
            assert not attributes, match.group(0)
            assert stack and stack[-1] == name, f"</{name}> closes {stack[-1] if stack else 'nothing'}"
            stack.pop()
        else:
            assert not attributes or name in {"a", "span", "tg-emoji", "code", "pre", "blockquote"}, (
                match.group(0)
            )
            if name == "blockquote":
                assert "blockquote" not in stack, "nested blockquote"
            stack.append(name)
        position = match.end()
    rest = markup[position:]
    assert "<" not in rest and ">" not in rest and ENTITY.sub("", rest).count("&") == 0, rest
    assert not stack, f"unclosed tags {stack}"


def telegram_parse(markup: str) -> None:
    """The project's fake Bot API parser (a TDLib look-alike), when it is there."""
    validation = pytest.importorskip("fake_telegram_validation")
    validation.parse_html(markup)


# -- fixtures: a knowledge base full of markup -------------------------------------------------------


@pytest.fixture(scope="module")
def evil_engine(engine: Engine) -> Engine:
    """The real knowledge with HTML-special characters in every text a reader can see."""
    kb = engine.kb
    article = dataclasses.replace(
        kb.article,
        title=f"Title {EVIL}",
        outlet=f"AFP {EVIL}",
        published_text=f"Wednesday {EVIL}",
        summary=f"summary {EVIL}",
    )
    speakers = {
        sid: dataclasses.replace(s, name=f"{s.name} {EVIL}", role=f"role {EVIL}")
        for sid, s in kb.speakers.items()
    }
    notes = {nid: dataclasses.replace(n, text=f"{n.text} {EVIL}") for nid, n in kb.notes.items()}

    def evil_entry(entry: Entry) -> Entry:
        return dataclasses.replace(
            entry,
            question=f"{entry.question} {EVIL}",
            answer=f"{entry.answer} {EVIL}",
            quotes=tuple(
                Quote(f"{q.text} {EVIL}", speakers[q.speaker.id], f"role {EVIL}", f"{q.channel} {EVIL}")
                for q in entry.quotes
            ),
            notes=tuple(notes[n.id] for n in entry.notes),
        )

    evil_kb = dataclasses.replace(kb, article=article, speakers=speakers, notes=notes)
    evil_kb = dataclasses.replace(evil_kb, entries=tuple(evil_entry(e) for e in kb.entries))
    return Engine(evil_kb)


def huge_entry(kb: KnowledgeBase, quotes: int = 80) -> Entry:
    base = kb.entries[0]
    quote = base.quotes[0]
    return dataclasses.replace(
        base,
        question="What happened? " + "Q&A 🇺🇦 <i> " * 50,
        answer="A very long answer & more <tags> 🇺🇦 " * 600,
        quotes=tuple(
            Quote(f"{quote.text} #{n} " + "x & y < z " * 40, quote.speaker, quote.role, quote.channel)
            for n in range(quotes)
        ),
        notes=tuple(kb.notes.values()) * 10,
    )


def all_replies(engine: Engine) -> list[Reply]:
    replies = [engine.answer_entry(e.id) for e in engine.entries]
    for question in ["", "Ukraine", "Kremlin", "What's the weather in London?", "Who is Peskov?", "the"]:
        replies.append(engine.ask(question))
    return replies


# -- HTML ---------------------------------------------------------------------------------------------


def test_esc():
    assert esc("<a href='x'>&</a>") == "&lt;a href='x'&gt;&amp;&lt;/a&gt;"


def test_every_visible_text_is_escaped(evil_engine: Engine):
    kb = evil_engine.kb
    for entry in kb.entries:
        reply = evil_engine.answer_entry(entry.id)
        markup = render_html(reply)
        assert "<script>" not in markup and "<b>bold</b>" not in markup
        assert_well_formed(markup)
        shown = visible_text(markup)
        expected = [
            entry.question,
            entry.answer,
            kb.article.title,
            kb.article.outlet,
            kb.article.published_text,
        ]
        for quote in entry.quotes:
            expected += [quote.text, quote.speaker.name, quote.channel]
            if quote.role:
                expected.append(quote.role)
        expected += [note.text for note in reply.notes]
        for text in expected:
            assert text in shown, f"{entry.id}: {text!r} not shown verbatim"


def test_clarify_and_decline_are_escaped(evil_engine: Engine):
    kb = evil_engine.kb
    for question in ["", "Ukraine", "Kremlin", "What's the weather in London?"]:
        reply = evil_engine.ask(question)
        markup = render_html(reply)
        assert "<script>" not in markup
        assert_well_formed(markup)
        shown = visible_text(markup)
        for entry in reply.suggestions if reply.outcome is not Outcome.ANSWER else ():  # answers: buttons
            assert entry.question in shown
        if reply.outcome is Outcome.DECLINE:
            for text in (kb.article.title, kb.article.outlet, kb.article.summary):
                assert text in shown


def test_quotes_are_blockquotes_with_attribution(engine: Engine):
    for entry in engine.entries:
        markup = render_html(engine.answer_entry(entry.id))
        pieces = re.split(r"<blockquote[^>]*>", markup)[1:]
        assert len(pieces) == len(entry.quotes), entry.id
        for quote, piece in zip(entry.quotes, pieces, strict=True):
            inside, _, after = piece.partition("</blockquote>")
            assert esc(quote.text) in inside, (entry.id, quote.text)
            attribution = after.strip().split("\n")[0]
            assert esc(quote.speaker.name) in attribution, (entry.id, attribution)
            assert esc(quote.channel) in attribution, (entry.id, attribution)
            if quote.role:
                assert esc(quote.role) in attribution


@pytest.mark.parametrize(
    ("entry_id", "fact"), [("crimea-annexation", "2014"), ("talks-when", "29 March 2022")]
)
def test_editors_note_is_shown(engine: Engine, entry_id: str, fact: str):
    reply = engine.answer_entry(entry_id)
    assert reply.notes, f"{entry_id} has no editor's note"
    markup = render_html(reply)
    assert "Editor" in markup
    assert fact in markup
    for note in reply.notes:
        assert esc(note.text) in markup
    assert "Editor" in render_text(reply) and fact in render_text(reply)


def test_editors_note_shown_when_asked(engine: Engine):
    reply = engine.ask("When was Crimea annexed?")
    assert reply.outcome is Outcome.ANSWER
    assert "2014" in render_html(reply)


def test_source_line(engine: Engine):
    article = engine.kb.article
    for entry in engine.entries:
        markup = render_html(engine.answer_entry(entry.id))
        last = markup.strip().split("\n")[-1]
        assert esc(article.title) in last, last
        assert "AFP" in last
        assert "Wednesday 30 March 2022" in last


def test_real_replies_are_well_formed_and_fit(engine: Engine):
    for reply in all_replies(engine):
        markup = render_html(reply)
        assert_well_formed(markup)
        assert 0 < visible_length(markup) <= TELEGRAM_TEXT_LIMIT
        assert telegram_length(markup) == visible_length(markup)


def test_real_replies_pass_the_fake_telegram_parser(engine: Engine):
    for reply in all_replies(engine):
        telegram_parse(render_html(reply))


@pytest.mark.parametrize("quotes", [0, 1, 5, 80])
def test_huge_answer_is_cut_to_telegram_limit(engine: Engine, quotes: int):
    entry = huge_entry(engine.kb, quotes)
    if not quotes:
        entry = dataclasses.replace(entry, quotes=())
    reply = Reply(
        Outcome.ANSWER, entry.question, engine.kb.article, entry=entry, score=99.0, notes=entry.notes
    )
    markup = render_html(reply)
    assert visible_length(markup) <= TELEGRAM_TEXT_LIMIT
    assert telegram_length(markup) <= TELEGRAM_TEXT_LIMIT
    assert_well_formed(markup)
    assert "<tags>" not in markup and "<i> " not in markup  # the text's own markup stays escaped


def test_many_quotes_keep_question_and_source(engine: Engine):
    base = engine.kb.entries[0]
    entry = dataclasses.replace(base, quotes=base.quotes * 100)
    reply = Reply(Outcome.ANSWER, entry.question, engine.kb.article, entry=entry, score=99.0)
    markup = render_html(reply)
    assert visible_length(markup) <= TELEGRAM_TEXT_LIMIT
    assert_well_formed(markup)
    assert markup.startswith(f"<b>{esc(entry.question)}</b>")
    assert "Wednesday 30 March 2022" in markup.strip().split("\n")[-1]


@pytest.mark.parametrize("limit", [50, 200, 1000])
def test_smaller_limits_are_respected(engine: Engine, limit: int):
    for reply in all_replies(engine):
        markup = render_html(reply, limit=limit)
        assert visible_length(markup) <= limit
        assert_well_formed(markup)


def test_huge_question_in_clarify_and_decline(engine: Engine):
    entry = dataclasses.replace(engine.kb.entries[0], question="Why & <how> 🇺🇦 " * 2000)
    for outcome in (Outcome.CLARIFY, Outcome.DECLINE):
        reply = Reply(outcome, "x", engine.kb.article, suggestions=(entry, entry, entry))
        markup = render_html(reply)
        assert visible_length(markup) <= TELEGRAM_TEXT_LIMIT
        assert_well_formed(markup)


# -- plain text ---------------------------------------------------------------------------------------


def test_plain_text_has_no_markup(evil_engine: Engine):
    for entry in evil_engine.entries:
        reply = evil_engine.answer_entry(entry.id)
        text = render_text(reply)
        assert "&lt;script&gt;" not in text and "&amp;amp;" not in text  # nothing escaped
        assert entry.question in text and entry.answer in text
        for quote in entry.quotes:
            assert quote.text in text and quote.speaker.name in text and quote.channel in text
        for note in reply.notes:
            assert note.text in text
        assert evil_engine.kb.article.title in text


def test_plain_text_outcomes(engine: Engine):
    assert engine.kb.article.title in render_text(engine.ask(""))
    clarify = engine.ask("Ukraine")
    if clarify.outcome is Outcome.CLARIFY:
        text = render_text(clarify)
        for entry in clarify.suggestions:
            assert entry.question in text
    decline = render_text(engine.ask("What's the weather in London?"))
    assert engine.kb.article.title in decline


# -- the JSON contract --------------------------------------------------------------------------------


def check_dict(data: dict, reply: Reply) -> None:
    assert {"question", "matched", "entry", "score", "text", "quotes", "suggestions"} <= set(data)
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert isinstance(data["question"], str) and data["question"] == reply.question
    assert data["matched"] is reply.matched
    assert isinstance(data["score"], int | float) and 0 <= data["score"] <= 100
    assert data["text"] == render_text(reply)
    if reply.matched:
        assert data["entry"] == reply.entry.id
        assert len(data["quotes"]) == len(reply.entry.quotes)
    else:
        assert data["entry"] is None and data["quotes"] == []
    for quote, source in zip(data["quotes"], reply.quotes, strict=True):
        assert set(quote) == {"text", "speaker", "role", "channel", "translation"}
        assert quote["text"] == source.text and quote["speaker"] == source.speaker.name
        assert quote["role"] == source.role and quote["channel"] == source.channel
        assert quote["translation"] == source.translation(reply.lang)  # None in English
        assert data["lang"] != "en" or quote["translation"] is None
    assert [s["entry"] for s in data["suggestions"]] == [e.id for e in reply.suggestions]
    for suggestion in data["suggestions"]:
        assert set(suggestion) >= {"entry", "question"}
        assert isinstance(suggestion["question"], str) and suggestion["question"]


def test_reply_to_dict(engine: Engine):
    for reply in all_replies(engine):
        check_dict(reply_to_dict(reply), reply)


def test_reply_to_dict_outcomes(engine: Engine):
    answer = reply_to_dict(engine.ask("When was Crimea annexed?"))
    assert answer["matched"] is True and answer["entry"] == "crimea-annexation" and answer["quotes"]
    decline = reply_to_dict(engine.ask("What's the weather in London?"))
    assert decline["matched"] is False and decline["entry"] is None and decline["quotes"] == []
    assert decline["suggestions"]  # examples to ask instead
    empty = reply_to_dict(engine.ask("   "))
    assert empty["question"] == "" and empty["matched"] is False


def test_note_model_roundtrip():
    note = Note("n", "text", ("trigger",))
    assert dataclasses.replace(note, text="other").id == "n"


def test_a_long_card_keeps_the_editors_note(engine: Engine):
    """Cut to fit, a card gives up extra quotes before the note that corrects what it quotes."""
    reply = engine.answer_entry("crimea-donbas-position")
    assert reply is not None and reply.notes
    full = render_html(reply)
    tight = render_html(reply, limit=visible_length(full) - 20)
    assert "Editor’s note" in tight
    assert visible_length(tight) <= visible_length(full) - 20


@pytest.mark.parametrize(
    ("question", "lang", "opening"),
    [
        ("who benefits from saying there was no breakthrough", "en", "The article reports what was said"),
        ("Лавров доволен переговорами, а это хорошо или плохо?", "ru", "Статья передаёт сказанное"),
        ("Лавров задоволений переговорами, а це добре чи погано?", "uk", "Стаття передає сказане"),
    ],
)
def test_an_opinion_question_is_told_the_article_does_not_judge(engine: Engine, question: str, lang: str, opening: str):
    """Not "which question do you mean?": the reader asked for a judgement the article does not give."""
    reply = engine.ask(question)
    assert reply.outcome is Outcome.CLARIFY and reply.opinion and reply.lang == lang, reply
    assert render_text(reply).startswith(opening)
    assert render_html(reply).startswith(opening)
    assert not engine.ask("Lavrov pleased or Kremlin gloomy, which is it?").opinion

"""Property-based tests: whatever a reader types, the engine answers and the HTML is valid Telegram HTML."""

from __future__ import annotations

from fake_telegram_validation import parse_html, utf16_len
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from outcomes import expected_outcome

from bot.engine import Engine
from bot.render import TELEGRAM_TEXT_LIMIT, render_html, render_text, reply_to_dict
from bot.replies import Outcome

# Text a hostile or careless reader might send: any code point (surrogates excluded, as in UTF-8),
# plus fragments that look like markup, format strings, SQL and escape sequences.
TRICKY = st.sampled_from(
    [
        "<b>",
        "</blockquote>",
        "&amp;",
        "&",
        "<",
        ">",
        "%s",
        "{0}",
        "'; DROP TABLE entries; --",
        "\x1b[31m",
        "\u202e",
        "\u200b",
        "\u0301",
        "🇺🇦",
        "Песков",
        "**bold**",
        "[link](http://x)",
        "\x00",
        "Peskov",
    ]
)
QUESTIONS = st.lists(st.one_of(st.text(max_size=40), TRICKY), max_size=12).map("".join)
SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(question=QUESTIONS)
def test_any_question_gets_a_valid_reply(engine: Engine, question: str) -> None:
    reply = engine.ask(question)
    assert reply.outcome is expected_outcome(engine, reply)
    markup = render_html(reply)
    plain, _ = parse_html(markup)  # raises like Telegram would on markup it cannot parse
    assert 0 < utf16_len(plain) <= TELEGRAM_TEXT_LIMIT
    assert render_text(reply)
    assert reply_to_dict(reply)["matched"] == (reply.outcome is Outcome.ANSWER)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(piece=st.text(min_size=1, max_size=200), repeat=st.integers(min_value=20, max_value=200))
def test_enormous_input_is_handled(engine: Engine, piece: str, repeat: int) -> None:
    reply = engine.ask(piece * repeat)  # up to 40,000 characters
    plain, _ = parse_html(render_html(reply))
    assert utf16_len(plain) <= TELEGRAM_TEXT_LIMIT


@SETTINGS
@given(question=QUESTIONS)
def test_user_text_never_comes_back_as_markup(engine: Engine, question: str) -> None:
    """Whatever was typed, nothing of it reaches the HTML unescaped (replies never echo raw input)."""
    markup = render_html(engine.ask("<b>" + question + "</b>"))
    assert "<b><b>" not in markup and "<script" not in markup


@SETTINGS
@given(
    limit=st.integers(min_value=200, max_value=TELEGRAM_TEXT_LIMIT),
    entry=st.integers(min_value=0, max_value=200),
)
def test_every_answer_card_fits_any_limit(engine: Engine, limit: int, entry: int) -> None:
    target = engine.entries[entry % len(engine.entries)]
    reply = engine.answer_entry(target.id)
    assert reply is not None
    plain, _ = parse_html(render_html(reply, limit=limit))
    assert utf16_len(plain) <= limit

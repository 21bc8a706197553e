"""The fake server's fast HTML parser and form decoder give the verdicts of the old ones.

Same plain text, same entities, or the same error description (offsets included), on the bot's
real replies, on hand-picked edge cases, and on random HTML-ish strings.  The old parser is kept
in fake_telegram_html_reference.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

import fake_telegram_html_reference as reference
import fake_telegram_validation as rules
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.engine import Engine
from bot.evaluation import load_questions
from bot.render import render_html


def verdict(parse: Any, text: str, strict: bool) -> tuple[str, Any]:
    try:
        return "ok", parse(text, strict)
    except rules.ApiError as error:
        return "error", (error.status, error.description)


def fast(text: str, strict: bool) -> tuple[str, list[dict[str, Any]]]:
    return rules.prepare_text({"text": text, "parse_mode": "HTML"}, "text", strict)


def assert_same(text: str, strict: bool = True) -> None:
    assert verdict(fast, text, strict) == verdict(reference.prepare_html, text, strict), text


EDGE_CASES = [
    "plain",
    "  <b> spaced </b>  ",
    "<b>bold <i>both</i></b> &lt;&gt;&amp;&quot; &#128512; &#x1F600; &#0; &#x110000; &#1234567890;",
    "a & b",
    "a &unknown; b",
    "&lt",
    "<b>unclosed",
    "</b>",
    "<b></i>",
    "<b>x</>",
    "<b>x</b >",
    "<b>x</b",
    "<B>upper</B>",
    "<b",
    "<unknown>x</unknown>",
    "<span>x</span>",
    '<span class="tg-spoiler">x</span>',
    "<span class=tg-spoiler>x</span>",
    '<a href="https://example.com">link</a>',
    "<a>example.com</a>",
    '<a href="">no url</a>',
    "<a href='javascript:alert(1)'>js</a>",
    '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>',
    '<tg-emoji emoji-id="abc">👍</tg-emoji>',
    "<blockquote>q <blockquote>nested</blockquote></blockquote>",
    "<blockquote expandable>q</blockquote>",
    '<pre><code class="language-python">print()</code></pre>',
    '<code class="language-python"><pre>x</pre></code>',
    "<b =x>y</b>",
    "<b x=y!>z</b>",
    '<b x="unterminated>z</b>',
    "<b x=>z</b>",
    "<b>\ud800</b>",
    "&#55296;",
    "<b></b>empty entity",
    "x" * 4096,
    "x" * 4097,
    "😀" * 2048,
    "😀" * 2049,
    "<b>" + "я" * 4096 + "</b>",
    "&amp;" * 4097,
    "   ",
    "<b> </b>",
    "a\x00<b\x00>b</b>",
    "<b\t>x</b\n>",
]


@pytest.mark.parametrize("text", EDGE_CASES)
@pytest.mark.parametrize("strict", [True, False])
def test_edge_cases_same_verdict(text: str, strict: bool) -> None:
    assert_same(text, strict)


def test_real_replies_same_verdict(engine: Engine, knowledge_dir: Any) -> None:
    questions = load_questions(knowledge_dir.parent / "tests" / "questions.yaml")
    replies = {render_html(engine.ask(q.text)) for q in questions}
    assert len(replies) > 50
    for reply in replies:
        assert verdict(fast, reply, True)[0] == "ok", reply
        assert_same(reply)


_FRAGMENTS = st.sampled_from(
    [
        "<b>", "</b>", "<i>", "</i>", "<u>", "</u>", "<s>", "</s>", "<code>", "</code>", "<pre>",
        "</pre>", "<blockquote>", "<blockquote expandable>", "</blockquote>", '<a href="t.me/x">',
        "<a>", "</a>", '<span class="tg-spoiler">', "<span>", "</span>", "<tg-spoiler>",
        "</tg-spoiler>", '<tg-emoji emoji-id="1">', "</tg-emoji>", '<code class="language-py">',
        "<", ">", "&", "&amp;", "&lt;", "&gt", "&quot;", "&#65;", "&#x1F600;", "&#xD800;", "&#0;",
        "&nbsp;", "</", "</>", "<b ", " ", "\n", "\t", "=", '"', "'", "x", "текст", "😀", "\ud83d",
    ]
)  # fmt: skip
_HTMLISH = st.lists(st.one_of(_FRAGMENTS, st.text(max_size=4)), max_size=30).map("".join)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_HTMLISH, strict=st.booleans())
def test_random_htmlish_same_verdict(text: str, strict: bool) -> None:
    assert_same(text, strict)


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=st.sampled_from("<>/&;#xab =\"' \n😀я"), max_size=40))
def test_random_punctuation_same_verdict(text: str) -> None:
    assert_same(text)


_FORM_PIECES = st.sampled_from(["&", "=", "+", "%", "%2", "%D0", "%BF", "%d1%8f", "%E2%82%AC", "%F0%9F", "%zz", "a", "я", "\udc80", " "])  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(text=st.lists(st.one_of(_FORM_PIECES, st.text(max_size=3)), max_size=25).map("".join))
def test_form_decoding_is_parse_qsl(text: str) -> None:
    assert rules.parse_form(text) == parse_qsl(text, keep_blank_values=True)


@given(params=st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=40), max_size=5))
def test_form_decoding_of_encoded_params(params: dict[str, str]) -> None:
    assert dict(rules.parse_form(urlencode(params))) == params

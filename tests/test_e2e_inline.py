"""End to end, inline mode: `@bot question` in any chat, ranked answers ready to post."""

from __future__ import annotations

import pytest
from e2e_support import ARTICLE_TITLE, SOURCE_LINE, Chat, entry_count

pytest_plugins = ["conftest_e2e"]


def assert_answer_result(result: dict) -> None:
    """A result a user can pick: a title, a description, and a card that quotes the article."""
    assert result["type"] == "article"
    assert result["title"] and result["description"]
    assert len(result["description"]) <= 150
    content = result["input_message_content"]
    assert content["parse_mode"] == "HTML"  # the fake parsed it, so it is valid Telegram HTML
    assert "<blockquote>" in content["message_text"]
    assert SOURCE_LINE in content["message_text"]


async def test_question_offers_ranked_answers(e2e: Chat) -> None:
    user = e2e.new_user()
    answer = await e2e.inline(user, "where were the talks held")
    assert 1 <= len(answer.results) <= 10
    assert answer.results[0]["id"] == "talks-where"
    assert answer.results[0]["title"] == "Where were the talks held?"
    for result in answer.results:
        assert_answer_result(result)
    assert len({r["id"] for r in answer.results}) == len(answer.results)


async def test_question_with_an_editors_note(e2e: Chat) -> None:
    user = e2e.new_user()
    answer = await e2e.inline(user, "When was Crimea annexed?")
    first = answer.results[0]
    assert first["id"] == "crimea-annexation"
    assert "Russia annexed Crimea in 2014" in first["input_message_content"]["message_text"]


async def test_empty_query_lists_every_question_page_by_page(e2e: Chat) -> None:
    user = e2e.new_user()
    seen: list[str] = []
    offset, offsets = "", []
    for _ in range(entry_count()):  # guard against an endless next_offset
        answer = await e2e.inline(user, "", offset=offset)
        assert 1 <= len(answer.results) <= 10
        for result in answer.results:
            assert_answer_result(result)
        seen += [r["id"] for r in answer.results]
        offset = answer.next_offset or ""
        offsets.append(offset)
        if not offset:
            break
    total = entry_count()
    assert offsets == [str(start) for start in range(10, total, 10)] + [""]
    assert len(seen) == len(set(seen)) == total


@pytest.mark.parametrize("offset", ["999", "abc", "-5", "²"])
async def test_strange_offsets_are_answered(e2e: Chat, offset: str) -> None:
    """Offsets come back from the client; a modified one gets an answer, not an error."""
    user = e2e.new_user()
    answer = await e2e.inline(user, "", offset=offset)
    assert len(answer.results) <= 10
    assert answer.next_offset in ("", "10", None)


async def test_off_topic_query_says_not_covered_and_offers_the_private_chat(e2e: Chat) -> None:
    user = e2e.new_user()
    answer = await e2e.inline(user, "Who won the football world cup?")
    [result] = answer.results
    assert result["title"] == "The article doesn’t cover this"
    text = result["input_message_content"]["message_text"]
    assert "doesn’t cover that" in text and ARTICLE_TITLE in text
    assert "<blockquote>" not in text
    button = answer.params["button"]
    assert button["text"] and button["start_parameter"]
    # the button opens the private chat with /start <parameter>: a welcome, not an error
    welcome = await e2e.say(user, f"/start {button['start_parameter']}")
    assert welcome.plain_text.startswith("Hello!")


async def test_256_character_query_is_answered(e2e: Chat) -> None:
    user = e2e.new_user()
    query = ("Where were the talks held? " * 10)[:256]
    assert len(query) == 256
    answer = await e2e.inline(user, query)
    assert answer.results[0]["id"] == "talks-where"
    assert len(answer.results) <= 10


async def test_html_in_a_query_is_not_echoed(e2e: Chat) -> None:
    user = e2e.new_user()
    answer = await e2e.inline(user, "<b>x</b> & <script>alert(1)</script>")
    for result in answer.results:
        text = result["input_message_content"]["message_text"]
        assert "<script>" not in text and "<script>" not in result["title"]

"""One reply, two looks: Telegram HTML and plain text (console and JSON)."""

from __future__ import annotations

import html
import re
from typing import Any

from bot.model import Article, Entry, Quote
from bot.replies import Outcome, Reply
from bot.textnorm import utf16_len

TELEGRAM_TEXT_LIMIT = 4096
# The bot's own sentences, shared by both looks.
SCOPE = "I answer questions about one {outlet} story, {title} ({date}): {summary}."
ASK_ANYTHING = "Ask me anything about the story, for example:"
NOT_COVERED = "Sorry, the article doesn’t cover that, so I can’t answer it."
FOR_EXAMPLE = "You could ask, for example:"
DID_YOU_MEAN = "I’m not sure which question you mean. Did you mean:"
_TAG = re.compile(r"<[^>]*>")


def esc(text: str) -> str:
    """Escape text for Telegram HTML (only <, > and & matter there)."""
    return html.escape(text, quote=False)


def visible_length(markup: str) -> int:
    """Length of HTML as Telegram counts it: tags removed, entities decoded, UTF-16 units."""
    return utf16_len(html.unescape(_TAG.sub("", markup)))


def attribution(quote: Quote) -> str:
    """'Dmitry Peskov, Kremlin spokesman, told reporters' — exactly what the article gives."""
    parts = [quote.speaker.name]
    if quote.role:
        parts.append(quote.role)
    return ", ".join(parts) + f" ({quote.channel})"


def quoted(quote: Quote) -> str:
    """A person's words in quotation marks; the report's own narration as the excerpt it is."""
    return quote.text if quote.speaker.narrator else f"“{quote.text}”"


def source_line(article: Article) -> str:
    return f"Source: {article.outlet}, “{article.title}”, {article.published_text}"


# -- HTML ------------------------------------------------------------------------------------


# Blocks of an answer card, by how willingly they are given up when a card is too long.
# An editor's note is never given up while a quote it corrects could still be shown.
KEEP, FIRST_QUOTE, MORE_QUOTES = 0, 1, 2
NOTE = KEEP


def render_html(reply: Reply, limit: int = TELEGRAM_TEXT_LIMIT) -> str:
    """Telegram HTML for a reply; never longer than `limit` as Telegram counts it."""
    if reply.outcome is Outcome.ANSWER and reply.entry:
        blocks = _answer_html(reply.entry, reply)
    elif reply.outcome is Outcome.CLARIFY:
        blocks = [
            (KEEP, DID_YOU_MEAN),
            (KEEP, "\n".join(f"{n}. {esc(e.question)}" for n, e in enumerate(reply.suggestions, 1))),
        ]
    else:
        blocks = [(KEEP, _decline_html(reply))]
    return _fit(blocks, limit)


def _answer_html(entry: Entry, reply: Reply) -> list[tuple[int, str]]:
    blocks = [(KEEP, f"<b>{esc(entry.question)}</b>"), (KEEP, esc(entry.answer))]
    for position, quote in enumerate(entry.quotes):
        text = f"<blockquote>{esc(quoted(quote))}</blockquote>\n— <i>{esc(attribution(quote))}</i>"
        blocks.append((FIRST_QUOTE if position == 0 else MORE_QUOTES, text))
    for note in reply.notes:
        blocks.append((NOTE, f"<b>Editor’s note:</b> {esc(note.text)}"))
    blocks.append((KEEP, f"<i>{esc(source_line(reply.article))}</i>"))
    return blocks


def _decline_html(reply: Reply) -> str:
    article = reply.article
    scope = SCOPE.format(
        outlet=esc(article.outlet),
        title=f"<i>“{esc(article.title)}”</i>",
        date=esc(article.published_text),
        summary=esc(article.summary),
    )
    examples = "\n".join(f"• {esc(e.question)}" for e in reply.suggestions)
    if reply.empty_question:
        return f"{scope}\n\n{ASK_ANYTHING}\n{examples}"
    opening = esc(reply.explanation) if reply.explanation else NOT_COVERED
    return f"{opening} {scope}\n\n{FOR_EXAMPLE}\n{examples}"


def _fit(blocks: list[tuple[int, str]], limit: int) -> str:
    """Join blocks; if too long, give up the most expendable blocks last-first, then cut text."""
    blocks = list(blocks)
    while visible_length("\n\n".join(b for _, b in blocks)) > limit:
        expendable = max(priority for priority, _ in blocks)
        if expendable == KEEP:
            break
        last = max(i for i, (priority, _) in enumerate(blocks) if priority == expendable)
        del blocks[last]
    text = "\n\n".join(b for _, b in blocks)
    if visible_length(text) <= limit:
        return text
    # Even the essentials are too long (an absurd entry): send them as plain, escaped, cut text.
    plain = html.unescape(_TAG.sub("", text))
    while utf16_len(plain) > limit - 1:
        plain = plain[: max(0, len(plain) - max(1, utf16_len(plain) - limit + 1))]
    return esc(plain.rstrip()) + "…"


# -- plain text ------------------------------------------------------------------------------


def render_text(reply: Reply) -> str:
    """Plain text for the console and for scripts."""
    article = reply.article
    if reply.outcome is Outcome.ANSWER and reply.entry:
        entry = reply.entry
        lines = [entry.question, "", entry.answer]
        for quote in entry.quotes:
            lines += ["", f"  {quoted(quote)}", f"    — {attribution(quote)}"]
        for note in reply.notes:
            lines += ["", f"Editor’s note: {note.text}"]
        if reply.suggestions:
            lines += ["", "Related questions:"] + [f"  • {e.question}" for e in reply.suggestions]
        lines += ["", source_line(article)]
        return "\n".join(lines)
    if reply.outcome is Outcome.CLARIFY:
        lines = [DID_YOU_MEAN]
        lines += [f"  {n}. {e.question}" for n, e in enumerate(reply.suggestions, 1)]
        return "\n".join(lines)
    scope = SCOPE.format(
        outlet=article.outlet,
        title=f"“{article.title}”",
        date=article.published_text,
        summary=article.summary,
    )
    if reply.empty_question:
        lines = [scope, "", ASK_ANYTHING]
    else:
        lines = [f"{reply.explanation or NOT_COVERED} {scope}", "", FOR_EXAMPLE]
    lines += [f"  • {e.question}" for e in reply.suggestions]
    return "\n".join(lines)


def reply_to_dict(reply: Reply) -> dict[str, Any]:
    """The stable JSON contract of `python -m bot ask --json`."""
    return {
        "question": reply.question,
        "lang": reply.lang,
        "matched": reply.matched,
        "outcome": str(reply.outcome),
        "entry": reply.entry.id if reply.matched and reply.entry else None,
        "score": round(reply.score, 2),
        "text": render_text(reply),
        "quotes": [
            {"text": q.text, "speaker": q.speaker.name, "role": q.role, "channel": q.channel}
            for q in reply.quotes
        ],
        "notes": [note.text for note in reply.notes],
        "suggestions": [{"entry": e.id, "question": e.question} for e in reply.suggestions],
    }

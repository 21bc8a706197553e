"""One reply, two looks: Telegram HTML and plain text (console and JSON)."""

from __future__ import annotations

import html
import re
from typing import Any

from bot.i18n import N_, Texts, gettext_for
from bot.model import SOURCE_LANGUAGE, Article, Entry, Quote
from bot.replies import Outcome, Reply
from bot.textnorm import utf16_len

TELEGRAM_TEXT_LIMIT = 4096
# The bot's own sentences, shared by both looks (translated where shown: bot/locale).
SCOPE = N_("I answer questions about one {outlet} story, {title} ({date}): {summary}.")
ASK_ANYTHING = N_("Ask me anything about the story, for example:")
NOT_COVERED = N_("Sorry, the article doesn’t cover that, so I can’t answer it.")
FOR_EXAMPLE = N_("You could ask, for example:")
DID_YOU_MEAN = N_("I’m not sure which question you mean. Did you mean:")
# Asked for an opinion, a motive or a guess (vocabulary `opinion`): the article does not give one.
OPINION = N_("The article reports what was said; it doesn’t judge it or guess at motives. What it does say, near your question:")
EDITORS_NOTE = N_("Editor’s note:")
TRANSLATION = N_("Translation:")  # the curator's translation of a quote, never the speaker's words
RELATED = N_("Related questions:")
SOURCE = N_("Source: {outlet}, {title}, {date}")
_TAG = re.compile(r"<[^>]*>")


def esc(text: str) -> str:
    """Escape text for Telegram HTML (only <, > and & matter there)."""
    return html.escape(text, quote=False)


def visible_length(markup: str) -> int:
    """Length of HTML as Telegram counts it: tags removed, entities decoded, UTF-16 units."""
    return utf16_len(html.unescape(_TAG.sub("", markup)))


def attribution(quote: Quote, lang: str = SOURCE_LANGUAGE) -> str:
    """'Dmitry Peskov, Kremlin spokesman (told reporters)': exactly what the article gives, in `lang`."""
    parts = [quote.speaker.tr("name", lang)]
    if quote.role:
        parts.append(quote.tr("role", lang))
    return ", ".join(parts) + f" ({quote.tr('channel', lang)})"


def quoted(quote: Quote) -> str:
    """A person's words in quotation marks, always the article's English; narration as the excerpt it is."""
    return quote.text if quote.speaker.narrator else f"“{quote.text}”"


def article_date(article: Article, texts: Texts) -> str:
    """The publication date as the article gives it, or as the reply's language writes it."""
    return article.published_text if texts.lang == SOURCE_LANGUAGE else texts.date(article.published)


def source_line(article: Article, lang: str = SOURCE_LANGUAGE) -> str:
    """The citation: the article's own English title, so it can be found."""
    texts = gettext_for(lang)
    return texts._(SOURCE, outlet=article.outlet, title=f"“{article.title}”", date=article_date(article, texts))


# -- HTML ------------------------------------------------------------------------------------


# Blocks of an answer card, by how willingly they are given up when a card is too long.
# An editor's note is never given up while a quote it corrects could still be shown.
KEEP, FIRST_QUOTE, MORE_QUOTES = 0, 1, 2
NOTE = KEEP


def render_html(reply: Reply, limit: int = TELEGRAM_TEXT_LIMIT) -> str:
    """Telegram HTML for a reply in its language; never longer than `limit` as Telegram counts it."""
    texts = gettext_for(reply.lang)
    if reply.outcome is Outcome.ANSWER and reply.entry:
        blocks = _answer_html(reply.entry, reply, texts)
    elif reply.outcome is Outcome.CLARIFY:
        numbered = (f"{n}. {esc(e.tr('question', texts.lang))}" for n, e in enumerate(reply.suggestions, 1))
        blocks = [(KEEP, texts.h_(OPINION if reply.opinion else DID_YOU_MEAN)), (KEEP, "\n".join(numbered))]
    else:
        blocks = [(KEEP, _decline_html(reply, texts))]
    return _fit(blocks, limit)


def quote_html(quote: Quote, lang: str) -> str:
    """The English words verbatim, who said them, and beneath, labelled, the curator's translation."""
    text = f"<blockquote>{esc(quoted(quote))}</blockquote>\n— <i>{esc(attribution(quote, lang))}</i>"
    translation = quote.translation(lang)
    if translation:
        text += f"\n<i>{gettext_for(lang).h_(TRANSLATION)}</i> {esc(translation)}"
    return text


def _answer_html(entry: Entry, reply: Reply, texts: Texts) -> list[tuple[int, str]]:
    lang = texts.lang
    blocks = [(KEEP, f"<b>{esc(entry.tr('question', lang))}</b>"), (KEEP, esc(entry.tr("answer", lang)))]
    for position, quote in enumerate(entry.quotes):
        blocks.append((FIRST_QUOTE if position == 0 else MORE_QUOTES, quote_html(quote, lang)))
    for note in reply.notes:
        blocks.append((NOTE, f"<b>{texts.h_(EDITORS_NOTE)}</b> {esc(note.tr('text', lang))}"))
    blocks.append((KEEP, f"<i>{esc(source_line(reply.article, lang))}</i>"))
    return blocks


def _scope(article: Article, texts: Texts, title: str) -> dict[str, str]:
    return {
        "outlet": article.outlet,
        "title": title,
        "date": article_date(article, texts),
        "summary": article.tr("summary", texts.lang),
    }


def _decline_html(reply: Reply, texts: Texts) -> str:
    article, lang = reply.article, texts.lang
    values = {k: esc(v) for k, v in _scope(article, texts, "").items()}
    values["title"] = f"<i>“{esc(article.tr('title', lang))}”</i>"
    scope = texts.h_(SCOPE, **values)
    examples = "\n".join(f"• {esc(e.tr('question', lang))}" for e in reply.suggestions)
    if reply.empty_question:
        return f"{scope}\n\n{texts.h_(ASK_ANYTHING)}\n{examples}"
    opening = esc(reply.party.tr("mentioned", lang)) if reply.party else texts.h_(NOT_COVERED)
    return f"{opening} {scope}\n\n{texts.h_(FOR_EXAMPLE)}\n{examples}"


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
    """Plain text for the console and for scripts, in the reply's language."""
    article = reply.article
    texts = gettext_for(reply.lang)
    lang = texts.lang
    if reply.outcome is Outcome.ANSWER and reply.entry:
        entry = reply.entry
        lines = [entry.tr("question", lang), "", entry.tr("answer", lang)]
        for quote in entry.quotes:
            lines += ["", f"  {quoted(quote)}", f"    — {attribution(quote, lang)}"]
            translation = quote.translation(lang)
            if translation:
                lines.append(f"    {texts._(TRANSLATION)} {translation}")
        for note in reply.notes:
            lines += ["", f"{texts._(EDITORS_NOTE)} {note.tr('text', lang)}"]
        if reply.suggestions:
            lines += ["", texts._(RELATED)] + [f"  • {e.tr('question', lang)}" for e in reply.suggestions]
        lines += ["", source_line(article, lang)]
        return "\n".join(lines)
    if reply.outcome is Outcome.CLARIFY:
        lines = [texts._(OPINION if reply.opinion else DID_YOU_MEAN)]
        lines += [f"  {n}. {e.tr('question', lang)}" for n, e in enumerate(reply.suggestions, 1)]
        return "\n".join(lines)
    scope = texts._(SCOPE, **_scope(article, texts, f"“{article.tr('title', lang)}”"))
    if reply.empty_question:
        lines = [scope, "", texts._(ASK_ANYTHING)]
    else:
        opening = reply.party.tr("mentioned", lang) if reply.party else texts._(NOT_COVERED)
        lines = [f"{opening} {scope}", "", texts._(FOR_EXAMPLE)]
    lines += [f"  • {e.tr('question', lang)}" for e in reply.suggestions]
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
            {
                "text": q.text,
                "speaker": q.speaker.name,
                "role": q.role,
                "channel": q.channel,
                "translation": q.translation(reply.lang),  # the curator's, never the speaker's words
            }
            for q in reply.quotes
        ],
        "notes": [note.tr("text", reply.lang) for note in reply.notes],
        "suggestions": [{"entry": e.id, "question": e.tr("question", reply.lang)} for e in reply.suggestions],
    }

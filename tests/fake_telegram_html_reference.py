"""The fake server's HTML parser as it was before its fast rewrite (one character at a time),
kept verbatim as the reference the fast parser must agree with (tests/test_fake_telegram_html.py).

Not used by the fake server itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

try:
    from .fake_telegram_validation import (
        _ALLOWED_TAGS,
        _CANT_PARSE,
        _PRIORITY,
        _SIMPLE_TYPES,
        _SPACES,
        ApiError,
        _normalize_url,
    )
except ImportError:  # imported as a top-level module (tests/ on sys.path)
    from fake_telegram_validation import (  # type: ignore[no-redef]
        _ALLOWED_TAGS,
        _CANT_PARSE,
        _PRIORITY,
        _SIMPLE_TYPES,
        _SPACES,
        ApiError,
        _normalize_url,
    )

__all__ = ["parse_html", "prepare_html", "utf16_len"]

_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit of all Telegram lengths and offsets."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8", "surrogatepass"))


def _decode_entity(src: str, pos: int) -> tuple[str | None, int]:
    """Decode an HTML entity at ``src[pos] == '&'`` like TDLib (the ';' is optional)."""
    end = pos + 1
    if src.startswith("#", end):
        end += 1
        base = 10
        if src.startswith("x", end):
            base, end = 16, end + 1
        digits = "0123456789abcdefABCDEF" if base == 16 else "0123456789"
        start = end
        while end < len(src) and src[end] in digits:
            end += 1
        value = int(src[start:end], base) if end > start else 0
        if value == 0 or value >= 0x10FFFF or end - pos >= 10:
            return None, pos
        char = chr(value)
    else:
        while end < len(src) and src[end].isascii() and src[end].isalpha():
            end += 1
        char = _NAMED_ENTITIES.get(src[pos + 1 : end])
        if char is None:
            return None, pos
    return char, end + 1 if src.startswith(";", end) else end


def _trim(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Strip leading/trailing whitespace like Telegram and shift entities accordingly."""
    stripped = text.strip(" \t\r\n\v\f")
    if stripped == text:
        return text, entities
    shift = utf16_len(text[: len(text) - len(text.lstrip(" \t\r\n\v\f"))])
    size = utf16_len(stripped)
    result = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, size)
        if end > start:
            result.append({**entity, "offset": start, "length": end - start})
    return stripped, result


@dataclass
class _OpenTag:
    tag: str
    argument: str
    utf16_start: int
    text_start: int  # index into _HtmlState.out
    byte_offset: int


@dataclass
class _HtmlState:
    src: str
    strict_ampersand: bool
    out: list[str] = field(default_factory=list)
    utf16: int = 0
    entities: list[dict[str, Any]] = field(default_factory=list)
    stack: list[_OpenTag] = field(default_factory=list)

    def fail(self, message: str) -> ApiError:
        return ApiError(400, _CANT_PARSE + message)

    def emit(self, chars: str) -> None:
        self.out.append(chars)
        self.utf16 += utf16_len(chars)


def parse_html(src: str, strict_ampersand: bool = True) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram HTML into (plain text, MessageEntity dicts); raise ApiError(400) if invalid."""
    st = _HtmlState(src, strict_ampersand)
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if c == "&":
            char, end = _decode_entity(src, i)
            if char is not None:
                st.emit(char)
                i = end
                continue
            if strict_ampersand:
                raise st.fail(
                    f'Unescaped "&" at byte offset {_byte_offset(src, i)}, use "&amp;" '
                    "(strict check of the fake server; Telegram would keep it literally)"
                )
        if c != "<":
            st.emit(c)
            i += 1
        elif i + 1 < n and src[i + 1] == "/":
            i = _close_tag(st, i)
        else:
            i = _open_tag(st, i)
    if st.stack:
        raise st.fail(f'Can\'t find end tag corresponding to start tag "{st.stack[-1].tag}"')
    text = "".join(st.out)
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):
        raise st.fail(
            "Text contains invalid Unicode characters after decoding HTML entities, "
            "check for unmatched surrogate code units"
        )
    for entity in st.entities:
        if entity["type"] == "code":
            entity.pop("language", None)
    st.entities.sort(key=lambda e: (e["offset"], -e["length"], _PRIORITY.get(e["type"], 50)))
    return text, st.entities


def _open_tag(st: _HtmlState, begin: int) -> int:
    """Parse a start tag at ``st.src[begin] == '<'``; return the index after '>'."""
    src, n = st.src, len(st.src)
    offset = _byte_offset(src, begin)
    i = begin + 1
    while i < n and src[i] not in _SPACES and src[i] != ">":
        i += 1
    if i >= n:
        raise st.fail(f"Unclosed start tag at byte offset {offset}")
    tag = src[begin + 1 : i].lower()
    if tag not in _ALLOWED_TAGS:
        raise st.fail(f'Unsupported start tag "{tag}" at byte offset {offset}')
    argument = ""
    while True:
        while i < n and src[i] in _SPACES:
            i += 1
        if i >= n:
            raise st.fail(f"Unclosed start tag at byte offset {offset}")
        if src[i] == ">":
            break
        name_start = i
        while i < n and src[i] not in _SPACES and src[i] not in "=>":
            i += 1
        name = src[name_start:i]
        if not name:
            raise st.fail(f'Empty attribute name in the tag "{tag}" at byte offset {offset}')
        while i < n and src[i] in _SPACES:
            i += 1
        if i >= n or src[i] != "=":
            if tag == "blockquote" and name == "expandable":
                argument = "1"
            continue
        i += 1
        while i < n and src[i] in _SPACES:
            i += 1
        if i >= n:
            raise st.fail(f'Unclosed start tag "{tag}" at byte offset {offset}')
        value, i = _attribute_value(st, i)
        if i >= n:
            raise st.fail(f"Unclosed start tag at byte offset {offset}")
        if (tag, name) in (("a", "href"), ("tg-emoji", "emoji-id")):
            argument = value
        elif tag == "code" and name == "class" and value.startswith("language-"):
            argument = value[9:]
        elif tag == "span" and name == "class" and value.startswith("tg-"):
            argument = value[3:]
        elif tag == "blockquote" and name == "expandable":
            argument = "1"
    if tag == "span" and argument != "spoiler":
        raise st.fail(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
    if tag == "blockquote" and any(t.tag == "blockquote" for t in st.stack):
        raise st.fail(
            f"Blockquote can't be nested in another blockquote at byte offset {offset} "
            "(strict check of the fake server)"
        )
    st.stack.append(_OpenTag(tag, argument, st.utf16, len(st.out), offset))
    return i + 1


def _attribute_value(st: _HtmlState, i: int) -> tuple[str, int]:
    """Read a quoted string or a name token starting at ``i``."""
    src, n = st.src, len(st.src)
    if src[i] not in "\"'":
        start = i
        while i < n and ((src[i].isascii() and src[i].isalnum()) or src[i] in ".-"):
            i += 1
        if i < n and src[i] not in _SPACES and src[i] != ">":
            raise st.fail(f"Unexpected end of name token at byte offset {_byte_offset(src, start)}")
        return src[start:i].lower(), i
    quote, value = src[i], []
    i += 1
    while i < n and src[i] != quote:
        if src[i] == "&":
            char, end = _decode_entity(src, i)
            if char is not None:
                value.append(char)
                i = end
                continue
        value.append(src[i])
        i += 1
    return "".join(value), i + 1 if i < n else i


def _close_tag(st: _HtmlState, begin: int) -> int:
    """Parse an end tag at ``st.src[begin:begin+2] == '</'``; return the index after '>'."""
    src, n = st.src, len(st.src)
    offset = _byte_offset(src, begin)
    if not st.stack:
        raise st.fail(f"Unexpected end tag at byte offset {offset}")
    i = begin + 2
    while i < n and src[i] not in _SPACES and src[i] != ">":
        i += 1
    end_name = src[begin + 2 : i]
    while i < n and src[i] in _SPACES:
        i += 1
    if i >= n or src[i] != ">":
        raise st.fail(f"Unclosed end tag at byte offset {offset}")
    opened = st.stack[-1]
    if end_name and end_name != opened.tag:
        raise st.fail(
            f'Unmatched end tag at byte offset {offset}, expected "</{opened.tag}>", found "</{end_name}>"'
        )
    st.stack.pop()
    if st.utf16 > opened.utf16_start:
        _add_entity(st, opened)
    return i + 1


def _add_entity(st: _HtmlState, opened: _OpenTag) -> None:
    start, length = opened.utf16_start, st.utf16 - opened.utf16_start
    tag, arg, last = opened.tag, opened.argument, st.entities[-1] if st.entities else None
    same_span = last is not None and last["offset"] == start and last["length"] == length
    entity: dict[str, Any] = {"type": "", "offset": start, "length": length}
    if tag in _SIMPLE_TYPES:
        entity["type"] = _SIMPLE_TYPES[tag]
    elif tag == "blockquote":
        entity["type"] = "expandable_blockquote" if arg else "blockquote"
    elif tag == "tg-emoji":
        if not arg.isdigit():
            raise st.fail(f"Invalid custom emoji identifier specified at byte offset {opened.byte_offset}")
        entity.update(type="custom_emoji", custom_emoji_id=arg)
    elif tag == "a":
        url = _normalize_url(arg.strip() or "".join(st.out[opened.text_start :]))
        if url is None:
            return  # Telegram silently drops links with unusable URLs
        entity.update(type="text_link", url=url)
    elif tag == "pre":
        if same_span and last["type"] == "code" and last.get("language"):
            last["type"] = "pre"
            return
        entity["type"] = "pre"
    elif tag == "code":
        if same_span and last["type"] == "pre" and arg:
            last["language"] = arg
            return
        entity["type"] = "code"
        if arg:
            entity["language"] = arg
    st.entities.append(entity)


def prepare_html(text: str, strict_ampersand: bool = True) -> tuple[str, list[dict[str, Any]]]:
    """The HTML path of the old ``prepare_text`` for a sendMessage text (empty/too long included)."""
    if text == "":
        raise ApiError(400, "Bad Request: message text is empty")
    plain, parsed = _trim(*parse_html(text, strict_ampersand))
    if not plain:
        raise ApiError(400, "Bad Request: message text is empty")
    if utf16_len(plain) > 4096:
        raise ApiError(400, "Bad Request: message is too long")
    return plain, parsed

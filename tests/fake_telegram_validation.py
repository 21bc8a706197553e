"""Telegram's rules for the fake Bot API server in ``fake_telegram``: request decoding, HTML
parsing, validation of texts, keyboards, inline results and commands, and Telegram's error texts.

The HTML parser follows TDLib's ``parse_html`` (the code behind the Bot API's ``parse_mode=HTML``):
same tag set, same attribute rules, same error descriptions and byte offsets, UTF-16 entity
offsets, whitespace trimmed around the text.  A few checks are *stricter* than Telegram, and their
descriptions say so: a bare ``&`` that starts no entity (Telegram keeps it literally; switch off
with ``strict_ampersand=False``), a blockquote nested in a blockquote, an inline button with an
empty text or with several actions, a button URL without an http(s)/tg scheme.  Markdown parse
modes are accepted but not parsed.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

MAX_TEXT_UTF16 = 4096
MAX_CALLBACK_DATA_BYTES = 64
MAX_INLINE_RESULTS = 50
MAX_CALLBACK_ANSWER_UTF16 = 200

ANONYMOUS_ADMIN: dict[str, Any] = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}
CHANNEL_BOT: dict[str, Any] = {
    "id": 136817688,
    "is_bot": True,
    "first_name": "Channel",
    "username": "Channel_Bot",
}
CONFLICT_GET_UPDATES = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)
WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the "
    "webhook first"
)
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same as "
    "a current content and reply markup of the message"
)
DEFAULT_EXCLUDED_UPDATES = {"chat_member", "message_reaction", "message_reaction_count"}
DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
COMMAND_SCOPES = {
    "default",
    "all_private_chats",
    "all_group_chats",
    "all_chat_administrators",
    "chat",
    "chat_administrators",
    "chat_member",
}
CHAT_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
}
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
_CANT_PARSE = "Bad Request: can't parse entities: "
_BUTTON = "Bad Request: can't parse inline keyboard button: "

_ALLOWED_TAGS = frozenset(
    [
        "a",
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "tg-emoji",
        "pre",
        "code",
        "blockquote",
    ]
)
_SIMPLE_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
}
# TDLib's MessageEntity::get_type_priority (lower sorts first when offset and length tie).
_PRIORITY = {
    "blockquote": 0,
    "expandable_blockquote": 0,
    "pre": 11,
    "code": 20,
    "text_link": 49,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "custom_emoji": 99,
}
_SPACES = " \t\r\n\v\0"
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "web_app",
    "login_url",
    "copy_text",
    "callback_game",
    "pay",
)
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_INLINE_RESULT_TYPES = frozenset(
    [
        "article",
        "photo",
        "gif",
        "mpeg4_gif",
        "video",
        "audio",
        "voice",
        "document",
        "location",
        "venue",
        "contact",
        "game",
        "sticker",
    ]
)


class ApiError(Exception):
    """A Bot API error response: HTTP status, description and optional ``parameters``."""

    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


def bad_request(description: str) -> ApiError:
    """A 400 error; ``description`` is given without the "Bad Request: " prefix."""
    return ApiError(400, f"Bad Request: {description}")


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit of all Telegram lengths and offsets."""
    if text.isascii():  # one unit per character: no need to encode
        return len(text)
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


def _normalize_url(url: str) -> str | None:
    """Roughly TDLib's check_url: add http:// when no scheme; None when unusable."""
    if not url or any(c in _SPACES for c in url):
        return None
    if "://" not in url and not url.startswith(("tg:", "ton:")):
        if "." not in url:
            return None
        url = "http://" + url
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https", "tg", "ton", "tonsite"):
        return None
    if parts.scheme.lower() in ("http", "https"):
        if not parts.netloc:
            return None
        if not parts.path:
            url = url.replace(parts.netloc, parts.netloc + "/", 1)
    return url


# The parser walks the source by runs rather than by characters (a per-character loop cost this
# bot's ~600-character replies a quarter of a millisecond each): text up to the next '&' or '<' in
# one step, a tag name up to the next space or '>' in one step.  Byte offsets for error messages
# are computed only when an error is raised.  tests/test_fake_telegram_html.py checks that the
# verdicts (text, entities, error descriptions) are those of the old per-character parser.
_TEXT_RUN = re.compile(r"[^&<]+")
_NAME_END = re.compile("[ \t\r\n\v\x00>]")
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass
class _OpenTag:
    tag: str
    argument: str
    utf16_start: int
    text_start: int  # index into _HtmlState.out (a list of text runs)
    begin: int  # index of the tag's '<' in the source


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
    text_run = _TEXT_RUN.match
    while i < n:
        run = text_run(src, i)
        if run is not None:  # plain text up to the next '&' or '<'
            st.emit(run.group())
            i = run.end()
        elif src[i] == "&":
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
            st.emit("&")
            i += 1
        elif i + 1 < n and src[i + 1] == "/":
            i = _close_tag(st, i)
        else:
            i = _open_tag(st, i)
    if st.stack:
        raise st.fail(f'Can\'t find end tag corresponding to start tag "{st.stack[-1].tag}"')
    text = "".join(st.out)
    if _SURROGATE.search(text):
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
    name_end = _NAME_END.search(src, begin + 1)
    i = name_end.start() if name_end else n
    if i >= n:
        raise st.fail(f"Unclosed start tag at byte offset {_byte_offset(src, begin)}")
    tag = src[begin + 1 : i].lower()
    if tag not in _ALLOWED_TAGS:
        raise st.fail(f'Unsupported start tag "{tag}" at byte offset {_byte_offset(src, begin)}')
    if src[i] == ">" and tag != "span":  # no attributes: the usual case
        return _push_tag(st, tag, "", begin, i)
    offset = _byte_offset(src, begin)
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
    return _push_tag(st, tag, argument, begin, i)


def _push_tag(st: _HtmlState, tag: str, argument: str, begin: int, end: int) -> int:
    """Open ``tag`` (its '<' at ``begin``, its '>' at ``end``); return the index after '>'."""
    if tag == "blockquote" and any(t.tag == "blockquote" for t in st.stack):
        raise st.fail(
            f"Blockquote can't be nested in another blockquote at byte offset {_byte_offset(st.src, begin)} "
            "(strict check of the fake server)"
        )
    st.stack.append(_OpenTag(tag, argument, st.utf16, len(st.out), begin))
    return end + 1


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
    if not st.stack:
        raise st.fail(f"Unexpected end tag at byte offset {_byte_offset(src, begin)}")
    name_end = _NAME_END.search(src, begin + 2)
    i = name_end.start() if name_end else n
    end_name = src[begin + 2 : i]
    while i < n and src[i] in _SPACES:
        i += 1
    if i >= n or src[i] != ">":
        raise st.fail(f"Unclosed end tag at byte offset {_byte_offset(src, begin)}")
    opened = st.stack[-1]
    if end_name and end_name != opened.tag:
        raise st.fail(
            f"Unmatched end tag at byte offset {_byte_offset(src, begin)}, "
            f'expected "</{opened.tag}>", found "</{end_name}>"'
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
            offset = _byte_offset(st.src, opened.begin)
            raise st.fail(f"Invalid custom emoji identifier specified at byte offset {offset}")
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


def prepare_text(
    params: dict[str, Any], key: str = "text", strict_ampersand: bool = True
) -> tuple[str, list[dict[str, Any]]]:
    """Validate ``params[key]`` (text, caption or message_text) with its parse_mode and entities
    like Telegram; return (plain text, entities)."""
    text, parse_mode = params.get(key), params.get("parse_mode")
    entities = params.get("caption_entities" if key == "caption" else "entities")
    empty = {"text": "message text is empty", "message_text": "MESSAGE_EMPTY"}.get(key, "")
    too_long, max_len = (
        ("message caption is too long", 1024) if key == "caption" else ("message is too long", MAX_TEXT_UTF16)
    )
    if text is None or text == "":
        raise bad_request(empty)
    text = str(text)
    mode = str(parse_mode).lower() if parse_mode else ""
    if mode == "html":
        plain, parsed = parse_html(text, strict_ampersand)
    elif not mode:
        plain, parsed = text, [dict(e) for e in entities or []]
    elif mode in ("markdown", "markdownv2"):  # accepted, but not parsed by the fake
        plain, parsed = text, []
    else:
        raise bad_request("unsupported parse_mode")
    plain, parsed = _trim(plain, parsed)
    if not plain and key == "caption":
        return "", []  # a caption may end up empty: the message simply has none
    if not plain:
        raise bad_request(empty)
    if utf16_len(plain) > max_len:
        raise bad_request(too_long)
    return plain, parsed


def validate_url(url: str, what: str = "inline keyboard button URL") -> None:
    """Buttons accept only http(s) and tg URLs (the fake insists on an explicit scheme)."""
    parts = urlsplit(url)
    if not parts.scheme:
        raise bad_request(f"{what} '{url}' is invalid: no http(s) or tg scheme (strict check)")
    if parts.scheme.lower() not in ("http", "https", "tg"):
        raise bad_request(f"{what} '{url}' is invalid: Unsupported URL protocol")
    if parts.scheme.lower() != "tg" and not parts.hostname:
        raise bad_request(f"{what} '{url}' is invalid: Wrong HTTP URL")


def validate_reply_markup(markup: Any) -> None:
    """Validate a reply_markup object; inline keyboards are checked button by button."""
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        return
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request('can\'t parse inline keyboard: Field "inline_keyboard" must be an Array')
    if sum(len(row) for row in rows) > 100 or any(len(row) > 8 for row in rows):
        raise bad_request("REPLY_MARKUP_TOO_LONG")
    for row in rows:
        for button in row:
            _validate_button(button)


def _validate_button(button: Any) -> None:
    if not isinstance(button, dict):
        raise ApiError(400, _BUTTON + "InlineKeyboardButton must be an Object")
    if "text" not in button:
        raise ApiError(400, _BUTTON + 'Can\'t find field "text"')
    if not isinstance(button["text"], str):
        raise ApiError(400, _BUTTON + 'Field "text" must be of type String')
    if not button["text"].strip():
        raise ApiError(400, _BUTTON + "Text must be non-empty (strict check of the fake server)")
    actions = [
        key
        for key in _BUTTON_ACTIONS
        if button.get(key) is not None and (button[key] != "" or key.startswith("switch_"))
    ]
    if not actions:
        raise ApiError(400, _BUTTON + "Text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        raise ApiError(
            400, _BUTTON + f"exactly one of the optional fields must be used, got {actions} (strict check)"
        )
    if "callback_data" in actions:
        data = button["callback_data"]
        if not isinstance(data, str) or len(data.encode()) > MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in actions:
        validate_url(str(button["url"]))


def validate_inline_results(results: Any, next_offset: Any, strict_ampersand: bool = True) -> None:
    """Validate answerInlineQuery's results and next_offset."""
    if isinstance(results, str):
        try:
            results = json.loads(results)
        except ValueError:
            raise bad_request("can't parse JSON encoded inline query results") from None
    if not isinstance(results, list):
        raise bad_request('Field "results" must be an Array')
    if len(results) > MAX_INLINE_RESULTS:
        raise bad_request("RESULTS_TOO_MUCH")
    if next_offset is not None and len(str(next_offset).encode()) > 64:
        raise bad_request("NEXT_OFFSET_INVALID")
    seen: set[str] = set()
    for result in results:
        if not isinstance(result, dict):
            raise bad_request("can't parse inline query result: InlineQueryResult must be an Object")
        rid = result.get("id")
        if not isinstance(rid, str) or not 1 <= len(rid.encode()) <= 64:
            raise bad_request("RESULT_ID_INVALID")
        if rid in seen:
            raise bad_request("RESULT_ID_DUPLICATE")
        seen.add(rid)
        rtype = result.get("type")
        if rtype not in _INLINE_RESULT_TYPES:
            raise bad_request(f'can\'t parse inline query result: Unsupported type "{rtype}"')
        if result.get("reply_markup") is not None:
            validate_reply_markup(result["reply_markup"])
        if rtype == "article":
            for key in ("title", "input_message_content"):
                if not result.get(key):
                    raise bad_request(f"can't parse inline query result: Can't find field \"{key}\"")
        content = result.get("input_message_content")
        if isinstance(content, dict) and "message_text" in content:
            prepare_text(content, "message_text", strict_ampersand)


def validate_commands(commands: Any) -> list[dict[str, str]]:
    """Validate setMyCommands' list; return it as plain dicts."""
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    if len(commands) > 100:
        raise bad_request("too many commands specified")
    result = []
    for item in commands:
        if not isinstance(item, dict):
            raise bad_request("can't parse BotCommand: BotCommand must be an Object")
        command, description = str(item.get("command", "")), str(item.get("description", ""))
        if not _COMMAND_RE.fullmatch(command):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(description.strip()) <= 256 or len(description) > 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        result.append({"command": command, "description": description})
    return result


_AUTO_ENTITY_RE = re.compile(
    r"(?<![\w/<>])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/<>])"
    r"|(?<!\w)@[A-Za-z0-9_]{2,32}(?!\w)"
)


def auto_entities(text: str) -> list[dict[str, Any]]:
    """Entities Telegram adds to user text by itself: bot_command and mention."""
    entities = []
    for match in _AUTO_ENTITY_RE.finditer(text):
        kind = "bot_command" if match.group().startswith("/") else "mention"
        entities.append(
            {
                "type": kind,
                "offset": utf16_len(text[: match.start()]),
                "length": utf16_len(match.group()),
            }
        )
    return entities


_JSON_FIELDS = {
    "reply_markup",
    "reply_parameters",
    "link_preview_options",
    "entities",
    "caption_entities",
    "results",
    "commands",
    "scope",
    "allowed_updates",
    "button",
    "media",
    "message_ids",
    "input_message_content",
    "permissions",
    "reaction",
}
_INT_FIELDS = {
    "chat_id",
    "from_chat_id",
    "message_id",
    "offset",
    "limit",
    "timeout",
    "cache_time",
    "reply_to_message_id",
    "user_id",
    "message_thread_id",
    "max_connections",
    "until_date",
}
_BOOL_PREFIXES = ("is_", "disable_", "allow_", "has_", "protect_", "show_", "drop_", "only_")


_PERCENT_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2})+")


def _unquote_plus(value: str) -> str:
    """``urllib.parse.unquote_plus`` (errors replaced), a run of %XX escapes at a time: the
    stdlib goes escape by escape in Python, a third of the fake's time on a Cyrillic reply."""
    value = value.replace("+", " ")
    if "%" not in value:
        return value
    # Decoding each run on its own is what the stdlib does: it decodes each ASCII stretch apart,
    # and a character that is not an escape (ASCII or not) ends any UTF-8 sequence anyway.
    return _PERCENT_RUN.sub(_decode_percent_run, value)


def _decode_percent_run(run: re.Match[str]) -> str:
    return bytes.fromhex(run.group().replace("%", "")).decode("utf-8", "replace")


def parse_form(text: str) -> list[tuple[str, str]]:
    """``parse_qsl(text, keep_blank_values=True)`` for a form body, with a faster unquoting
    (tests/test_fake_telegram_html.py compares the two)."""
    pairs = []
    for field_ in text.split("&"):
        if not field_:
            continue
        name, _, value = field_.partition("=")
        pairs.append((_unquote_plus(name), _unquote_plus(value)))
    return pairs


def decode_params(query: str, ctype: str, body: bytes) -> dict[str, Any]:
    """Merge query string and body (JSON, urlencoded or multipart) into typed params.

    python-telegram-bot sends form data (multipart when uploading): strings as they are, every
    other value JSON-encoded, so e.g. reply_markup arrives as a JSON string in a form field.
    """
    params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    kind = ctype.split(";")[0].strip().lower()
    try:
        if kind == "application/json" and body:
            data = json.loads(body)
            if not isinstance(data, dict):
                raise bad_request("JSON object expected")
            params.update(data)
        elif kind == "application/x-www-form-urlencoded":
            params.update(parse_form(body.decode()))
        elif kind == "multipart/form-data":
            head = f"Content-Type: {ctype}\r\nMIME-Version: 1.0\r\n\r\n".encode()
            parser = email.parser.BytesParser(policy=email.policy.HTTP)
            for part in parser.parsebytes(head + body).iter_parts():
                name = part.get_param("name", header="content-disposition")
                payload = part.get_payload(decode=True) or b""
                filename = part.get_filename()
                params[name] = {"filename": filename, "content": payload} if filename else payload.decode()
    except (ValueError, UnicodeDecodeError):
        raise bad_request("can't parse request body") from None
    return {key: _coerce(key, value) for key, value in params.items()}


def _coerce(key: str, value: Any) -> Any:
    """Form fields are strings; decode them the way the Bot API does for each field."""
    if not isinstance(value, str):
        return value
    if key in _JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            what = "reply keyboard markup" if key == "reply_markup" else key
            raise bad_request(f"can't parse {what} JSON object") from None
    if key in _INT_FIELDS and re.fullmatch(r"-?\d+", value):
        return int(value)
    if key.startswith(_BOOL_PREFIXES) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def command_scope_key(params: dict[str, Any]) -> str:
    """Storage key of a BotCommandScope (+ language_code): "default", "chat:42", "default/ru" ..."""
    scope = params.get("scope") or {"type": "default"}
    if not isinstance(scope, dict) or scope.get("type") not in COMMAND_SCOPES:
        raise bad_request("can't parse BotCommandScope")
    key = scope["type"] + "".join(f":{scope[k]}" for k in ("chat_id", "user_id") if k in scope)
    code = language_code(params)
    return f"{key}/{code}" if code else key


_LANGUAGE_CODE_RE = re.compile(r"[a-z]{2}")


def language_code(params: dict[str, Any]) -> str:
    """The optional language_code of the setMy* methods: empty (everyone) or a two-letter ISO 639-1 code."""
    code = params.get("language_code") or ""
    if not isinstance(code, str) or (code and not _LANGUAGE_CODE_RE.fullmatch(code)):
        raise bad_request("language_code is invalid")
    return code


def update_allowed(update: dict[str, Any], allowed: set[str] | None) -> bool:
    """Whether getUpdates' allowed_updates (None: the default set) lets ``update`` through."""
    kind = next((key for key in update if key != "update_id"), "")
    return kind in allowed if allowed else kind not in DEFAULT_EXCLUDED_UPDATES


def error_response(
    status: int, description: str, parameters: dict[str, Any] | None = None
) -> tuple[int, bytes]:
    """(HTTP status, body) of a Bot API error response."""
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return status, json.dumps(body).encode()

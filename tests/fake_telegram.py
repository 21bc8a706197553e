"""A fake Telegram Bot API server for end-to-end tests of python-telegram-bot bots.

It speaks HTTP on 127.0.0.1 (ephemeral port) from a background thread, validates requests as
strictly as Telegram does (HTML parse mode, 4096 UTF-16 units, keyboards, inline results, ...),
answers ``getUpdates`` with real long polling and records everything for assertions::

    with FakeTelegram(TOKEN) as fake:
        app = Application.builder().token(TOKEN).base_url(f"{fake.base_url}/bot") \\
            .base_file_url(f"{fake.base_url}/file/bot").build()
        ...
        fake.private_message(42, "/start")
        [reply] = await fake.wait_for_messages(1, chat_id=42)
        assert fake.rejections == []

Everything test-facing is thread-safe; the ``wait_*`` coroutines poll without blocking the loop.
"""

from __future__ import annotations

import asyncio
import copy
import email.parser
import email.policy
import itertools
import json
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

try:
    from .fake_telegram_validation import (
        MAX_CALLBACK_ANSWER_UTF16,
        QUERY_TOO_OLD,
        ApiError,
        auto_entities,
        bad_request,
        prepare_text,
        utf16_len,
        validate_commands,
        validate_inline_results,
        validate_reply_markup,
    )
except ImportError:  # imported as a top-level module (tests/ on sys.path, pytest's default)
    from fake_telegram_validation import (  # type: ignore[no-redef]
        MAX_CALLBACK_ANSWER_UTF16,
        QUERY_TOO_OLD,
        ApiError,
        auto_entities,
        bad_request,
        prepare_text,
        utf16_len,
        validate_commands,
        validate_inline_results,
        validate_reply_markup,
    )

__all__ = [
    "ANONYMOUS_ADMIN",
    "CHANNEL_BOT",
    "ApiError",
    "CallbackAnswer",
    "FakeTelegram",
    "InlineAnswer",
    "Rejection",
    "SentMessage",
]

JSON = dict[str, Any]
ANONYMOUS_ADMIN: JSON = {
    "id": 1087968824, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot",
}
CHANNEL_BOT: JSON = {"id": 136817688, "is_bot": True, "first_name": "Channel", "username": "Channel_Bot"}
CONFLICT_GET_UPDATES = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is "
    "running"
)
_DEFAULT_EXCLUDED_UPDATES = {"chat_member", "message_reaction", "message_reaction_count"}
_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden: bot was blocked by the user",
    404: "Not Found", 409: "Conflict", 500: "Internal Server Error", 502: "Bad Gateway",
    503: "Service Unavailable", 504: "Gateway Timeout",
}
_JSON_FIELDS = {
    "reply_markup", "reply_parameters", "link_preview_options", "entities", "caption_entities",
    "results", "commands", "scope", "allowed_updates", "button", "media", "message_ids",
    "input_message_content", "permissions", "reaction",
}
_INT_FIELDS = {
    "chat_id", "from_chat_id", "message_id", "offset", "limit", "timeout", "cache_time",
    "reply_to_message_id", "user_id", "message_thread_id", "max_connections", "until_date",
}
_BOOL_PREFIXES = ("is_", "disable_", "allow_", "has_", "protect_", "show_", "drop_", "only_")
_CHAT_ACTIONS = {
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note",
    "upload_video_note",
}
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)


@dataclass
class SentMessage:
    """A message the bot sent (sendMessage or another send* method), kept up to date on edits."""

    method: str
    chat_id: int
    message_id: int
    text: str | None  # as sent, markup included
    plain_text: str | None  # after entity parsing (what the user sees)
    parse_mode: str | None
    entities: list[JSON]
    reply_markup: JSON | None
    reply_to_message_id: int | None
    link_preview_options: JSON | None
    params: JSON
    message: JSON  # the Message object as returned to the bot
    previous_texts: list[str | None] = field(default_factory=list)
    deleted: bool = False

    @property
    def buttons(self) -> list[JSON]:
        """All inline keyboard buttons, row by row."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [button for row in rows for button in row]


@dataclass
class CallbackAnswer:
    """An answerCallbackQuery call that was accepted."""

    query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    params: JSON


@dataclass
class InlineAnswer:
    """An answerInlineQuery call that was accepted."""

    query_id: str
    results: list[JSON]
    next_offset: str | None
    cache_time: int | None
    is_personal: bool
    params: JSON


@dataclass
class Rejection:
    """A 400 the fake produced by validation (injected failures are not listed)."""

    method: str
    params: JSON
    description: str


@dataclass
class _Fault:
    kind: str  # "fail" or "drop"
    status: int = 0
    description: str = ""
    retry_after: int | None = None


class _Handler(BaseHTTPRequestHandler):
    """HTTP front end; all logic lives in FakeTelegram._dispatch."""

    protocol_version = "HTTP/1.1"
    fake: FakeTelegram

    def setup(self) -> None:
        super().setup()
        self.fake._track_connection(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.fake._track_connection(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def do_GET(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        ctype = self.headers.get("Content-Type", "")
        response = self.fake._dispatch(self.path, ctype, body)
        if response is None:  # injected drop: close without answering
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        status, payload, content_type = response
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_POST = do_GET


class FakeTelegram:
    """A fake Bot API server holding users, chats, messages and pending updates."""

    def __init__(
        self,
        token: str = "123456789:TEST-fake-token",
        *,
        bot_username: str = "istanbul_talks_bot",
        bot_first_name: str = "Istanbul Talks",
        bot_id: int | None = None,
        strict_ampersand: bool = True,
    ) -> None:
        prefix = token.split(":", 1)[0]
        self.token = token
        self.bot_id = bot_id if bot_id is not None else int(prefix) if prefix.isdigit() else 7000001
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.strict_ampersand = strict_ampersand
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._stop_event = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._ids = itertools.count(1)
        self._updates: deque[JSON] = deque()
        self._next_update_id = 1
        self._allowed_updates: list[str] = []
        self._poll_generation = 0
        self._users: dict[int, JSON] = {}
        self._chats: dict[int, JSON] = {}
        self._blocked: dict[int, str] = {}
        self._messages: dict[tuple[int, int], JSON] = {}
        self._last_message_id: dict[int, int] = {}
        self._sent: list[SentMessage] = []
        self._sent_index: dict[tuple[int, int], SentMessage] = {}
        self._calls: list[tuple[str, JSON]] = []
        self._rejections: list[Rejection] = []
        self._callback_queries: dict[str, bool] = {}
        self._inline_queries: dict[str, bool] = {}
        self._callback_answers: list[CallbackAnswer] = []
        self._inline_answers: list[InlineAnswer] = []
        self._commands: dict[str, list[JSON]] = {}
        self._descriptions: dict[str, str] = {}
        self._webhook_url = ""
        self._files: dict[str, tuple[str, bytes]] = {}
        self._faults: dict[str, deque[_Fault]] = {}
        self._delays: dict[str, deque[float]] = {}
        self._handlers: dict[str, tuple[str, Callable[[JSON], Any]]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me, "logOut": self._true, "close": self._true,
                "getUpdates": self._get_updates, "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook, "getWebhookInfo": self._webhook_info,
                "setMyCommands": self._set_my_commands, "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "setMyDescription": self._set_description,
                "setMyShortDescription": self._set_description,
                "getMyDescription": self._get_description,
                "getMyShortDescription": self._get_description,
                "sendMessage": self._send_message, "editMessageText": self._edit_text,
                "editMessageReplyMarkup": self._edit_markup, "deleteMessage": self._delete,
                "answerCallbackQuery": self._answer_callback,
                "answerInlineQuery": self._answer_inline, "sendChatAction": self._chat_action,
                "getFile": self._get_file,
            }.items()
        }

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeTelegram:
        """Bind to 127.0.0.1 on an ephemeral port and serve from a daemon thread."""
        handler = type("BoundHandler", (_Handler,), {"fake": self})
        self._stop_event.clear()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
            name="fake-telegram", daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Release long polls, close client connections and shut the server down."""
        if self._server is None:
            return
        self._stop_event.set()
        with self._cond:
            self._cond.notify_all()
        self._server.shutdown()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakeTelegram:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> FakeTelegram:
        return self.start()

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.stop)

    @property
    def base_url(self) -> str:
        """E.g. "http://127.0.0.1:PORT"; the bot's base_url is f"{base_url}/bot"."""
        if self._server is None:
            raise RuntimeError("FakeTelegram is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_file_url(self) -> str:
        """Value for ApplicationBuilder.base_file_url()."""
        return f"{self.base_url}/file/bot"

    @property
    def bot_user(self) -> JSON:
        """The bot as a User object."""
        return {
            "id": self.bot_id, "is_bot": True, "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def _track_connection(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            (self._connections.add if add else self._connections.discard)(conn)

    # ------------------------------------------------------------------ HTTP dispatch

    def _dispatch(self, raw_path: str, ctype: str, body: bytes) -> tuple[int, bytes, str] | None:
        """Route one request; None means "drop the connection"."""
        url = urlsplit(raw_path)
        if url.path.startswith("/file/bot"):
            return self._download(url.path[len("/file/bot") :])
        if not url.path.startswith("/bot"):
            return _error_response(404, "Not Found")
        token, _, method = url.path[len("/bot") :].partition("/")
        if token != self.token:
            return _error_response(401, "Unauthorized")
        if not method or "/" in method:
            return _error_response(404, "Not Found")
        name, handler = self._handlers.get(method.lower(), (method, None))
        try:
            params = _decode_params(url.query, ctype, body)
        except ApiError as err:
            return _error_response(err.status, err.description)
        with self._lock:
            self._calls.append((name, params))
            self._cond.notify_all()
            delay = _pop(self._delays, name)
            fault = _pop(self._faults, name)
        if delay:
            self._stop_event.wait(delay)
        if fault is not None:
            if fault.kind == "drop":
                return None
            extra = {"retry_after": fault.retry_after} if fault.retry_after is not None else None
            return _error_response(fault.status, fault.description, extra)
        try:
            result = handler(params) if handler else self._fallback(name, params)
            with self._lock:  # serialize under the lock: results share stored dicts
                payload = json.dumps({"ok": True, "result": result}).encode()
        except (TypeError, ValueError, KeyError, AttributeError) as err:  # malformed params
            return _error_response(400, f"Bad Request: invalid parameters ({err!r})")
        except ApiError as err:
            if err.status == 400:
                with self._lock:
                    self._rejections.append(Rejection(name, params, err.description))
                    self._cond.notify_all()
            return _error_response(err.status, err.description, err.parameters)
        return 200, payload, "application/json"

    def _download(self, rest: str) -> tuple[int, bytes, str]:
        token, _, file_path = rest.partition("/")
        if token != self.token:
            return _error_response(401, "Unauthorized")
        with self._lock:
            content = next((c for p, c in self._files.values() if p == file_path), None)
        if content is None:
            return _error_response(404, "Not Found")
        return 200, content, "application/octet-stream"

    # ------------------------------------------------------------------ Bot API methods

    def _true(self, params: JSON) -> bool:
        return True

    def _get_me(self, params: JSON) -> JSON:
        return {
            **self.bot_user, "can_join_groups": True, "can_read_all_group_messages": False,
            "supports_inline_queries": True, "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _get_updates(self, params: JSON) -> list[JSON]:
        offset, limit = _int(params.get("offset"), 0), min(max(_int(params.get("limit"), 100), 1), 100)
        deadline = time.monotonic() + max(float(params.get("timeout") or 0), 0.0)
        with self._cond:
            if self._webhook_url:
                raise ApiError(
                    409, "Conflict: can't use getUpdates method while webhook is active; use "
                    "deleteWebhook to delete the webhook first",
                )
            if params.get("allowed_updates") is not None:
                self._allowed_updates = list(params["allowed_updates"])
            self._poll_generation += 1
            generation = self._poll_generation
            self._cond.notify_all()
            if offset < 0:
                while len(self._updates) > -offset:
                    self._updates.popleft()
            while self._updates and self._updates[0]["update_id"] < offset:
                self._updates.popleft()
            while True:
                if generation != self._poll_generation:
                    raise ApiError(409, CONFLICT_GET_UPDATES)
                batch = self._deliverable(limit)
                remaining = deadline - time.monotonic()
                if batch or remaining <= 0 or self._stop_event.is_set():
                    return batch
                self._cond.wait(remaining)

    def _deliverable(self, limit: int) -> list[JSON]:
        """Pending updates of allowed types (others are dropped, as Telegram does)."""
        allowed = set(self._allowed_updates)
        kept = deque(
            u for u in self._updates
            if (_update_type(u) in allowed if allowed
                else _update_type(u) not in _DEFAULT_EXCLUDED_UPDATES)
        )
        self._updates = kept
        return list(itertools.islice(kept, limit))

    def _set_webhook(self, params: JSON) -> bool:
        with self._lock:
            self._webhook_url = str(params.get("url") or "")
            if params.get("drop_pending_updates"):
                self._updates.clear()
        return True

    def _delete_webhook(self, params: JSON) -> bool:
        with self._lock:
            self._webhook_url = ""
            if params.get("drop_pending_updates"):
                self._updates.clear()
        return True

    def _webhook_info(self, params: JSON) -> JSON:
        with self._lock:
            return {
                "url": self._webhook_url, "has_custom_certificate": False,
                "pending_update_count": len(self._updates),
            }

    def _scope_key(self, params: JSON) -> str:
        scope = params.get("scope") or {"type": "default"}
        if not isinstance(scope, dict) or scope.get("type") not in (
            "default", "all_private_chats", "all_group_chats", "all_chat_administrators", "chat",
            "chat_administrators", "chat_member",
        ):
            raise bad_request("can't parse BotCommandScope")
        key = scope["type"]
        for part in ("chat_id", "user_id"):
            if part in scope:
                key += f":{scope[part]}"
        language = params.get("language_code") or ""
        return f"{key}/{language}" if language else key

    def _set_my_commands(self, params: JSON) -> bool:
        commands = validate_commands(params.get("commands"))
        key = self._scope_key(params)
        with self._lock:
            self._commands[key] = commands
        return True

    def _get_my_commands(self, params: JSON) -> list[JSON]:
        key = self._scope_key(params)
        with self._lock:
            return list(self._commands.get(key, []))

    def _delete_my_commands(self, params: JSON) -> bool:
        key = self._scope_key(params)
        with self._lock:
            self._commands.pop(key, None)
        return True

    def _set_description(self, params: JSON) -> bool:
        short = "short_description" in params
        text = str(params.get("short_description" if short else "description") or "")
        if len(text) > (120 if short else 512):
            raise bad_request("description is too long")
        with self._lock:
            self._descriptions["short_description" if short else "description"] = text
        return True

    def _get_description(self, params: JSON) -> JSON:
        with self._lock:
            return dict(self._descriptions)

    def _send_message(self, params: JSON) -> JSON:
        chat = self._require_chat(params.get("chat_id"))
        plain, entities = prepare_text(
            params.get("text"), params.get("parse_mode"), params.get("entities"),
            self.strict_ampersand,
        )
        content: JSON = {"text": plain, "entities": entities or None}
        if params.get("link_preview_options"):
            content["link_preview_options"] = params["link_preview_options"]
        return self._store_sent("sendMessage", chat, params, content, params.get("text"))

    def _fallback(self, method: str, params: JSON) -> Any:
        """Other methods: send* (with a chat_id) produce a message, everything else ``True``."""
        if not (method.startswith("send") and "chat_id" in params):
            return True
        chat = self._require_chat(params.get("chat_id"))
        content: JSON = {}
        if params.get("caption"):
            caption, entities = prepare_text(
                params["caption"], params.get("parse_mode"), params.get("caption_entities"),
                self.strict_ampersand, too_long="message caption is too long", max_len=1024,
            )
            content = {"caption": caption, "caption_entities": entities or None}
        kind = method[4:].lower()
        if kind in ("photo", "document", "audio", "video", "voice", "sticker", "animation"):
            file_id = self._register_file(kind, b"uploaded by the bot")
            media = {"file_id": file_id, "file_unique_id": f"u{file_id}"}
            content[kind] = [{**media, "width": 1, "height": 1}] if kind == "photo" else media
        return self._store_sent(method, chat, params, content, None)

    def _store_sent(
        self, method: str, chat: JSON, params: JSON, content: JSON, raw_text: str | None
    ) -> JSON:
        markup = params.get("reply_markup")
        if markup is not None:
            validate_reply_markup(markup)
        with self._lock:
            reply_to = self._resolve_reply(chat["id"], params)
            if markup and "inline_keyboard" in markup:
                content["reply_markup"] = markup
            message = self._new_message(chat, self.bot_user, reply_to=reply_to, **content)
            record = SentMessage(
                method=method, chat_id=chat["id"], message_id=message["message_id"],
                text=raw_text, plain_text=content.get("text"), parse_mode=params.get("parse_mode"),
                entities=content.get("entities") or [], reply_markup=markup,
                reply_to_message_id=reply_to["message_id"] if reply_to else None,
                link_preview_options=params.get("link_preview_options"), params=params,
                message=message,
            )
            self._sent.append(record)
            self._sent_index[(chat["id"], record.message_id)] = record
            self._cond.notify_all()
            return message

    def _resolve_reply(self, chat_id: int, params: JSON) -> JSON | None:
        reply = params.get("reply_parameters") or {}
        if not reply and params.get("reply_to_message_id") is not None:
            reply = {
                "message_id": params["reply_to_message_id"],
                "allow_sending_without_reply": params.get("allow_sending_without_reply"),
            }
        if not reply:
            return None
        target_chat = self._require_chat(reply.get("chat_id", chat_id))["id"]
        original = self._messages.get((target_chat, _int(reply.get("message_id"), 0)))
        if original is None and not reply.get("allow_sending_without_reply"):
            raise bad_request("message to be replied not found")
        return original

    def _find_own_message(self, params: JSON, what: str) -> SentMessage:
        chat_id = self._require_chat(params.get("chat_id"))["id"]
        key = (chat_id, _int(params.get("message_id"), 0))
        record = self._sent_index.get(key)
        if record is None or record.deleted:
            if key in self._messages:
                raise bad_request("message can't be edited")
            raise bad_request(f"message to {what} not found")
        return record

    def _edit_text(self, params: JSON) -> JSON | bool:
        plain, entities = prepare_text(
            params.get("text"), params.get("parse_mode"), params.get("entities"),
            self.strict_ampersand,
        )
        markup = params.get("reply_markup")
        if markup is not None:
            validate_reply_markup(markup)
        if params.get("inline_message_id"):
            return True
        with self._lock:
            record = self._find_own_message(params, "edit")
            if record.plain_text is None:
                raise bad_request("there is no text in the message to edit")
            if (plain, entities, markup) == (
                record.plain_text, record.entities, record.reply_markup
            ):
                raise bad_request(_NOT_MODIFIED)
            record.previous_texts.append(record.text)
            record.text, record.plain_text, record.entities = params.get("text"), plain, entities
            record.parse_mode = params.get("parse_mode")
            record.message["text"] = plain
            _set_optional(record.message, "entities", entities)
            return self._apply_edit(record, markup)

    def _edit_markup(self, params: JSON) -> JSON | bool:
        markup = params.get("reply_markup")
        if markup is not None:
            validate_reply_markup(markup)
        if params.get("inline_message_id"):
            return True
        with self._lock:
            record = self._find_own_message(params, "edit")
            if markup == record.reply_markup or (not markup and not record.reply_markup):
                raise bad_request(_NOT_MODIFIED)
            return self._apply_edit(record, markup)

    def _apply_edit(self, record: SentMessage, markup: JSON | None) -> JSON:
        record.reply_markup = markup
        inline = markup if markup and "inline_keyboard" in markup else None
        _set_optional(record.message, "reply_markup", inline)
        record.message["edit_date"] = int(time.time())
        self._cond.notify_all()
        return record.message

    def _delete(self, params: JSON) -> bool:
        chat_id = self._require_chat(params.get("chat_id"))["id"]
        key = (chat_id, _int(params.get("message_id"), 0))
        with self._lock:
            if self._messages.pop(key, None) is None:
                raise bad_request("message to delete not found")
            if key in self._sent_index:
                self._sent_index[key].deleted = True
            self._cond.notify_all()
        return True

    def _answer_callback(self, params: JSON) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        text = params.get("text")
        if text and utf16_len(str(text)) > MAX_CALLBACK_ANSWER_UTF16:
            raise bad_request("MESSAGE_TOO_LONG")
        with self._lock:
            if self._callback_queries.get(query_id, True):
                raise ApiError(400, QUERY_TOO_OLD)
            self._callback_queries[query_id] = True
            self._callback_answers.append(CallbackAnswer(
                query_id, text, bool(params.get("show_alert")), params.get("url"), params,
            ))
            self._cond.notify_all()
        return True

    def _answer_inline(self, params: JSON) -> bool:
        query_id = str(params.get("inline_query_id") or "")
        validate_inline_results(
            params.get("results"), params.get("next_offset"), self.strict_ampersand
        )
        with self._lock:
            if self._inline_queries.get(query_id, True):
                raise ApiError(400, QUERY_TOO_OLD)
            self._inline_queries[query_id] = True
            self._inline_answers.append(InlineAnswer(
                query_id, list(params.get("results") or []), params.get("next_offset"),
                params.get("cache_time"), bool(params.get("is_personal")), params,
            ))
            self._cond.notify_all()
        return True

    def _chat_action(self, params: JSON) -> bool:
        self._require_chat(params.get("chat_id"))
        if params.get("action") not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    def _get_file(self, params: JSON) -> JSON:
        file_id = str(params.get("file_id") or "")
        with self._lock:
            if file_id not in self._files:
                raise bad_request("invalid file_id")
            path, content = self._files[file_id]
        return {
            "file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": len(content),
            "file_path": path,
        }

    def _require_chat(self, raw: Any) -> JSON:
        """Resolve chat_id (int or "@username") like Telegram, honouring blocked chats."""
        if raw is None or raw == "":
            raise bad_request("chat_id is empty")
        with self._lock:
            if isinstance(raw, str) and raw.startswith("@"):
                chat = next(
                    (c for c in self._chats.values() if c.get("username") == raw[1:]), None
                )
            else:
                chat = self._chats.get(_int(raw, 0))
            if chat is None:
                raise bad_request("chat not found")
            if chat["id"] in self._blocked:
                raise ApiError(403, self._blocked[chat["id"]])
            return chat

    # ------------------------------------------------------------------ users, chats, messages

    def user(
        self,
        user_id: int,
        first_name: str | None = None,
        *,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str | None = "en",
        is_bot: bool = False,
        **extra: Any,
    ) -> JSON:
        """Register (or update) a user and their private chat with the bot; return the User."""
        user: JSON = {"id": user_id, "is_bot": is_bot, "first_name": first_name or f"User{user_id}"}
        optional = {"last_name": last_name, "username": username, "language_code": language_code}
        user.update({k: v for k, v in {**optional, **extra}.items() if v is not None})
        chat = {k: v for k, v in user.items() if k in ("first_name", "last_name", "username")}
        with self._lock:
            self._users[user_id] = user
            self._chats[user_id] = {"id": user_id, "type": "private", **chat}
        return dict(user)

    def group(
        self, chat_id: int, title: str = "Test group", *, type: str = "supergroup",
        username: str | None = None,
    ) -> JSON:
        """Register a group/supergroup (negative id) or channel (type="channel")."""
        if chat_id >= 0:
            raise ValueError("group and channel ids are negative")
        chat: JSON = {"id": chat_id, "type": type, "title": title}
        if username:
            chat["username"] = username
        with self._lock:
            self._chats[chat_id] = chat
        return dict(chat)

    def channel(self, chat_id: int, title: str = "Test channel", username: str | None = None) -> JSON:
        """Register a channel."""
        return self.group(chat_id, title, type="channel", username=username)

    def block_chat(self, chat_id: int, description: str = "Forbidden: bot was blocked by the user") -> None:
        """Make every call addressed to ``chat_id`` fail with 403 ``description``."""
        with self._lock:
            self._blocked[chat_id] = description

    def unblock_chat(self, chat_id: int) -> None:
        """Undo block_chat."""
        with self._lock:
            self._blocked.pop(chat_id, None)

    def _as_user(self, user: int | JSON) -> JSON:
        with self._lock:
            if isinstance(user, dict):
                if user["id"] in (ANONYMOUS_ADMIN["id"], CHANNEL_BOT["id"]):
                    return dict(user)
                known = self._users.get(user["id"])
                if known is None or any(known.get(k) != v for k, v in user.items()):
                    extra = {k: v for k, v in user.items() if k not in ("id", "first_name")}
                    return self.user(user["id"], user.get("first_name"), **extra)
                return dict(known)
            return dict(self._users[user]) if user in self._users else self.user(user)

    def _as_chat(self, chat: int | JSON) -> JSON:
        with self._lock:
            if isinstance(chat, dict):
                self._chats[chat["id"]] = dict(chat)
                return dict(chat)
            if chat in self._chats:
                return dict(self._chats[chat])
            if chat > 0:
                self.user(chat)
                return dict(self._chats[chat])
            return self.group(chat)

    def _new_message(self, chat: JSON, sender: JSON | None, reply_to: JSON | None = None, **fields: Any) -> JSON:
        """Create and store a Message in ``chat`` with the chat's next message_id."""
        with self._lock:
            message_id = self._last_message_id.get(chat["id"], 0) + 1
            self._last_message_id[chat["id"]] = message_id
            message: JSON = {"message_id": message_id, "date": int(time.time()), "chat": dict(chat)}
            if sender is not None:
                message["from"] = dict(sender)
            if reply_to is not None:
                message["reply_to_message"] = {
                    k: v for k, v in copy.deepcopy(reply_to).items() if k != "reply_to_message"
                }
            message.update({k: v for k, v in fields.items() if v is not None})
            self._messages[(chat["id"], message_id)] = message
            return message

    def _reply_target(self, chat_id: int, reply_to: int | JSON | SentMessage | None) -> JSON | None:
        if reply_to is None:
            return None
        if isinstance(reply_to, SentMessage):
            return reply_to.message
        if isinstance(reply_to, dict):
            return reply_to
        with self._lock:
            return self._messages[(chat_id, reply_to)]

    def push_update(self, update: JSON) -> JSON:
        """Queue a raw update (update_id is assigned when missing) and wake long polls."""
        with self._cond:
            if "update_id" not in update:
                update = {"update_id": self._next_update_id, **update}
            self._next_update_id = max(self._next_update_id, update["update_id"]) + 1
            self._updates.append(update)
            self._cond.notify_all()
        return update

    def message(
        self,
        chat: int | JSON,
        user: int | JSON | None,
        text: str | None = None,
        *,
        reply_to: int | JSON | SentMessage | None = None,
        entities: list[JSON] | None = None,
        update_type: str = "message",
        **extra: Any,
    ) -> JSON:
        """Deliver a message from ``user`` in ``chat``; return the Message dict.

        Commands and @mentions get bot_command/mention entities unless ``entities`` is given.
        ``extra`` keys are merged into the Message (e.g. ``sticker=...``, ``caption=...``).
        """
        chat_obj = self._as_chat(chat)
        sender = self._as_user(user) if user is not None else None
        if text is not None:
            extra["text"] = text
            found = auto_entities(text) if entities is None else entities
            if found:
                extra["entities"] = found
        target = self._reply_target(chat_obj["id"], reply_to)
        message = self._new_message(chat_obj, sender, reply_to=target, **extra)
        self.push_update({update_type: message})
        return message

    def private_message(self, user: int | JSON, text: str, **kw: Any) -> JSON:
        """A message from ``user`` in their private chat with the bot."""
        sender = self._as_user(user)
        return self.message(sender["id"], sender, text, **kw)

    def group_message(
        self,
        chat: int | JSON,
        user: int | JSON | None,
        text: str,
        reply_to: int | JSON | SentMessage | None = None,
        entities: list[JSON] | None = None,
        via_bot: bool = False,
        sender_chat: bool | int | JSON | None = None,
        **kw: Any,
    ) -> JSON:
        """A group message; ``sender_chat=True`` makes it an anonymous admin's message
        (from = GroupAnonymousBot unless ``user`` is given), another chat a message sent on
        behalf of that chat (from = Channel_Bot); ``user=None`` omits ``from`` altogether."""
        chat_obj = self._as_chat(chat)
        if sender_chat is not None and sender_chat is not False:
            as_chat = chat_obj if sender_chat is True else self._as_chat(sender_chat)
            kw["sender_chat"] = as_chat
            if user is None:
                user = ANONYMOUS_ADMIN if as_chat["id"] == chat_obj["id"] else CHANNEL_BOT
        if via_bot:
            kw["via_bot"] = self.bot_user
        return self.message(chat_obj, user, text, reply_to=reply_to, entities=entities, **kw)

    def channel_post(self, chat: int | JSON, text: str, **kw: Any) -> JSON:
        """A channel post (no ``from``, sender_chat = the channel)."""
        chat_obj = self._as_chat(chat)
        return self.message(chat_obj, None, text, update_type="channel_post", sender_chat=chat_obj, **kw)

    def forwarded_message(
        self, chat: int | JSON, user: int | JSON, text: str, origin: int | JSON | str, **kw: Any
    ) -> JSON:
        """A forwarded message; ``origin`` is a user (id or User), a chat dict or a hidden name."""
        date = int(time.time()) - 3600
        if isinstance(origin, str):
            forward: JSON = {"type": "hidden_user", "sender_user_name": origin, "date": date}
        elif isinstance(origin, dict) and origin.get("type") in ("channel", "group", "supergroup"):
            kind = "channel" if origin["type"] == "channel" else "chat"
            forward = {"type": kind, "chat" if kind == "channel" else "sender_chat": origin, "date": date}
            if kind == "channel":
                forward["message_id"] = 1
        else:
            forward = {"type": "user", "sender_user": self._as_user(origin), "date": date}
        return self.message(chat, user, text, forward_origin=forward, **kw)

    def sticker_message(self, chat: int | JSON, user: int | JSON, emoji: str = "👍", **kw: Any) -> JSON:
        """A sticker message (no text)."""
        file_id = self._register_file("sticker", b"RIFF-fake-webp")
        sticker = {
            "file_id": file_id, "file_unique_id": f"u{file_id}", "type": "regular", "width": 512,
            "height": 512, "is_animated": False, "is_video": False, "emoji": emoji,
        }
        return self.message(chat, user, sticker=sticker, **kw)

    def photo_message(self, chat: int | JSON, user: int | JSON, caption: str | None = None, **kw: Any) -> JSON:
        """A photo message with an optional caption (caption entities detected like text)."""
        file_id = self._register_file("photo", b"\xff\xd8fake-jpeg")
        photo = [{"file_id": file_id, "file_unique_id": f"u{file_id}", "width": 90, "height": 90, "file_size": 10}]
        if caption is not None:
            kw["caption"] = caption
            if found := auto_entities(caption):
                kw["caption_entities"] = found
        return self.message(chat, user, photo=photo, **kw)

    def edited_message(self, message: JSON, text: str, entities: list[JSON] | None = None, **kw: Any) -> JSON:
        """Deliver an edit of a user message (or channel post) with new ``text``."""
        with self._lock:
            edited = copy.deepcopy(message)
            edited.update(text=text, edit_date=int(time.time()), **kw)
            found = auto_entities(text) if entities is None else entities
            _set_optional(edited, "entities", found or None)
            self._messages[(edited["chat"]["id"], edited["message_id"])] = edited
        kind = "edited_channel_post" if edited["chat"]["type"] == "channel" else "edited_message"
        self.push_update({kind: edited})
        return edited

    def callback_query(self, user: int | JSON, message: JSON | SentMessage, data: str, **kw: Any) -> JSON:
        """A button press on ``message`` (a bot message); return the update."""
        message = message.message if isinstance(message, SentMessage) else message
        query_id = str(next(self._ids) + 10**15)
        with self._lock:
            self._callback_queries[query_id] = False
            query = {
                "id": query_id, "from": self._as_user(user), "message": copy.deepcopy(message),
                "chat_instance": str(abs(hash(message["chat"]["id"]))), "data": data, **kw,
            }
        return self.push_update({"callback_query": query})

    def inline_query(self, user: int | JSON, query: str, offset: str = "", **kw: Any) -> JSON:
        """An inline query (``@bot query``); return the update."""
        query_id = str(next(self._ids) + 2 * 10**15)
        with self._lock:
            self._inline_queries[query_id] = False
            inline = {"id": query_id, "from": self._as_user(user), "query": query, "offset": offset, **kw}
        return self.push_update({"inline_query": inline})

    def _register_file(self, kind: str, content: bytes) -> str:
        file_id = f"{kind.upper()}-{next(self._ids)}"
        with self._lock:
            self._files[file_id] = (f"{kind}s/{file_id}.bin", content)
        return file_id

    def add_file(self, file_id: str, content: bytes, file_path: str | None = None) -> None:
        """Make ``file_id`` known to getFile and downloadable from base_file_url."""
        with self._lock:
            self._files[file_id] = (file_path or f"documents/{file_id}", content)

    # ------------------------------------------------------------------ observation

    @property
    def calls(self) -> list[tuple[str, JSON]]:
        """Every authorized request in order as (method, params), failures included."""
        with self._lock:
            return list(self._calls)

    def calls_of(self, method: str) -> list[JSON]:
        """Params of every call of ``method`` (case-insensitive)."""
        return [params for name, params in self.calls if name.lower() == method.lower()]

    def sent_messages(self, chat_id: int | None = None) -> list[SentMessage]:
        """Messages the bot sent (deleted ones included, see ``deleted``), oldest first."""
        with self._lock:
            return [m for m in self._sent if chat_id is None or m.chat_id == chat_id]

    @property
    def inline_answers(self) -> list[InlineAnswer]:
        with self._lock:
            return list(self._inline_answers)

    @property
    def callback_answers(self) -> list[CallbackAnswer]:
        with self._lock:
            return list(self._callback_answers)

    @property
    def rejections(self) -> list[Rejection]:
        """400s produced by validation; ``assert fake.rejections == []`` in happy-path tests."""
        with self._lock:
            return list(self._rejections)

    @property
    def commands(self) -> dict[str, list[JSON]]:
        """Commands by scope key: "default", "all_private_chats", "chat:ID", "default/ru" ..."""
        with self._lock:
            return copy.deepcopy(self._commands)

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates not yet confirmed by the bot (getUpdates offset)."""
        with self._lock:
            return list(self._updates)

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Poll ``predicate()`` until it returns something truthy, and return that."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise TimeoutError(f"condition not met within {timeout}s; calls: {self._call_summary()}")
            await asyncio.sleep(0.01)

    async def wait_for_messages(
        self, n: int, chat_id: int | None = None, timeout: float = 5.0
    ) -> list[SentMessage]:
        """Wait until the bot has sent at least ``n`` messages (to ``chat_id``); return them all."""

        def enough() -> list[SentMessage] | None:
            messages = self.sent_messages(chat_id)
            return messages if len(messages) >= n else None

        return await self.wait_for(enough, timeout)

    async def wait_for_call(self, method: str, timeout: float = 5.0, count: int = 1) -> JSON:
        """Wait for the ``count``-th call of ``method`` and return its params."""

        def enough() -> list[JSON] | None:
            calls = self.calls_of(method)
            return calls if len(calls) >= count else None

        return (await self.wait_for(enough, timeout))[count - 1]

    async def wait_for_updates_consumed(self, timeout: float = 5.0) -> None:
        """Wait until the bot has fetched and confirmed every pushed update."""
        await self.wait_for(lambda: not self.pending_updates, timeout)

    def _call_summary(self) -> str:
        names = [name for name, _ in self.calls if name != "getUpdates"]
        return ", ".join(names[-15:]) or "none besides getUpdates"

    # ------------------------------------------------------------------ failure injection

    def fail_next(
        self,
        method: str,
        status: int,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` ("*" = any) with an error."""
        if status == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            description = (
                f"Too Many Requests: retry after {retry_after}" if status == 429
                else _DEFAULT_DESCRIPTIONS.get(status, "Internal Server Error")
            )
        with self._lock:
            queue = self._faults.setdefault(method.lower(), deque())
            queue.extend(_Fault("fail", status, description, retry_after) for _ in range(times))

    def drop_next(self, method: str, times: int = 1) -> None:
        """Close the connection without answering (the call is not executed)."""
        with self._lock:
            self._faults.setdefault(method.lower(), deque()).extend(_Fault("drop") for _ in range(times))

    def delay_next(self, method: str, seconds: float, times: int = 1) -> None:
        """Sleep before handling the next call(s); the call is executed afterwards anyway."""
        with self._lock:
            self._delays.setdefault(method.lower(), deque()).extend([seconds] * times)

    def conflict_next_get_updates(self, times: int = 1) -> None:
        """Answer the next getUpdates with 409 Conflict, as with a second bot instance running."""
        self.fail_next("getUpdates", 409, CONFLICT_GET_UPDATES, times=times)

    def clear_faults(self) -> None:
        """Forget pending injected failures and delays."""
        with self._lock:
            self._faults.clear()
            self._delays.clear()


# ---------------------------------------------------------------------- helpers


def _error_response(
    status: int, description: str, parameters: JSON | None = None
) -> tuple[int, bytes, str]:
    body: JSON = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return status, json.dumps(body).encode(), "application/json"


def _pop(queues: dict[str, deque[Any]], method: str) -> Any:
    for key in (method.lower(), "*"):
        if queues.get(key):
            return queues[key].popleft()
    return None


def _int(value: Any, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return default


def _update_type(update: JSON) -> str:
    return next((key for key in update if key != "update_id"), "")


def _set_optional(target: JSON, key: str, value: Any) -> None:
    if value:
        target[key] = value
    else:
        target.pop(key, None)


def _decode_params(query: str, ctype: str, body: bytes) -> JSON:
    """Merge query string and body (JSON, urlencoded or multipart) into typed params."""
    params: JSON = dict(parse_qsl(query, keep_blank_values=True))
    kind = ctype.split(";")[0].strip().lower()
    try:
        if kind == "application/json" and body:
            data = json.loads(body)
            if not isinstance(data, dict):
                raise bad_request("JSON object expected")
            params.update(data)
        elif kind == "application/x-www-form-urlencoded":
            params.update(parse_qsl(body.decode(), keep_blank_values=True))
        elif kind == "multipart/form-data":
            params.update(_parse_multipart(ctype, body))
    except (ValueError, UnicodeDecodeError):
        raise bad_request("can't parse request body") from None
    return {key: _coerce(key, value) for key, value in params.items()}


def _parse_multipart(ctype: str, body: bytes) -> JSON:
    head = f"Content-Type: {ctype}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    fields: JSON = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        if part.get_filename():
            fields[name] = {"filename": part.get_filename(), "content": payload}
        else:
            fields[name] = payload.decode()
    return fields


def _coerce(key: str, value: Any) -> Any:
    """Form fields are strings; decode them the way the Bot API does per field."""
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
    if key.startswith(_BOOL_PREFIXES) and value in ("true", "false", "True", "False"):
        return value.lower() == "true"
    return value

"""A fake Telegram Bot API server for end-to-end tests of python-telegram-bot bots.

It serves HTTP on 127.0.0.1 (ephemeral port) from a background thread, validates requests as
strictly as Telegram does (HTML parse mode, 4096 UTF-16 units, keyboards, inline results, ...;
see ``fake_telegram_validation``), answers ``getUpdates`` with real long polling and records
everything for assertions::

    with FakeTelegram(TOKEN) as fake:
        app = (Application.builder().token(TOKEN).base_url(f"{fake.base_url}/bot")
               .base_file_url(fake.base_file_url).build())
        ...
        fake.private_message(42, "/start")
        [reply] = await fake.wait_for_messages(1, chat_id=42)
        assert fake.rejections == []

The test-side API is thread-safe; the ``wait_*`` coroutines poll without blocking the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import math
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

try:
    from . import fake_telegram_validation as rules
except ImportError:  # imported as a top-level module (tests/ on sys.path, pytest's default)
    import fake_telegram_validation as rules  # type: ignore[no-redef]

ApiError = rules.ApiError
bad_request = rules.bad_request
JSON = dict[str, Any]

ANONYMOUS_ADMIN = rules.ANONYMOUS_ADMIN
CHANNEL_BOT = rules.CHANNEL_BOT
CONFLICT_GET_UPDATES = rules.CONFLICT_GET_UPDATES
_MEDIA = ("photo", "document", "audio", "video", "voice", "sticker", "animation", "video_note")


@dataclass
class SentMessage:
    """A message the bot sent (sendMessage or another send* method), kept up to date on edits."""

    method: str
    chat_id: int
    message_id: int
    text: str | None  # as sent, markup included
    plain_text: str | None  # after entity parsing: what the user sees
    parse_mode: str | None
    entities: list[JSON]
    reply_markup: JSON | None
    reply_to_message_id: int | None
    link_preview_options: JSON | None
    params: JSON
    message: JSON  # the Message object returned to the bot
    previous_texts: list[str | None] = field(default_factory=list)
    deleted: bool = False
    seq: int = 0  # order among everything the fake accepted (messages, inline and button answers)
    at: float = 0.0  # time.monotonic() when accepted

    @property
    def thread_id(self) -> int | None:
        """The forum topic the message went to (None: not in a topic)."""
        return self.message.get("message_thread_id") if self.message.get("is_topic_message") else None

    @property
    def buttons(self) -> list[JSON]:
        """All inline keyboard buttons, row by row."""
        return [b for row in (self.reply_markup or {}).get("inline_keyboard", []) for b in row]


MessageRef = int | JSON | SentMessage  # a message_id in the chat, a Message dict or a SentMessage


@dataclass
class CallbackAnswer:
    """An accepted answerCallbackQuery."""

    query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    params: JSON
    seq: int = 0
    at: float = 0.0


@dataclass
class InlineAnswer:
    """An accepted answerInlineQuery."""

    query_id: str
    results: list[JSON]
    next_offset: str | None
    cache_time: int | None
    is_personal: bool
    params: JSON
    seq: int = 0
    at: float = 0.0


@dataclass
class Rejection:
    """A 400 produced by the fake's validation (injected failures are not listed)."""

    method: str
    params: JSON
    description: str


@dataclass
class _Fault:
    kind: str  # "fail" or "drop"
    status: int = 0
    description: str = ""
    retry_after: int | None = None
    chat_id: int | None = None  # only calls addressed to this chat (None: any call)


@dataclass
class _FirstCallFault:
    """Fail the first call of each method (or of each distinct method and parameters) once."""

    status: int
    description: str
    methods: frozenset[str] | None  # lower-case names; None: every method
    exclude: frozenset[str]
    per_parameters: bool
    seen: set[str] = field(default_factory=set)

    def applies(self, method: str, params: JSON) -> bool:
        name = method.lower()
        if name in self.exclude or (self.methods is not None and name not in self.methods):
            return False
        key = name + (json.dumps(params, sort_keys=True, default=str) if self.per_parameters else "")
        if key in self.seen:
            return False
        self.seen.add(key)
        return True


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 front end (keep-alive like api.telegram.org); logic is in FakeTelegram._dispatch."""

    protocol_version = "HTTP/1.1"
    fake: FakeTelegram

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no 40 ms stalls
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
        response = self.fake._dispatch(self.path, self.headers.get("Content-Type", ""), body)
        if response is None:  # injected drop: close the connection without answering
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        status, payload = response
        with contextlib.suppress(ConnectionError):  # the client gave up (timeout, shutdown)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        self.close_connection = True

    do_POST = do_GET


class _Server(ThreadingHTTPServer):
    """Like Telegram, accepts a burst of new connections (socketserver's backlog of 5 would reset them)."""

    request_queue_size = 1024
    daemon_threads = True


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
        self.strict_ampersand = strict_ampersand  # False: a bare "&" is kept literally, as Telegram does
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._ids = itertools.count(1)
        self._updates: deque[JSON] = deque()
        self._next_update_id = 1
        self._allowed_updates: list[str] = []
        self._poll_generation = 0
        self._webhook_url = ""
        self._users: dict[int, JSON] = {}
        self._chats: dict[int, JSON] = {}
        self._blocked: dict[int, str] = {}
        self._messages: dict[tuple[int, int], JSON] = {}
        self._last_message_id: dict[int, int] = {}
        self._sent: list[SentMessage] = []
        self._sent_index: dict[tuple[int, int], SentMessage] = {}
        self._calls: list[tuple[str, JSON]] = []
        self._send_message_calls = 0
        self._delivered_after: dict[int, int] = {}  # update id -> sendMessage calls when first delivered
        self._rejections: list[Rejection] = []
        self._open_queries: dict[str, bool] = {}  # callback/inline query id -> still answerable
        self._callback_answers: list[CallbackAnswer] = []
        self._inline_answers: list[InlineAnswer] = []
        self._commands: dict[str, list[JSON]] = {}
        self._descriptions: dict[tuple[str, str], str] = {}  # (description|short_description, lang)
        self._faults: dict[str, deque[_Fault]] = {}
        self._first_call_faults: list[_FirstCallFault] = []
        self._first_call_failures: list[str] = []
        self._chat_limits: dict[int, float] = {}  # chat -> monotonic time its 429 pause ends
        self._limited_calls: list[tuple[str, JSON]] = []
        self._topics: dict[int, dict[int, str]] = {}  # forum chat -> thread id -> topic name
        self._seq = itertools.count(1)
        self._delays: dict[str, deque[float]] = {}
        self._handlers: dict[str, tuple[str, Callable[[JSON], Any]]] = {
            name[5:].lower(): (name[5:], getattr(self, name))
            for name in dir(self)
            if name.startswith("_api_")
        }  # Bot API methods are the _api_<methodName> methods; names are case-insensitive

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeTelegram:
        """Bind to 127.0.0.1 on an ephemeral port and serve from a daemon thread."""
        self._stopping.clear()
        self._server = _Server(("127.0.0.1", 0), type("Handler", (_Handler,), {"fake": self}))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},
            daemon=True,
            name="fake-telegram",
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Release long polls, close client connections and shut the server down."""
        if self._server is None:
            return
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
            connections = list(self._connections)
        self._server.shutdown()
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
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
        """E.g. "http://127.0.0.1:PORT"; give the bot ``f"{base_url}/bot"``."""
        if self._server is None:
            raise RuntimeError("FakeTelegram is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_file_url(self) -> str:
        """Value for ApplicationBuilder.base_file_url() (file downloads are not served)."""
        return f"{self.base_url}/file/bot"

    @property
    def bot_user(self) -> JSON:
        """The bot as a User object."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def _track_connection(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            (self._connections.add if add else self._connections.discard)(conn)

    # ------------------------------------------------------------------ HTTP dispatch

    def _dispatch(self, raw_path: str, ctype: str, body: bytes) -> tuple[int, bytes] | None:
        """Answer one request as (status, JSON body); None means "drop the connection"."""
        url = urlsplit(raw_path)
        if not url.path.startswith("/bot"):
            return rules.error_response(404, "Not Found")
        token, _, method = url.path[len("/bot") :].partition("/")
        if token != self.token:
            return rules.error_response(401, "Unauthorized")
        if not method or "/" in method:
            return rules.error_response(404, "Not Found")
        name, handler = self._handlers.get(method.lower(), (method, None))
        params: JSON = {}
        try:
            params = rules.decode_params(url.query, ctype, body)
            with self._lock:
                self._calls.append((name, params))
                if name == "sendMessage":
                    self._send_message_calls += 1
                limited = self._chat_limit(name, params)
                delay = _pop(self._delays, name)
                fault = None if limited else _pop_fault(self._faults, name, _int(params.get("chat_id"), 0))
                if fault is None and not limited:
                    fault = self._first_call_fault(name, params)
            if limited:
                return limited
            if delay:
                self._stopping.wait(delay)
            if fault is not None and fault.kind == "drop":
                return None
            if fault is not None:
                retry = {"retry_after": fault.retry_after} if fault.retry_after is not None else None
                return rules.error_response(fault.status, fault.description, retry)
            try:
                result = handler(params) if handler else self._fallback(name, params)
            except (TypeError, ValueError, KeyError, AttributeError) as err:  # malformed params
                raise bad_request(f"invalid parameters ({err!r})") from err
            with self._lock:  # results share dicts with the stored state
                return 200, json.dumps({"ok": True, "result": result}).encode()
        except ApiError as err:
            if err.status == 400:
                with self._lock:
                    self._rejections.append(Rejection(name, params, err.description))
            return rules.error_response(err.status, err.description, err.parameters)

    def _chat_limit(self, method: str, params: JSON) -> tuple[int, bytes] | None:
        """A 429 with the seconds left, for a message or edit to a chat under ``limit_chat``."""
        chat = _int(params.get("chat_id"), 0)
        until = self._chat_limits.get(chat)
        if until is None or not method.startswith(("send", "copy", "forward", "edit")):
            return None
        left = until - time.monotonic()
        if left <= 0:
            del self._chat_limits[chat]
            return None
        self._limited_calls.append((method, params))
        retry_after = max(1, math.ceil(left))
        return rules.error_response(
            429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
        )

    # ------------------------------------------------------------------ Bot API methods

    def _api_logOut(self, params: JSON) -> bool:
        return True

    _api_close = _api_logOut

    def _api_getMe(self, params: JSON) -> JSON:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _api_getUpdates(self, params: JSON) -> list[JSON]:
        """Confirm updates below ``offset``, then block until one is deliverable or timeout."""
        offset, limit = _int(params.get("offset")), min(max(_int(params.get("limit"), 100), 1), 100)
        deadline = time.monotonic() + max(float(params.get("timeout") or 0), 0.0)
        with self._cond:
            if self._webhook_url:
                raise ApiError(409, rules.WEBHOOK_ACTIVE)
            if params.get("allowed_updates") is not None:  # remembered, like Telegram does
                self._allowed_updates = list(params["allowed_updates"])
            self._poll_generation += 1
            generation = self._poll_generation
            self._cond.notify_all()  # an older waiting getUpdates is terminated with 409
            if offset < 0:
                while len(self._updates) > -offset:
                    self._updates.popleft()
            while self._updates and self._updates[0]["update_id"] < offset:
                self._updates.popleft()
            while True:
                if generation != self._poll_generation:
                    raise ApiError(409, CONFLICT_GET_UPDATES)
                allowed = set(self._allowed_updates) or None
                self._updates = deque(u for u in self._updates if rules.update_allowed(u, allowed))
                batch = list(itertools.islice(self._updates, limit))
                remaining = deadline - time.monotonic()
                if batch or remaining <= 0 or self._stopping.is_set():
                    for update in batch:
                        self._delivered_after.setdefault(update["update_id"], self._send_message_calls)
                    return batch
                self._cond.wait(remaining)

    def _api_setWebhook(self, params: JSON) -> bool:
        """setWebhook and deleteWebhook (the fake never posts to the webhook)."""
        with self._lock:
            self._webhook_url = str(params.get("url") or "")
            if params.get("drop_pending_updates"):
                self._updates.clear()
        return True

    _api_deleteWebhook = _api_setWebhook

    def _api_getWebhookInfo(self, params: JSON) -> JSON:
        with self._lock:
            return {
                "url": self._webhook_url,
                "has_custom_certificate": False,
                "pending_update_count": len(self._updates),
            }

    def _api_setMyCommands(self, params: JSON) -> bool:
        commands = rules.validate_commands(params.get("commands"))
        with self._lock:
            self._commands[rules.command_scope_key(params)] = commands
        return True

    def _api_deleteMyCommands(self, params: JSON) -> bool:
        with self._lock:
            self._commands.pop(rules.command_scope_key(params), None)
        return True

    def _api_getMyCommands(self, params: JSON) -> list[JSON]:
        with self._lock:
            return list(self._commands.get(rules.command_scope_key(params), []))

    def _api_setMyDescription(self, params: JSON) -> bool:
        return self._set_description("description", 512, params)

    def _api_setMyShortDescription(self, params: JSON) -> bool:
        return self._set_description("short_description", 120, params)

    def _set_description(self, key: str, limit: int, params: JSON) -> bool:
        """Stored by (kind, language_code); an empty text removes that language's version."""
        code = rules.language_code(params)
        text = params.get(key) or ""
        if not isinstance(text, str):
            raise bad_request(f"{key} must be a string")
        if len(text) > limit:  # Telegram counts characters here
            raise bad_request(f"{key.replace('_', ' ')} is too long")
        with self._lock:
            if text:
                self._descriptions[(key, code)] = text
            else:
                self._descriptions.pop((key, code), None)
        return True

    def _api_getMyDescription(self, params: JSON) -> JSON:
        with self._lock:
            return {"description": self._descriptions.get(("description", rules.language_code(params)), "")}

    def _api_getMyShortDescription(self, params: JSON) -> JSON:
        code = rules.language_code(params)
        with self._lock:
            return {"short_description": self._descriptions.get(("short_description", code), "")}

    def _api_sendMessage(self, params: JSON) -> JSON:
        chat = self._require_chat(params.get("chat_id"))
        plain, entities = rules.prepare_text(params, "text", self.strict_ampersand)
        content: JSON = {
            "text": plain,
            "entities": entities or None,
            "link_preview_options": params.get("link_preview_options") or None,
        }
        return self._store_sent("sendMessage", chat, params, content)

    def _fallback(self, method: str, params: JSON) -> Any:
        """Other methods: send* with a chat_id store and return a message, the rest return True."""
        if not (method.startswith("send") and "chat_id" in params):
            return True
        chat = self._require_chat(params.get("chat_id"))
        content: JSON = {}
        if params.get("caption"):
            caption, entities = rules.prepare_text(params, "caption", self.strict_ampersand)
            content = {"caption": caption, "caption_entities": entities or None}
        kind = method[len("send") :].lower()
        if kind in _MEDIA:
            content[kind] = [self._file(kind, width=1, height=1)] if kind == "photo" else self._file(kind)
        return self._store_sent(method, chat, params, content)

    def _store_sent(self, method: str, chat: JSON, params: JSON, content: JSON) -> JSON:
        markup = params.get("reply_markup")
        if markup is not None:
            rules.validate_reply_markup(markup)
        with self._lock:
            thread = self._require_thread(chat, params.get("message_thread_id"))
            reply_to = self._resolve_reply(chat["id"], params)
            if markup and "inline_keyboard" in markup:
                content["reply_markup"] = markup
            if thread is not None:
                content.update(message_thread_id=thread, is_topic_message=True)
            message = self._new_message(chat, self.bot_user, reply_to, **content)
            record = SentMessage(
                method,
                chat["id"],
                message["message_id"],
                params.get("text"),
                content.get("text"),
                params.get("parse_mode"),
                content.get("entities") or [],
                markup,
                reply_to["message_id"] if reply_to else None,
                params.get("link_preview_options"),
                params,
                message,
                seq=next(self._seq),
                at=time.monotonic(),
            )
            self._sent.append(record)
            self._sent_index[(chat["id"], record.message_id)] = record
            return message

    def _require_thread(self, chat: JSON, raw: Any) -> int | None:
        """message_thread_id as Telegram checks it: an existing topic of a forum supergroup."""
        if raw is None or raw == "":
            return None
        thread = _int(raw, -1)
        if thread not in self._topics.get(chat["id"], {}):
            raise bad_request("message thread not found")
        return thread

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
        original = self._messages.get((target_chat, _int(reply.get("message_id"))))
        if original is None and not reply.get("allow_sending_without_reply"):
            raise bad_request("message to be replied not found")
        return original

    def _api_editMessageText(self, params: JSON) -> JSON | bool:
        return self._edit(params, is_text=True)

    def _api_editMessageReplyMarkup(self, params: JSON) -> JSON | bool:
        return self._edit(params, is_text=False)

    def _edit(self, params: JSON, is_text: bool) -> JSON | bool:
        """editMessageText (``is_text``) and editMessageReplyMarkup."""
        plain, entities = rules.prepare_text(params, "text", self.strict_ampersand) if is_text else (None, [])
        markup = params.get("reply_markup")  # omitted = keyboard removed, as in Telegram
        if markup is not None:
            rules.validate_reply_markup(markup)
        if params.get("inline_message_id"):
            return True
        with self._lock:
            key = (self._require_chat(params.get("chat_id"))["id"], _int(params.get("message_id")))
            record = self._sent_index.get(key)
            if record is None or record.deleted:
                raise bad_request(
                    "message can't be edited" if key in self._messages else "message to edit not found"
                )
            if is_text and record.plain_text is None:
                raise bad_request("there is no text in the message to edit")
            same_markup = (markup or None) == (record.reply_markup or None)
            if same_markup and (not is_text or (plain, entities) == (record.plain_text, record.entities)):
                raise bad_request(rules.NOT_MODIFIED)
            if is_text:
                record.previous_texts.append(record.text)
                record.text, record.plain_text, record.entities = params["text"], plain, entities
                record.parse_mode = params.get("parse_mode")
                record.message["text"] = plain
                _set_optional(record.message, "entities", entities)
            record.reply_markup = markup
            _set_optional(
                record.message, "reply_markup", markup if markup and "inline_keyboard" in markup else None
            )
            record.message["edit_date"] = int(time.time())
            return record.message

    def _api_deleteMessage(self, params: JSON) -> bool:
        key = (self._require_chat(params.get("chat_id"))["id"], _int(params.get("message_id")))
        with self._lock:
            if self._messages.pop(key, None) is None:
                raise bad_request("message to delete not found")
            if key in self._sent_index:
                self._sent_index[key].deleted = True
        return True

    def _api_answerCallbackQuery(self, params: JSON) -> bool:
        text = params.get("text")
        if text and rules.utf16_len(str(text)) > rules.MAX_CALLBACK_ANSWER_UTF16:
            raise bad_request("MESSAGE_TOO_LONG")
        query_id = self._close_query(params.get("callback_query_id"), "c")
        with self._lock:
            self._callback_answers.append(
                CallbackAnswer(
                    query_id,
                    text,
                    bool(params.get("show_alert")),
                    params.get("url"),
                    params,
                    seq=next(self._seq),
                    at=time.monotonic(),
                )
            )
        return True

    def _api_answerInlineQuery(self, params: JSON) -> bool:
        rules.validate_inline_results(params.get("results"), params.get("next_offset"), self.strict_ampersand)
        query_id = self._close_query(params.get("inline_query_id"), "i")
        with self._lock:
            self._inline_answers.append(
                InlineAnswer(
                    query_id,
                    list(params.get("results") or []),
                    params.get("next_offset"),
                    params.get("cache_time"),
                    bool(params.get("is_personal")),
                    params,
                    seq=next(self._seq),
                    at=time.monotonic(),
                )
            )
        return True

    def _close_query(self, raw_id: Any, kind: str) -> str:
        """Mark a pushed query answered; unknown or already answered ids are "too old"."""
        query_id = str(raw_id or "")
        with self._lock:
            if not self._open_queries.get(f"{kind}:{query_id}"):
                raise ApiError(400, rules.QUERY_TOO_OLD)
            self._open_queries[f"{kind}:{query_id}"] = False
        return query_id

    def _api_sendChatAction(self, params: JSON) -> bool:
        self._require_chat(params.get("chat_id"))
        if params.get("action") not in rules.CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    def _require_chat(self, raw: Any) -> JSON:
        """Resolve chat_id (int or "@username") like Telegram, honouring blocked chats."""
        if raw is None or raw == "":
            raise bad_request("chat_id is empty")
        with self._lock:
            if isinstance(raw, str) and raw.startswith("@"):
                chat = next((c for c in self._chats.values() if c.get("username") == raw[1:]), None)
            else:
                chat = self._chats.get(_int(raw))
            if chat is None:
                raise bad_request("chat not found")
            if chat["id"] in self._blocked:
                raise ApiError(403, self._blocked[chat["id"]])
            return chat

    # ------------------------------------------------------------------ users and chats

    def user(
        self,
        user_id: int,
        first_name: str | None = None,
        *,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str | None = "en",
        **extra: Any,
    ) -> JSON:
        """Register (or update) a user and their private chat with the bot; return the User."""
        user: JSON = {"id": user_id, "is_bot": False, "first_name": first_name or f"User{user_id}"}
        optional = {"last_name": last_name, "username": username, "language_code": language_code}
        user.update({k: v for k, v in {**optional, **extra}.items() if v is not None})
        names = {k: v for k, v in user.items() if k in ("first_name", "last_name", "username")}
        with self._lock:
            self._users[user_id] = user
            self._chats[user_id] = {"id": user_id, "type": "private", **names}
        return dict(user)

    def group(
        self,
        chat_id: int,
        title: str = "Test group",
        *,
        type: str = "supergroup",
        username: str | None = None,
    ) -> JSON:
        """Register a "group"/"supergroup" (or "channel") chat; ids are negative."""
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

    def forum(self, chat_id: int, title: str = "Test forum") -> JSON:
        """Register a forum supergroup (topics enabled); add topics with ``create_topic``."""
        chat = self.group(chat_id, title)
        chat["is_forum"] = True
        with self._lock:
            self._chats[chat_id] = dict(chat)
            self._topics.setdefault(chat_id, {})
        return chat

    def create_topic(self, chat_id: int, name: str = "Topic") -> int:
        """Open a topic in a forum; its thread id is the id of its forum_topic_created service message."""
        with self._lock:
            chat = self._chats[chat_id]
            if not chat.get("is_forum"):
                raise ValueError("topics exist only in forum supergroups")
            created = {"name": name, "icon_color": 7322096}
            opener = {"id": 1, "is_bot": False, "first_name": "Forum admin"}
            service = self._new_message(chat, opener, None, forum_topic_created=created)
            thread = service["message_id"]
            service.update(message_thread_id=thread, is_topic_message=True)
            self._topics[chat_id][thread] = name
            return thread

    def block_chat(self, chat_id: int, description: str = "Forbidden: bot was blocked by the user") -> None:
        """Make every call addressed to ``chat_id`` fail with 403 ``description``."""
        with self._lock:
            self._blocked[chat_id] = description

    def unblock_chat(self, chat_id: int) -> None:
        with self._lock:
            self._blocked.pop(chat_id, None)

    def _as_user(self, user: int | JSON) -> JSON:
        if isinstance(user, dict):
            if user.get("is_bot"):  # GroupAnonymousBot, Channel_Bot, other bots: not registered
                return dict(user)
            return self.user(user["id"], **{k: v for k, v in user.items() if k not in ("id", "is_bot")})
        with self._lock:
            return dict(self._users[user]) if user in self._users else self.user(user)

    def _as_chat(self, chat: int | JSON) -> JSON:
        with self._lock:
            if isinstance(chat, dict):
                self._chats[chat["id"]] = dict(chat)
                return dict(chat)
            if chat not in self._chats and chat > 0:
                self.user(chat)
            elif chat not in self._chats:
                self.group(chat)
            return dict(self._chats[chat])

    # ------------------------------------------------------------------ injecting updates

    def push_update(self, update: JSON) -> JSON:
        """Queue a raw update (update_id assigned when missing) and wake long polls; return it."""
        with self._cond:
            if "update_id" not in update:
                update = {"update_id": self._next_update_id, **update}
            self._next_update_id = max(self._next_update_id, update["update_id"]) + 1
            self._updates.append(update)
            self._cond.notify_all()
        return update

    def _new_message(
        self, chat: JSON, sender: JSON | None, reply_to: JSON | None = None, **fields: Any
    ) -> JSON:
        """Create and store a Message with the chat's next message_id."""
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

    def message(
        self,
        chat: int | JSON,
        user: int | JSON | None,
        text: str | None = None,
        *,
        reply_to: MessageRef | None = None,
        entities: list[JSON] | None = None,
        update_type: str = "message",
        topic: int | None = None,
        **extra: Any,
    ) -> JSON:
        """Deliver a message from ``user`` (None: no ``from``) in ``chat``; return the Message.

        ``topic``: a thread id from ``create_topic``: the message is in that forum topic.

        Commands and @mentions get bot_command/mention entities unless ``entities`` is given;
        ``reply_to`` is a Message dict, a SentMessage or a message_id in ``chat``; ``extra`` keys
        are merged into the Message (``sticker=...``, ``caption=...``, ``forward_origin=...``).
        """
        chat_obj = self._as_chat(chat)
        sender = self._as_user(user) if user is not None else None
        if text is not None:
            extra["text"] = text
            extra["entities"] = (rules.auto_entities(text) if entities is None else entities) or None
        if isinstance(reply_to, SentMessage):
            reply_to = reply_to.message
        elif isinstance(reply_to, int):
            with self._lock:
                reply_to = self._messages[(chat_obj["id"], reply_to)]
        if topic is not None:
            with self._lock:
                if topic not in self._topics.get(chat_obj["id"], {}):
                    raise ValueError(f"no topic {topic} in chat {chat_obj['id']}")
            extra.update(message_thread_id=topic, is_topic_message=True)
        message = self._new_message(chat_obj, sender, reply_to, **extra)
        self.push_update({update_type: message})
        return message

    def private_message(self, user: int | JSON, text: str, **kw: Any) -> JSON:
        """A message from ``user`` in their private chat with the bot (chat id = user id)."""
        sender = self._as_user(user)
        return self.message(sender["id"], sender, text, **kw)

    def group_message(
        self,
        chat: int | JSON,
        user: int | JSON | None,
        text: str,
        reply_to: MessageRef | None = None,
        entities: list[JSON] | None = None,
        via_bot: bool = False,
        sender_chat: bool | int | JSON | None = None,
        **kw: Any,
    ) -> JSON:
        """A group message. ``sender_chat=True``: an anonymous admin's message (from =
        GroupAnonymousBot unless ``user`` is given); another chat: sent on behalf of that chat
        (from = Channel_Bot); ``via_bot=True``: sent via this bot's inline mode."""
        chat_obj = self._as_chat(chat)
        if sender_chat is not None and sender_chat is not False:
            kw["sender_chat"] = chat_obj if sender_chat is True else self._as_chat(sender_chat)
            if user is None:
                user = ANONYMOUS_ADMIN if kw["sender_chat"]["id"] == chat_obj["id"] else CHANNEL_BOT
        if via_bot:
            kw["via_bot"] = self.bot_user
        return self.message(chat_obj, user, text, reply_to=reply_to, entities=entities, **kw)

    def channel_post(self, chat: int | JSON, text: str, **kw: Any) -> JSON:
        """A channel post: no ``from``, sender_chat = the channel."""
        chat_obj = self._as_chat(chat)
        return self.message(chat_obj, None, text, update_type="channel_post", sender_chat=chat_obj, **kw)

    def forwarded_message(
        self, chat: int | JSON, user: int | JSON, text: str, origin: int | JSON | str, **kw: Any
    ) -> JSON:
        """A forwarded message; ``origin`` is a user (id or User), a chat dict or a hidden name."""
        date = int(time.time()) - 3600
        if isinstance(origin, str):
            forward: JSON = {"type": "hidden_user", "sender_user_name": origin, "date": date}
        elif isinstance(origin, dict) and origin.get("type") == "channel":
            forward = {"type": "channel", "chat": origin, "message_id": 1, "date": date}
        elif isinstance(origin, dict) and "type" in origin:
            forward = {"type": "chat", "sender_chat": origin, "date": date}
        else:
            forward = {"type": "user", "sender_user": self._as_user(origin), "date": date}
        return self.message(chat, user, text, forward_origin=forward, **kw)

    def sticker_message(self, chat: int | JSON, user: int | JSON, emoji: str = "👍", **kw: Any) -> JSON:
        """A sticker message (no text)."""
        sticker = self._file("sticker", type="regular", width=512, height=512, emoji=emoji)
        sticker.update(is_animated=False, is_video=False)
        return self.message(chat, user, sticker=sticker, **kw)

    def photo_message(
        self, chat: int | JSON, user: int | JSON, caption: str | None = None, **kw: Any
    ) -> JSON:
        """A photo message with an optional caption (commands/mentions in it get entities)."""
        if caption is not None:
            kw.update(caption=caption, caption_entities=rules.auto_entities(caption) or None)
        return self.message(chat, user, photo=[self._file("photo", width=90, height=90)], **kw)

    def _file(self, kind: str, **fields: Any) -> JSON:
        """A file object (PhotoSize, Sticker, Document, ...) with fresh ids."""
        return {"file_id": f"{kind}-{next(self._ids)}", "file_unique_id": f"u{next(self._ids)}", **fields}

    def edited_message(self, message: JSON, text: str, entities: list[JSON] | None = None, **kw: Any) -> JSON:
        """Deliver an edit of a user message or channel post with the new ``text``."""
        with self._lock:
            edited = {**copy.deepcopy(message), "text": text, "edit_date": int(time.time()), **kw}
            _set_optional(edited, "entities", rules.auto_entities(text) if entities is None else entities)
            self._messages[(edited["chat"]["id"], edited["message_id"])] = edited
        kind = "edited_channel_post" if edited["chat"]["type"] == "channel" else "edited_message"
        self.push_update({kind: edited})
        return edited

    def callback_query(self, user: int | JSON, message: JSON | SentMessage, data: str, **kw: Any) -> JSON:
        """A press of a callback button on the bot's ``message``; return the update."""
        message = message.message if isinstance(message, SentMessage) else message
        query_id = str(10**15 + next(self._ids))
        with self._lock:
            self._open_queries[f"c:{query_id}"] = True
            query = {
                "id": query_id,
                "from": self._as_user(user),
                "message": copy.deepcopy(message),
                "chat_instance": str(abs(message["chat"]["id"]) * 7919),
                "data": data,
                **kw,
            }
        return self.push_update({"callback_query": query})

    def inline_query(self, user: int | JSON, query: str, offset: str = "", **kw: Any) -> JSON:
        """An inline query ("@bot query"); return the update."""
        query_id = str(2 * 10**15 + next(self._ids))
        with self._lock:
            self._open_queries[f"i:{query_id}"] = True
            inline = {"id": query_id, "from": self._as_user(user), "query": query, "offset": offset, **kw}
        return self.push_update({"inline_query": inline})

    def chosen_inline_result(self, user: int | JSON, result_id: str, query: str, **kw: Any) -> JSON:
        """A reader posted one of the bot's inline results (sent only with inline feedback on)."""
        with self._lock:
            chosen = {"result_id": result_id, "from": self._as_user(user), "query": query, **kw}
        return self.push_update({"chosen_inline_result": chosen})

    # ------------------------------------------------------------------ observation

    @property
    def calls(self) -> list[tuple[str, JSON]]:
        """Every authorized request in order as (method, params), failed ones included."""
        with self._lock:
            return list(self._calls)

    def sends_before_delivery(self) -> dict[int, int]:
        """For each update the bot has fetched: how many sendMessage calls came before its first
        delivery in a getUpdates answer (the bot cannot act on an update before it has it)."""
        with self._lock:
            return dict(self._delivered_after)

    def calls_of(self, method: str) -> list[JSON]:
        """Params of every call of ``method`` (case-insensitive)."""
        return [params for name, params in self.calls if name.lower() == method.lower()]

    def sent_messages(self, chat_id: int | None = None) -> list[SentMessage]:
        """Messages the bot sent, oldest first (deleted ones included: see ``deleted``)."""
        with self._lock:
            return [m for m in self._sent if chat_id is None or m.chat_id == chat_id]

    @property
    def limited_calls(self) -> list[tuple[str, JSON]]:
        """Calls answered 429 by ``limit_chat`` (method, params), in order."""
        with self._lock:
            return list(self._limited_calls)

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
        """400s produced by validation: ``assert fake.rejections == []`` in happy-path tests."""
        with self._lock:
            return list(self._rejections)

    @property
    def commands(self) -> dict[str, list[JSON]]:
        """Commands by scope key: "default", "all_private_chats", "chat:ID", "default/ru", ..."""
        with self._lock:
            return copy.deepcopy(self._commands)

    @property
    def descriptions(self) -> dict[tuple[str, str], str]:
        """setMyDescription / setMyShortDescription texts by (kind, language_code; "" for the default)."""
        with self._lock:
            return dict(self._descriptions)

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates the bot has not confirmed yet (by a later getUpdates offset)."""
        with self._lock:
            return list(self._updates)

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Poll ``predicate()`` until it returns something truthy, and return that."""
        deadline = time.monotonic() + timeout
        while not (value := predicate()):
            if time.monotonic() >= deadline:
                recent = [name for name, _ in self.calls if name != "getUpdates"][-15:]
                raise TimeoutError(f"condition not met within {timeout}s; recent calls: {recent}")
            await asyncio.sleep(0.01)
        return value

    async def wait_for_messages(
        self, n: int, chat_id: int | None = None, timeout: float = 5.0
    ) -> list[SentMessage]:
        """Wait until the bot has sent at least ``n`` messages (to ``chat_id``); return them all."""

        def enough() -> list[SentMessage] | None:
            messages = self.sent_messages(chat_id)
            return messages if len(messages) >= n else None

        return await self.wait_for(enough, timeout)

    async def wait_for_call(self, method: str, timeout: float = 5.0, count: int = 1) -> JSON:
        """Wait for the ``count``-th call of ``method``; return its params."""

        def enough() -> list[JSON] | None:
            calls = self.calls_of(method)
            return calls if len(calls) >= count else None

        return (await self.wait_for(enough, timeout))[count - 1]

    async def wait_for_updates_consumed(self, timeout: float = 5.0) -> None:
        """Wait until the bot has fetched and confirmed every pushed update."""
        await self.wait_for(lambda: not self.pending_updates, timeout)

    # ------------------------------------------------------------------ failure injection

    def fail_next(
        self,
        method: str,
        status: int,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` ("*" = any method) with an error; with
        ``chat_id``, only calls addressed to that chat."""
        if status == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            description = (
                f"Too Many Requests: retry after {retry_after}"
                if status == 429
                else rules.DEFAULT_DESCRIPTIONS.get(status, "Internal Server Error")
            )
        with self._lock:
            faults = self._faults.setdefault(method.lower(), deque())
            faults.extend(_Fault("fail", status, description, retry_after, chat_id) for _ in range(times))

    def fail_first_calls(
        self,
        status: int = 500,
        *,
        methods: Iterable[str] | None = None,
        exclude: Iterable[str] = (),
        per_parameters: bool = False,
        description: str | None = None,
    ) -> None:
        """Answer the first call of each method with ``status`` (once; later calls succeed).

        ``methods`` limits it to those methods, ``exclude`` leaves some out; with
        ``per_parameters`` every distinct (method, parameters) call fails once, so the three
        setMyCommands of different scopes each get their error. ``first_call_failures`` lists
        the calls that failed this way."""
        rule = _FirstCallFault(
            status,
            description or rules.DEFAULT_DESCRIPTIONS.get(status, "Internal Server Error"),
            None if methods is None else frozenset(m.lower() for m in methods),
            frozenset(m.lower() for m in exclude),
            per_parameters,
        )
        with self._lock:
            self._first_call_faults.append(rule)

    def _first_call_fault(self, method: str, params: JSON) -> _Fault | None:
        """Called with the lock held."""
        for rule in self._first_call_faults:
            if rule.applies(method, params):
                self._first_call_failures.append(method)
                return _Fault("fail", rule.status, rule.description)
        return None

    @property
    def first_call_failures(self) -> list[str]:
        with self._lock:
            return list(self._first_call_failures)

    def drop_next(self, method: str, times: int = 1, chat_id: int | None = None) -> None:
        """Close the connection without answering the next call(s) (to ``chat_id``); not executed."""
        with self._lock:
            faults = self._faults.setdefault(method.lower(), deque())
            faults.extend(_Fault("drop", chat_id=chat_id) for _ in range(times))

    def limit_chat(self, chat_id: int, seconds: float) -> None:
        """Telegram's flood control for one chat: for ``seconds`` from now every message or edit
        to ``chat_id`` is answered 429 with retry_after = the whole seconds left (at least 1)."""
        with self._lock:
            self._chat_limits[chat_id] = time.monotonic() + seconds

    def delay_next(self, method: str, seconds: float, times: int = 1) -> None:
        """Sleep before handling the next call(s); they are still executed afterwards."""
        with self._lock:
            self._delays.setdefault(method.lower(), deque()).extend([seconds] * times)

    def conflict_next_get_updates(self, times: int = 1) -> None:
        """Answer the next getUpdates with 409 Conflict, as when a second instance polls."""
        self.fail_next("getUpdates", 409, CONFLICT_GET_UPDATES, times=times)

    def clear_faults(self) -> None:
        """Forget pending injected failures and delays."""
        with self._lock:
            self._faults.clear()
            self._delays.clear()
            self._first_call_faults.clear()
            self._chat_limits.clear()


def _pop(queues: dict[str, deque[Any]], method: str) -> Any:
    for key in (method.lower(), "*"):
        if queues.get(key):
            return queues[key].popleft()
    return None


def _pop_fault(faults: dict[str, deque[_Fault]], method: str, chat_id: int) -> _Fault | None:
    """The first pending fault for ``method`` (or "*") that applies to a call to ``chat_id``."""
    for key in (method.lower(), "*"):
        queue = faults.get(key)
        for fault in queue or ():
            if fault.chat_id is None or fault.chat_id == chat_id:
                queue.remove(fault)  # type: ignore[union-attr]
                return fault
    return None


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return default


def _set_optional(target: JSON, key: str, value: Any) -> None:
    if value:
        target[key] = value
    else:
        target.pop(key, None)

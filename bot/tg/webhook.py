"""The webhook server: Telegram POSTs updates here; anyone else is turned away before costing much.

python-telegram-bot's own server reads a whole body (up to 100 MB, with no time limit) before it
looks at the secret header, compares the secret in non-constant time, and accepts connections
until the process runs out of file descriptors. It has no settings for any of that, so this module
gives python-telegram-bot's Updater a tornado server of its own (tornado is what PTB uses too):

- the secret header is checked (hmac.compare_digest) as soon as the headers are in, before a
  byte of the body is read; a refused request gets its answer and the connection is closed;
- Content-Length is checked against a small limit first, then the body is counted while it
  streams in (chunked bodies have no Content-Length);
- one timeout bounds waiting for headers (also between requests on a kept-alive connection),
  another reading the body;
- at most ``connection_limit`` connections stay open (well below the open-files limit); when a
  new one arrives at the limit, the connection that has been idle longest is closed for it, so
  idle sockets cannot lock Telegram out;
- an accept that fails (too many open files) pauses accepting for a second instead of spinning,
  and every repeated event is logged once per interval.

Everything else (setWebhook with the secret and allowed updates, bootstrap retries, stopping) is
python-telegram-bot's own Updater: ``WebhookUpdater`` replaces only the part that builds the
server (``Updater._start_webhook``; python-telegram-bot is pinned below 23).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hmac
import json
import logging
import re
import socket
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any, cast

import tornado.web
from telegram import Bot, Update
from telegram.ext import Application, ExtBot, Updater
from tornado import httputil
from tornado.http1connection import HTTP1ServerConnection
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop
from tornado.iostream import IOStream

from bot.config import Settings
from bot.tg.log_once import OncePerInterval, limit_repeats
from bot.tg.resources import open_files_limit

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DEFAULT_MAX_BODY_BYTES = 1024 * 1024  # Telegram's updates are a few kilobytes
DEFAULT_TIMEOUT = 10.0  # seconds for the headers (and between kept-alive requests), and for a body
DEFAULT_CONNECTION_LIMIT = 1000
MAX_HEADER_BYTES = 16 * 1024
ACCEPT_RETRY_DELAY = 1.0  # seconds without accepting after "too many open files"
OUT_OF_RESOURCES = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}
NOISY_LIBRARY_LOGGERS = ["tornado.general", "tornado.application", "tornado.access", "asyncio"]

# What the server answers (HTTP reason phrases) and logs; operators and Telegram read these.
REFUSED_SECRET = "Missing or wrong secret token"
REFUSED_TOO_LARGE = "Body larger than the webhook's limit"
REFUSED_LENGTH = "Content-Length required"
REFUSED_BAD_LENGTH = "Content-Length is not a number"
REFUSED_TYPE = "Content-Type must be application/json"
REFUSED_NOT_AN_UPDATE = "Body is not a Telegram update"
REFUSED_PATH = "Not the webhook path"
LOG_LIMITS = "Webhook server on %s:%d (path %s): at most %d connections, bodies up to %d bytes, %g s timeouts"
LOG_REFUSED_SECRET = "Webhook: refused a request without the right secret token"
LOG_REFUSED_TOO_LARGE = "Webhook: refused a body over %d bytes"
LOG_NOT_AN_UPDATE = "Webhook: a request with the right secret carried no valid update (answered 400)"
LOG_EVICTED = "Webhook: %d connections open (the limit); closed the longest-idle one to accept a new one"
LOG_REFUSED_CONNECTION = "Webhook: %d connections open (the limit), none idle; refused a new connection"
LOG_ACCEPT_FAILED = "Webhook: cannot accept connections (%s); pausing accepts for %.0f s"


@dataclass(frozen=True)
class WebhookLimits:
    """What one client may cost the webhook server."""

    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    timeout: float = DEFAULT_TIMEOUT
    connection_limit: int = DEFAULT_CONNECTION_LIMIT


def limits_from(settings: Settings) -> WebhookLimits:
    """The configured limits; connections capped at half the open-files limit, leaving the other
    half for connections to Telegram, the database and files."""
    cap = max(1, open_files_limit() // 2)
    return WebhookLimits(
        max_body_bytes=settings.webhook_max_body_bytes,
        timeout=settings.webhook_timeout,
        connection_limit=min(settings.webhook_connection_limit, cap),
    )


def install_webhook_updater(
    application: Application[Any, Any, Any, Any, Any, Any], limits: WebhookLimits
) -> None:
    """Make ``application.run_webhook`` serve through this module's server instead of PTB's."""
    application.updater = WebhookUpdater(application.bot, application.update_queue, limits)


class WebhookUpdater(Updater):
    """python-telegram-bot's Updater, with the webhook server of this module."""

    __slots__ = ("limits",)

    def __init__(self, bot: Bot, update_queue: asyncio.Queue[object], limits: WebhookLimits) -> None:
        super().__init__(bot, update_queue)
        self.limits = limits

    async def _start_webhook(
        self,
        listen: str,
        port: int,
        url_path: str,
        bootstrap_retries: int,
        allowed_updates: Sequence[str] | None,
        cert: str | Path | None = None,
        key: str | Path | None = None,
        drop_pending_updates: bool | None = None,
        webhook_url: str | None = None,
        ready: asyncio.Event | None = None,
        ip_address: str | None = None,
        max_connections: int = 40,
        secret_token: str | None = None,
        unix: str | Path | socket.socket | None = None,
    ) -> None:
        if cert is not None or key is not None or unix is not None:
            raise ValueError("this webhook server serves plain HTTP on a TCP port; TLS belongs to the proxy")
        if not secret_token:
            raise ValueError("the webhook server needs the secret token")
        path = "/" + url_path.strip("/")
        server = GuardedWebhookServer(
            listen, port, path, self.bot, self.update_queue, secret_token, self.limits
        )
        self._httpd = cast(Any, server)  # PTB's Updater.stop() awaits self._httpd.shutdown()
        await self._bootstrap(
            max_retries=bootstrap_retries,
            drop_pending_updates=drop_pending_updates,
            webhook_url=webhook_url or self._gen_webhook_url("http", listen, port, path),
            allowed_updates=allowed_updates,
            ip_address=ip_address,
            max_connections=max_connections,
            secret_token=secret_token,
        )
        await server.serve_forever(ready)


class GuardedWebhookServer:
    """The tornado application and server, with the interface PTB's Updater expects of ``_httpd``."""

    def __init__(
        self,
        listen: str,
        port: int,
        path: str,
        bot: Bot,
        update_queue: asyncio.Queue[object],
        secret: str,
        limits: WebhookLimits,
    ) -> None:
        self.listen, self.port, self.path, self.limits = listen, port, path, limits
        self.events = OncePerInterval()
        shared = {
            "bot": bot,
            "update_queue": update_queue,
            "secret": secret.encode(),
            "max_body_bytes": limits.max_body_bytes,
            "events": self.events,
        }
        app = _QuietApplication(
            [
                (rf"{re.escape(path.rstrip('/'))}/?", UpdateHandler, shared),
                (r".*", WrongPathHandler, {"events": self.events}),
            ]
        )
        self._http = LimitedHTTPServer(
            app,
            connection_limit=limits.connection_limit,
            events=self.events,
            idle_connection_timeout=limits.timeout,
            body_timeout=limits.timeout,
            max_body_size=2 * limits.max_body_bytes,  # tornado's own cut (400); the handler answers 413 first
            max_header_size=MAX_HEADER_BYTES,
            max_buffer_size=2 * limits.max_body_bytes + MAX_HEADER_BYTES,
        )
        self.is_running = False

    async def serve_forever(self, ready: asyncio.Event | None = None) -> None:
        limit_repeats(NOISY_LIBRARY_LOGGERS)
        self._http.listen(self.port, address=self.listen)
        self.is_running = True
        log.info(
            LOG_LIMITS,
            self.listen,
            self.port,
            self.path,
            self.limits.connection_limit,
            self.limits.max_body_bytes,
            self.limits.timeout,
        )
        if ready is not None:
            ready.set()

    async def shutdown(self) -> None:
        if not self.is_running:
            return
        self.is_running = False
        self._http.stop()
        await self._http.close_all_connections()


class _QuietApplication(tornado.web.Application):
    """No access log line per request: an attacker's requests would each write one."""

    def log_request(self, handler: tornado.web.RequestHandler) -> None:
        pass


class _RefusingHandler(tornado.web.RequestHandler):
    """Common ground: answer an error and close the connection instead of reading on."""

    events: OncePerInterval

    def refuse(self, status: HTTPStatus, reason: str) -> None:
        self.set_status(status, reason)
        self.set_header("Connection", "close")  # whatever of the body is still coming is not read
        self.finish()

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """tornado's own refusals (405, and errors before the body is in) close the connection too;
        saying so keeps a client from sending its next request on a connection about to close."""
        self.set_header("Connection", "close")
        super().write_error(status_code, **kwargs)

    def log_exception(self, *args: Any) -> None:
        log.debug("Webhook handler error", exc_info=args if args and args[0] else None)


@tornado.web.stream_request_body
class UpdateHandler(_RefusingHandler):
    """POST {path}: one update from Telegram, checked before and while its body is read."""

    SUPPORTED_METHODS = ("POST",)

    def initialize(
        self,
        bot: Bot,
        update_queue: asyncio.Queue[object],
        secret: bytes,
        max_body_bytes: int,
        events: OncePerInterval,
    ) -> None:
        self.bot, self.update_queue, self.secret = bot, update_queue, secret
        self.max_body_bytes, self.events = max_body_bytes, events
        self.body = bytearray()

    def prepare(self) -> None:
        """Runs once the headers are in and before the body is read: every check that needs no body."""
        headers = self.request.headers
        given = headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(given, self.secret):
            self.events.log(log, logging.WARNING, "secret", LOG_REFUSED_SECRET)
            return self.refuse(HTTPStatus.FORBIDDEN, REFUSED_SECRET)
        length = headers.get("Content-Length")
        chunked = "chunked" in headers.get("Transfer-Encoding", "").lower()
        if length is None and not chunked:
            return self.refuse(HTTPStatus.LENGTH_REQUIRED, REFUSED_LENGTH)
        if length is not None and not length.strip().isdecimal():
            return self.refuse(HTTPStatus.BAD_REQUEST, REFUSED_BAD_LENGTH)
        if length is not None and int(length) > self.max_body_bytes:
            return self._too_large()
        if headers.get("Content-Type", "").split(";")[0].strip().lower() != "application/json":
            return self.refuse(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, REFUSED_TYPE)
        return None

    def data_received(self, chunk: bytes) -> None:
        if self._finished:
            return
        if len(self.body) + len(chunk) > self.max_body_bytes:
            return self._too_large()
        self.body += chunk
        return None

    async def post(self) -> None:
        if self._finished:  # refused while the body streamed in
            return
        try:
            update = Update.de_json(json.loads(self.body), self.bot)
        except Exception:  # not JSON, or JSON that is not an update: Telegram never sends that
            self.events.log(log, logging.WARNING, "not-an-update", LOG_NOT_AN_UPDATE)
            return self.refuse(HTTPStatus.BAD_REQUEST, REFUSED_NOT_AN_UPDATE)
        log.debug("Webhook: update %d received", update.update_id)
        if isinstance(self.bot, ExtBot):
            self.bot.insert_callback_data(update)
        await self.update_queue.put(update)
        self.set_status(HTTPStatus.OK)
        self.finish()

    def _too_large(self) -> None:
        self.events.log(log, logging.WARNING, "too-large", LOG_REFUSED_TOO_LARGE, self.max_body_bytes)
        self.refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, REFUSED_TOO_LARGE)


@tornado.web.stream_request_body
class WrongPathHandler(_RefusingHandler):
    """Any other path: 404 straight after the headers (tornado's own 404 would read the body first)."""

    def initialize(self, events: OncePerInterval) -> None:
        self.events = events

    def prepare(self) -> None:
        self.refuse(HTTPStatus.NOT_FOUND, REFUSED_PATH)


class LimitedHTTPServer(HTTPServer):
    """tornado's HTTP server with a connection limit and an accept loop that survives EMFILE.

    Connections waiting for a request's headers are "idle" (a fresh connection is idle too, until
    its headers are in); they are kept in the order they became idle, so the longest-idle one is
    the first to go when the limit is reached."""

    def initialize(  # type: ignore[override]
        self, *args: Any, connection_limit: int, events: OncePerInterval, **kwargs: Any
    ) -> None:
        super().initialize(*args, **kwargs)
        self.connection_limit = connection_limit
        self.events = events
        self._live: set[HTTP1ServerConnection] = set()
        self._idle: OrderedDict[HTTP1ServerConnection, None] = OrderedDict()

    # connections

    def handle_stream(self, stream: IOStream, address: tuple[Any, ...]) -> None:
        if len(self._live) >= self.connection_limit and not self._close_longest_idle():
            self.events.log(
                log, logging.WARNING, "refused-connection", LOG_REFUSED_CONNECTION, len(self._live)
            )
            stream.close()
            return
        before = set(self._connections)
        super().handle_stream(stream, address)
        self._live.update(self._connections - before)

    def _close_longest_idle(self) -> bool:
        if not self._idle:
            return False
        connection, _ = self._idle.popitem(last=False)
        self._live.discard(connection)
        self.events.log(log, logging.WARNING, "evicted", LOG_EVICTED, self.connection_limit)
        connection.stream.close()  # frees its file descriptor now; tornado cleans up after it
        return True

    def start_request(
        self, server_conn: object, request_conn: httputil.HTTPConnection
    ) -> httputil.HTTPMessageDelegate:
        connection = cast(HTTP1ServerConnection, server_conn)
        if connection in self._live:
            self._idle[connection] = None  # waiting for headers from now on
            self._idle.move_to_end(connection)
        return _BusyWhenHeadersArrive(
            super().start_request(server_conn, request_conn), lambda: self._idle.pop(connection, None)
        )

    def on_close(self, server_conn: object) -> None:
        connection = cast(HTTP1ServerConnection, server_conn)
        self._live.discard(connection)
        self._idle.pop(connection, None)
        super().on_close(server_conn)

    # accepting

    def add_sockets(self, sockets: Any) -> None:
        for sock in sockets:
            self._sockets[sock.fileno()] = sock
            self._handlers[sock.fileno()] = self._accept_from(sock)

    def _accept_from(self, sock: socket.socket) -> Callable[[], None]:
        """tornado's add_accept_handler, except that running out of file descriptors does not
        raise on every loop turn: the longest-idle connection is closed to make room, and if there
        is none, accepting pauses for ACCEPT_RETRY_DELAY."""
        io_loop = IOLoop.current()
        state: dict[str, Any] = {"removed": False, "timer": None}

        def resume() -> None:
            state["timer"] = None
            if not state["removed"]:
                io_loop.add_handler(sock, on_readable, IOLoop.READ)

        def on_readable(fd: Any, events: int) -> None:
            for _ in range(128):  # bounded, like tornado: other work gets its turn
                if state["removed"]:
                    return
                try:
                    connection, address = sock.accept()
                except BlockingIOError:
                    return
                except ConnectionAbortedError:
                    continue
                except OSError as exc:
                    if exc.errno not in OUT_OF_RESOURCES:
                        raise
                    self.events.log(
                        log, logging.ERROR, "accept", LOG_ACCEPT_FAILED, exc.strerror, ACCEPT_RETRY_DELAY
                    )
                    if self._close_longest_idle():
                        continue
                    io_loop.remove_handler(sock)
                    state["timer"] = io_loop.call_later(ACCEPT_RETRY_DELAY, resume)
                    return
                self._handle_connection(connection, address)

        def remove() -> None:
            state["removed"] = True
            if state["timer"] is not None:
                io_loop.remove_timeout(state["timer"])
            else:
                with contextlib.suppress(KeyError, ValueError):
                    io_loop.remove_handler(sock)

        io_loop.add_handler(sock, on_readable, IOLoop.READ)
        return remove


class _BusyWhenHeadersArrive(httputil.HTTPMessageDelegate):
    """Passes everything to tornado's delegate; tells the server when a request's headers are in."""

    def __init__(self, delegate: httputil.HTTPMessageDelegate, on_headers: Callable[[], object]) -> None:
        self.delegate, self.on_headers = delegate, on_headers

    def headers_received(
        self,
        start_line: httputil.RequestStartLine | httputil.ResponseStartLine,
        headers: httputil.HTTPHeaders,
    ) -> Any:
        self.on_headers()
        return self.delegate.headers_received(start_line, headers)

    def data_received(self, chunk: bytes) -> Any:
        return self.delegate.data_received(chunk)

    def finish(self) -> None:
        self.delegate.finish()

    def on_connection_close(self) -> None:
        self.delegate.on_connection_close()

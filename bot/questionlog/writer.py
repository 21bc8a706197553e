"""The question log as the bot uses it: writes go to a bounded queue and one background thread.

The event loop only ever puts a job on the queue (never waits on the database). When the
database is down, locked, read-only or full, the job is dropped and counted, one warning is
logged for the whole outage, and the next job tries again: writing resumes by itself once the
database is back. The reader's reply never depends on any of it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.exc import SQLAlchemyError

from bot.questionlog.privacy import Pseudonymizer
from bot.questionlog.store import QuestionRow, Store, safe_url

log = logging.getLogger(__name__)

T = TypeVar("T")
QUEUE_SIZE = 10_000  # jobs waiting for the database; beyond this, new ones are dropped and counted
BATCH = 500  # at most this many questions in one transaction
BATCH_SECONDS = 0.1  # questions arriving within this window of the first go in one transaction
PURGE_EVERY_SECONDS = 3600.0
RETRY_SECONDS = 1.0  # during an outage, at most one attempt per this many seconds; jobs between are dropped
STOP_SECONDS = 10.0  # how long close() waits for the queue to drain

Job = Callable[[Store], Any]


class _Stop:
    """Sentinel that ends the writer thread."""


_Item = tuple[Job, "concurrent.futures.Future[Any] | None"] | _Stop


class QuestionLog:
    """Owns the Store and the writer thread; every public method is safe to call from the event loop."""

    def __init__(self, store: Store, url: str, retention_days: int, queue_size: int = QUEUE_SIZE) -> None:
        self.store = store
        self.retention_days = retention_days
        self._where = safe_url(url)
        self._queue: queue.Queue[_Item] = queue.Queue(queue_size)
        self._thread = threading.Thread(target=self._run, name="question-log", daemon=True)
        self._failing = False
        self._last_failure = 0.0
        self._last_purge = 0.0
        self._lock = threading.Lock()
        self._wake = threading.Event()  # a job other than a question ends the batching window early
        self.written = 0  # jobs done
        self.failed = 0  # jobs lost to a database fault
        self.dropped = 0  # jobs lost because the queue was full
        self.outages = 0  # times the database went from working to failing

    # -- the event loop's side ---------------------------------------------------------------

    def start(self) -> QuestionLog:
        self._thread.start()
        return self

    def add_question(self, row: QuestionRow) -> None:
        self.submit(_QuestionJob(row))

    def submit(self, job: Job) -> bool:
        """Queue a write without waiting; False (and counted) when the queue is full."""
        try:
            self._queue.put_nowait((job, None))
        except queue.Full:
            with self._lock:
                self.dropped += 1
            return False
        if not isinstance(job, _QuestionJob):
            self._wake.set()
        return True

    async def call(self, job: Callable[[Store], T]) -> T:
        """Run ``job`` after every write queued before it, and await its result (raises on a fault)."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._queue.put_nowait((job, future))
        self._wake.set()
        return await asyncio.wrap_future(future)

    def close(self, timeout: float = STOP_SECONDS) -> None:
        """Write what is queued (for at most ``timeout`` seconds) and stop the thread."""
        if self._thread.is_alive():
            with contextlib.suppress(queue.Full):
                self._queue.put(_Stop(), timeout=timeout)
            self._wake.set()
            self._thread.join(timeout)
        self.store.dispose()
        log.info(
            "Question log closed: %d writes, %d lost to database faults, %d dropped (queue full)",
            self.written,
            self.failed,
            self.dropped,
        )

    @property
    def healthy(self) -> bool:
        return not self._failing

    # -- the writer thread --------------------------------------------------------------------

    def _run(self) -> None:
        self._attempt(self._purge)
        pending: _Item | None = None
        while True:
            item = pending if pending is not None else self._queue.get()
            pending = None
            if isinstance(item, _Stop):
                return
            job, future = item
            if isinstance(job, _QuestionJob):
                job, pending = self._batch(job)
            if time.monotonic() - self._last_purge > PURGE_EVERY_SECONDS:
                self._attempt(self._purge)
            self._attempt(job, future)

    def _batch(self, first: _QuestionJob) -> tuple[_QuestionJob, _Item | None]:
        """Questions arriving close together go in one transaction: far fewer commits under load.

        Returns the batch and the first item that is not a question (handled next, so the order of
        all jobs is kept). The thread sleeps through the window and then takes what came, rather than
        waking for each question as it is queued: under load that was one wake-up (and one turn of
        the interpreter lock away from the event loop) per question. Any other job wakes it at once.
        """
        rows = list(first.rows)
        deadline = time.monotonic() + BATCH_SECONDS
        while len(rows) < BATCH:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._wake.wait(remaining)
                self._wake.clear()  # then the queue is looked at again: nothing set before is missed
                continue
            if isinstance(item, tuple) and isinstance(item[0], _QuestionJob):
                rows.extend(item[0].rows)
            else:
                return _QuestionJob(*rows), item
        return _QuestionJob(*rows), None

    def _purge(self, store: Store) -> None:
        self._last_purge = time.monotonic()
        removed = store.purge(self.retention_days)
        if removed:
            log.info("Question log: purged %d rows older than %d days", removed, self.retention_days)

    def _attempt(self, job: Job, future: concurrent.futures.Future[Any] | None = None) -> None:
        size = len(job.rows) if isinstance(job, _QuestionJob) else 1
        if self._failing and time.monotonic() - self._last_failure < RETRY_SECONDS and future is None:
            with self._lock:
                self.failed += size
            return
        try:
            result = job(self.store)
        except (SQLAlchemyError, OSError, RuntimeError) as exc:
            self._last_failure = time.monotonic()
            with self._lock:
                self.failed += size
            if not self._failing:
                self._failing = True
                self.outages += 1
                log.warning(
                    "Question log unavailable (%s): %s. Replies go on; questions are not logged until it is back.",
                    self._where,
                    _reason(exc),
                )
            if future is not None:
                future.set_exception(exc)
            return
        with self._lock:
            self.written += size
        if self._failing:
            self._failing = False
            log.info("Question log is writing again (%d writes lost meanwhile)", self.failed)
        if future is not None:
            future.set_result(result)


class _QuestionJob:
    """Write one or more questions."""

    def __init__(self, *rows: QuestionRow) -> None:
        self.rows = rows

    def __call__(self, store: Store) -> None:
        store.add_questions(self.rows)


def _reason(exc: BaseException) -> str:
    """The driver's one-line reason, without SQL or parameters (which could hold a question)."""
    original = getattr(exc, "orig", None)
    text = str(original if original is not None else exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def open_question_log(
    url: str | None, key: str | None, retention_days: int, env_file: Path
) -> tuple[QuestionLog, Pseudonymizer]:
    """The running question log and the reader hashes; a missing key is generated into `env_file`.

    Never raises for a database fault: a database that is down at start is a fault like any other.
    """
    from bot.questionlog.privacy import ensure_key

    store = Store(url)
    return QuestionLog(store, url or "", retention_days).start(), Pseudonymizer(ensure_key(env_file, key))

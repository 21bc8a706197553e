"""SIGHUP from the first moment: remembered until the bot can reload, never fatal.

The default action of SIGHUP ends the process, and the bot's own handler (a reload) can only be
installed once its event loop runs, after imports, the knowledge load and the first calls to
Telegram. `python -m bot` installs this handler before anything else, so a SIGHUP in that window
is remembered and answered with one reload as soon as the bot serves. Standard library only: it
is imported before anything slow.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

_pending = threading.Event()


def _remember(signum: int, frame: FrameType | None) -> None:
    _pending.set()


def install_early() -> None:
    """Remember SIGHUP instead of dying of it (where the platform has SIGHUP)."""
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, _remember)


def restore_default() -> None:
    """Commands that are not the bot (a console chat) end on SIGHUP, as a terminal program should."""
    if hasattr(signal, "SIGHUP") and signal.getsignal(signal.SIGHUP) is _remember:
        signal.signal(signal.SIGHUP, signal.SIG_DFL)


def take_pending() -> bool:
    """Whether a SIGHUP arrived before the bot's own handler took over (and forget it)."""
    arrived = _pending.is_set()
    _pending.clear()
    return arrived

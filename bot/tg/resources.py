"""Operating-system limits the bot raises for itself at start.

Many systems start a process with a soft limit of 1,024 open files although the hard limit is
far higher; each webhook connection, each connection to Telegram and each file needs one.
"""

from __future__ import annotations

import logging
import resource

log = logging.getLogger(__name__)

FALLBACK_OPEN_FILES = 1024 * 1024  # when the hard limit is "unlimited", which Linux refuses as a soft limit
LOG_RAISED = "Open-files limit raised from %d to %d"
LOG_NOT_RAISED = "Open-files limit stays at %d (could not raise it to %d: %s)"


def raise_open_files_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit; return the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = FALLBACK_OPEN_FILES if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft >= target:
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError) as exc:
        log.warning(LOG_NOT_RAISED, soft, target, exc)
        return soft
    log.info(LOG_RAISED, soft, target)
    return target


def open_files_limit() -> int:
    """The soft RLIMIT_NOFILE (what the process can actually open)."""
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return FALLBACK_OPEN_FILES if soft == resource.RLIM_INFINITY else soft

"""Flood control: a fake clock shows the window, the single notice and per-sender isolation."""

from __future__ import annotations

from bot.tg.flood import SWEEP_EVERY, FloodGuard, Verdict


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_over_the_limit_warns_once_then_drops_until_the_window_frees() -> None:
    clock = Clock()
    guard = FloodGuard(3, window=60, clock=clock)
    assert [guard.check(1) for _ in range(3)] == [Verdict.ALLOW] * 3
    assert guard.check(1) is Verdict.WARN
    assert guard.check(1) is Verdict.DROP
    assert guard.check(2) is Verdict.ALLOW  # someone else is not affected
    clock.now = 60.0
    assert guard.check(1) is Verdict.ALLOW
    assert [guard.check(1) for _ in range(3)] == [Verdict.ALLOW, Verdict.ALLOW, Verdict.WARN]


def test_quiet_senders_are_forgotten() -> None:
    clock = Clock()
    guard = FloodGuard(5, window=60, clock=clock)
    for sender in range(SWEEP_EVERY - 1):
        guard.check(sender)
    clock.now = 61.0
    guard.check(-1)  # the SWEEP_EVERY-th check sweeps everyone idle for a whole window
    assert set(guard._seen) == {-1}

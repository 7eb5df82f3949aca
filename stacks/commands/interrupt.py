"""SIGINT, SIGTERM and SIGHUP as an exception, so that ``finally`` blocks clean up.

Inside ``interruptible()`` the first of these signals raises ``Interrupted`` in the main
thread; later ones are ignored while that unwinds. ``shielded()`` defers a signal to the
end of a block (a cleanup that must not stop half-way).
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(BaseException):
    """The process got SIGINT, SIGTERM or SIGHUP (a BaseException: ``except Exception`` lets it pass)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        """The shell's convention for a process ended by a signal: 128 + its number (130, 143, 129)."""
        return 128 + self.signum


class _State:
    raised = False
    shield_depth = 0
    pending: int | None = None


def _handler(signum: int, _frame: FrameType | None) -> None:
    if _State.raised:
        return  # already unwinding: let the cleanup finish
    if _State.shield_depth:
        _State.pending = _State.pending or signum
        return
    _State.raised = True
    raise Interrupted(signum)


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """Turn the first SIGINT/SIGTERM/SIGHUP into ``Interrupted``; restore the handlers after."""
    previous = {sig: signal.getsignal(sig) for sig in SIGNALS}
    _State.raised, _State.shield_depth, _State.pending = False, 0, None
    for sig in SIGNALS:
        signal.signal(sig, _handler)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def shielded() -> Iterator[None]:
    """Run the block to its end; a signal that arrives meanwhile is raised after it."""
    _State.shield_depth += 1
    try:
        yield
    finally:
        _State.shield_depth -= 1
        if not _State.shield_depth and _State.pending is not None and not _State.raised:
            signum, _State.pending = _State.pending, None
            _State.raised = True
            raise Interrupted(signum)

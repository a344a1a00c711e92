"""Whether operations record a graph (per thread), and anomaly detection.

``no_grad()`` turns recording off inside a block for the thread that entered it, as in
PyTorch: every thread starts with recording on, and a block in one thread never affects
another. ``detect_anomaly()`` makes every op, forward and backward, check that its result is
finite and raise ``AnomalyError`` naming the op, its operands and the node where it is not.

The ops read one plain module attribute, ``fast``, on their hot path: it is True while no
thread is inside ``no_grad()`` and anomaly detection is off, and then every op records
without looking further. Otherwise an op calls ``record``, which reads this thread's state.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

__all__ = ["no_grad", "enable_grad", "is_grad_enabled", "detect_anomaly", "is_anomaly_enabled",
           "AnomalyError"]


class _State(threading.local):
    recording = True  # the default in every thread, including ones started later


_state = _State()
_lock = threading.Lock()
_off = 0  # no_grad() blocks open in any thread
_anomaly = 0  # detect_anomaly() blocks open in any thread

fast = True
"""True while no thread is inside ``no_grad()`` and anomaly detection is off: ops then
record without calling ``record``. Read by every op, so a plain module attribute."""


class AnomalyError(FloatingPointError):
    """Under ``detect_anomaly()``: an op's output or gradient is not finite."""


def is_grad_enabled() -> bool:
    """True when new operations in this thread record the graph they came from."""
    return _state.recording


def is_anomaly_enabled() -> bool:
    """True inside ``detect_anomaly()`` (in any thread)."""
    return _anomaly > 0


def _refresh() -> None:
    global fast
    fast = _off == 0 and _anomaly == 0


@contextmanager
def _recording(on: bool) -> Iterator[None]:
    global _off
    before = _state.recording
    _state.recording = on
    if not on:
        with _lock:
            _off += 1
            _refresh()
    try:
        yield
    finally:
        _state.recording = before
        if not on:
            with _lock:
                _off -= 1
                _refresh()


def no_grad() -> AbstractContextManager[None]:
    """Context manager: Values computed inside, in this thread, are leaves with no history."""
    return _recording(False)


def enable_grad() -> AbstractContextManager[None]:
    """Context manager: record graphs again in this thread, even inside ``no_grad()``."""
    return _recording(True)


@contextmanager
def _anomaly_mode() -> Iterator[None]:
    global _anomaly
    with _lock:
        _anomaly += 1
        _refresh()
    try:
        yield
    finally:
        with _lock:
            _anomaly -= 1
            _refresh()


def detect_anomaly() -> AbstractContextManager[None]:
    """Context manager: raise ``AnomalyError`` at the first op, forward or backward, whose
    result is not finite (NaN or infinity), naming the op, its operands and the node.

    Like ``torch.autograd.detect_anomaly``, it is process-wide and slows every op; outside it
    chainrule follows IEEE float arithmetic (``inf`` and ``nan`` propagate silently).
    """
    return _anomaly_mode()


def describe(v: Any) -> str:
    """A Value as an anomaly message names it: its label if it has one, and its data."""
    return f"{v.label} = {v.data!r}" if v.label else repr(v.data)


def check_forward(node: Any, rule: Any, operands: Any, p: float | None) -> None:
    """Under ``detect_anomaly()``: raise if ``node``'s data, just computed by ``rule``, is not finite."""
    if _anomaly and not math.isfinite(node.data):
        words = [describe(v) for v in operands if v is not None]
        if p is not None:
            words.append(f"p = {p!r}")
        raise AnomalyError(f"detect_anomaly: forward {rule.name}({', '.join(words)}) gave {node.data!r}; "
                           "the first op whose output is not finite")


def record(node: Any, rule: Any, a: Any, b: Any, p: float | None, da: Any, db: Any) -> None:
    """An op's slow path: the anomaly check, then ``node``'s graph fields if this thread
    records. The generated methods call it when ``fast`` is False."""
    if _anomaly:
        check_forward(node, rule, (a, b), p)
    if _state.recording:
        node._rule, node._a, node._b, node._p, node._da, node._db = rule, a, b, p, da, db
    else:
        node._rule = node._a = node._b = node._p = node._da = node._db = None

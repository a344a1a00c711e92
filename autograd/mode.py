"""Whether operations record a graph: ``no_grad()`` turns recording off inside a block."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

__all__ = ["no_grad", "enable_grad", "is_grad_enabled"]

enabled = True
"""Read by every op; a plain module attribute because it is checked on the hot path. It is
one flag for the whole process: ``no_grad()`` in one thread also affects the others."""


def is_grad_enabled() -> bool:
    """True when new operations record the graph they came from."""
    return enabled


@contextmanager
def _recording(on: bool) -> Iterator[None]:
    global enabled
    before, enabled = enabled, on
    try:
        yield
    finally:
        enabled = before


def no_grad() -> AbstractContextManager[None]:
    """Context manager: Values computed inside are leaves with no history (inference)."""
    return _recording(False)


def enable_grad() -> AbstractContextManager[None]:
    """Context manager: record graphs again, even inside ``no_grad()``."""
    return _recording(True)

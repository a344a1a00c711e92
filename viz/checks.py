"""Argument checks shared by the public viz functions.

Each check names the function and the argument in its message (``draw_graph(grads='no'):
grads must be True, False or None, got str``): a wrong type raises TypeError, a value of
the right type out of range raises ValueError. ``bool`` is never taken for an int (it is one
in Python, so ``max_nodes=True`` would otherwise mean 1), and no other value is taken for a
bool (``grads='no'`` is truthy, so it would otherwise mean True).
"""

from __future__ import annotations

import numbers
import os
from pathlib import Path

from chainrule.autograd import Value

__all__ = ["RANKDIRS", "check_root", "check_rankdir", "check_flag", "check_count", "check_text",
           "check_number", "check_path"]

RANKDIRS = ("LR", "TB", "RL", "BT")


def check_root(root: object, who: str) -> Value:
    """``root`` if it is a Value, else a TypeError naming the function and what it got."""
    if not isinstance(root, Value):
        raise TypeError(f"{who}(root): root must be an autograd.Value, got {type(root).__name__}")
    return root


def check_rankdir(rankdir: object, who: str) -> str:
    """``rankdir`` if Graphviz knows it, else a ValueError listing the choices."""
    if not isinstance(rankdir, str) or rankdir not in RANKDIRS:
        raise ValueError(f"{who}(rankdir={rankdir!r}): rankdir must be one of {', '.join(RANKDIRS)}")
    return rankdir


def check_flag(value: object, name: str, who: str, *, none: bool = False) -> bool | None:
    """``value`` if it is a bool (or None, when ``none``), else a TypeError."""
    if isinstance(value, bool) or (none and value is None):
        return value
    allowed = "True, False or None" if none else "True or False"
    raise TypeError(f"{who}({name}={value!r}): {name} must be {allowed}, got {type(value).__name__}")


def check_count(value: object, name: str, who: str, *, minimum: int = 1, none: bool = False,
                unit: str = "") -> int | None:
    """``value`` if it is an int of at least ``minimum`` (or None, when ``none``).

    A TypeError for anything that is not an int (bools included), a ValueError for an int
    below ``minimum``.
    """
    if none and value is None:
        return None
    what = f"an int of at least {minimum}{unit}" + (" or None" if none else "")
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{who}({name}={value!r}): {name} must be {what}, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{who}({name}={value!r}): {name} must be {what}")
    return int(value)


def check_text(value: object, name: str, who: str, *, none: bool = False) -> str | None:
    """``value`` if it is a str (or None, when ``none``), else a TypeError."""
    if isinstance(value, str) or (none and value is None):
        return value
    allowed = "a str or None" if none else "a str"
    raise TypeError(f"{who}({name}={value!r}): {name} must be {allowed}, got {type(value).__name__}")


def check_number(value: object, name: str, who: str) -> float:
    """``value`` as a float if it is a real number (not a bool), else a TypeError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{who}({name}={value!r}): {name} must be a real number, got {type(value).__name__}")
    return float(value)


def check_path(path: object, who: str) -> Path:
    """``path`` as a Path if it is a str or an os.PathLike, else a TypeError."""
    if isinstance(path, (str, os.PathLike)):
        return Path(path)
    raise TypeError(f"{who}(path={path!r}): path must be a str or a pathlib.Path, got {type(path).__name__}")

"""Parameters to and from plain data and JSON files (never pickle: loading runs no code).

A file holds ``{"format": "chainrule.state_dict", "version": 1, "model": "<repr>",
"parameters": {"layers.0.neurons.0.w.0": 0.417, ...}}``. Floats are written with ``repr``
precision, so a save/load round trip is exact. Loading checks everything before it changes
anything: on any error the model is left as it was.
"""

from __future__ import annotations

import json
import math
import numbers
import os
from collections.abc import Mapping
from typing import Any

__all__ = ["FORMAT", "VERSION", "state_dict", "load_state_dict", "save", "load"]

FORMAT = "chainrule.state_dict"
VERSION = 1


def state_dict(module: Any) -> dict[str, float]:
    """``{parameter name: value}`` as plain floats, in parameter order."""
    return {name: p.data for name, p in module.named_parameters()}


def _some(names: list[str]) -> str:
    return ", ".join(names[:5]) + (" ..." if len(names) > 5 else "")


def _checked(module: Any, state: Any, where: str) -> list[tuple[Any, float]]:
    """The (parameter, new value) pairs, or a ValueError/TypeError naming every problem found."""
    if not isinstance(state, Mapping):
        kind = type(state).__name__
        raise TypeError(f"{where}: expected a mapping of parameter names to numbers, got {kind}")
    params = module.named_parameters()
    names = [n for n, _ in params]
    missing = [n for n in names if n not in state]
    known = set(names)
    extra = [str(k) for k in state if k not in known]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing {len(missing)} key(s): {_some(missing)}")
        if extra:
            parts.append(f"unexpected {len(extra)} key(s): {_some(extra)}")
        raise ValueError(f"{where}: the parameters do not fit {module!r}: {'; '.join(parts)}")
    pairs = []
    for name, p in params:
        v = state[name]
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise TypeError(f"{where}: parameter {name} is {type(v).__name__} ({v!r}), not a number")
        try:
            f = float(v)
        except OverflowError:  # JSON integers are unbounded: 10**400 parses, but no float holds it
            raise ValueError(
                f"{where}: parameter {name} is an integer beyond the float range (+-1.8e308)"
            ) from None
        if not math.isfinite(f):
            raise ValueError(f"{where}: parameter {name} is {f!r}, not a finite number")
        pairs.append((p, f))
    return pairs


def load_state_dict(module: Any, state: Any, where: str = "load_state_dict") -> None:
    """Set each parameter's data from ``state`` (names as in ``state_dict``) and zero its grad.

    Labels are kept. Every key must be present, no other key, every value a finite real
    number; otherwise raise and change nothing.
    """
    for p, f in _checked(module, state, where):
        p.data = f
        p.grad = 0.0


def save(module: Any, path: str | os.PathLike) -> None:
    """Write ``module``'s parameters to ``path`` as chainrule JSON.

    A non-finite parameter is a ValueError and nothing is written (JSON has no NaN, and
    ``load`` would refuse it).
    """
    params = state_dict(module)
    for name, v in params.items():
        if not math.isfinite(v):
            raise ValueError(f"save({os.fspath(path)!r}): parameter {name} is {v!r}; nothing written")
    doc = {"format": FORMAT, "version": VERSION, "model": repr(module), "parameters": params}
    text = json.dumps(doc, indent=1)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text + "\n")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for k, v in pairs:
        if k in seen:
            raise ValueError(f"duplicate key {k!r}")
        seen[k] = v
    return seen


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number JSON allows")


def load(module: Any, path: str | os.PathLike) -> None:
    """Read a file written by ``save`` into ``module``; on any problem raise and change nothing."""
    where = f"load({os.fspath(path)!r})"
    with open(path, encoding="utf-8") as f:
        try:
            text = f.read()
        except UnicodeDecodeError as err:
            # save() writes UTF-8 JSON, so undecodable bytes mean some other (perhaps pickled) file.
            raise ValueError(
                f"{where}: not a chainrule JSON file: byte {err.start} is not UTF-8 text ({err.reason})"
            ) from None
    try:
        doc = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except ValueError as err:  # json.JSONDecodeError is a ValueError
        raise ValueError(f"{where}: not a chainrule JSON file: {err}") from None
    except RecursionError:  # arrays or objects nested deeper than the parser's recursion limit
        raise ValueError(f"{where}: not a chainrule JSON file: nested too deeply to parse") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f"{where}: not a chainrule JSON file (expected \"format\": \"{FORMAT}\")")
    if doc.get("version") != VERSION:
        found = doc.get("version")
        raise ValueError(f"{where}: unsupported version {found!r} (this chainrule reads {VERSION})")
    if "parameters" not in doc:
        raise ValueError(f"{where}: the file has no \"parameters\"")
    load_state_dict(module, doc["parameters"], where)

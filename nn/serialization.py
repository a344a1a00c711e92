"""Parameters to and from plain data and JSON files (never pickle: loading runs no code).

A file holds ``{"format": "chainrule.state_dict", "version": 1, "model": "<repr>",
"parameters": {"layers.0.neurons.0.w.0": 0.417, ...}}``. Floats are written with ``repr``
precision, so a save/load round trip is exact.

Saving is atomic: the text goes to a temporary file beside the target, is flushed to disk,
and then replaces the target in one step, so the previous file survives any failure (a full
disk, a crash, ``kill -9``). Loading reads only a regular file of at most ``MAX_BYTES``
(64 MiB, about a million parameters; ``load(..., max_bytes=...)`` raises it), checks
everything before it changes anything (on any error the model is left as it was), and keeps
each error to one short line.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import stat
from collections.abc import Mapping
from typing import Any

from chainrule.files import write_atomic

__all__ = ["FORMAT", "VERSION", "MAX_BYTES", "state_dict", "load_state_dict", "save", "load"]

FORMAT = "chainrule.state_dict"
VERSION = 1
MAX_BYTES = 64 * 2**20  # the largest file load() reads unless told otherwise
SHOWN = 60  # characters of a bad value quoted in an error message


def _short(value: Any, shown: int = SHOWN) -> str:
    """``repr(value)``, cut to ``shown`` characters so an error stays one short line."""
    text = repr(value)
    return text if len(text) <= shown else f"{text[:shown]}... ({len(text)} characters)"


def state_dict(module: Any) -> dict[str, float]:
    """``{parameter name: value}`` as plain floats, in parameter order."""
    return {name: p.data for name, p in module.named_parameters()}


def _some(names: list[str]) -> str:
    shown = [n if len(n) <= SHOWN else _short(n) for n in names[:5]]
    return ", ".join(shown) + (" ..." if len(names) > 5 else "")


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
            raise TypeError(f"{where}: parameter {name} is {type(v).__name__} ({_short(v)}), not a number")
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
    """Write ``module``'s parameters to ``path`` as chainrule JSON, atomically.

    A non-finite parameter is a ValueError and nothing is written (JSON has no NaN, and
    ``load`` would refuse it). The file appears whole or not at all: on any error, the old
    file at ``path`` (if any) is left as it was and no temporary file remains.
    """
    params = state_dict(module)
    for name, v in params.items():
        if not math.isfinite(v):
            where = f"save({_short(os.fspath(path), 4 * SHOWN)})"
            raise ValueError(f"{where}: parameter {name} is {v!r}; nothing written")
    doc = {"format": FORMAT, "version": VERSION, "model": repr(module), "parameters": params}
    write_atomic(path, json.dumps(doc, indent=1) + "\n")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for k, v in pairs:
        if k in seen:
            raise ValueError(f"duplicate key {_short(k)}")
        seen[k] = v
    return seen


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number JSON allows")


_KINDS = {stat.S_ISDIR: "a folder", stat.S_ISFIFO: "a pipe (FIFO)", stat.S_ISCHR: "a character device",
          stat.S_ISBLK: "a block device", stat.S_ISSOCK: "a socket"}


def _read_limited(path: str | os.PathLike, where: str, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``; anything else is refused before reading."""
    # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = next((k for test, k in _KINDS.items() if test(info.st_mode)), "not a regular file")
            raise ValueError(f"{where}: not a regular file ({kind}); give the path of a saved weights file")
        if info.st_size > max_bytes:
            raise ValueError(f"{where}: the file is {info.st_size} bytes, more than the limit of {max_bytes} "
                             "(load(..., max_bytes=N) raises it)")
        chunks, size = [], 0
        while chunk := os.read(fd, 1 << 20):  # the file may grow after fstat: count what is read
            size += len(chunk)
            if size > max_bytes:
                raise ValueError(f"{where}: the file grew past the limit of {max_bytes} bytes while read")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def load(module: Any, path: str | os.PathLike, *, max_bytes: int = MAX_BYTES) -> None:
    """Read a file written by ``save`` into ``module``; on any problem raise and change nothing.

    Only a regular file of at most ``max_bytes`` (default ``MAX_BYTES``, 64 MiB) is read.
    """
    where = f"load({_short(os.fspath(path), 4 * SHOWN)})"
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
        raise ValueError(f"{where}: max_bytes must be a positive int, got {_short(max_bytes)}")
    raw = _read_limited(path, where, max_bytes)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        # save() writes UTF-8 JSON, so undecodable bytes mean some other (perhaps pickled) file.
        raise ValueError(
            f"{where}: not a chainrule JSON file: byte {err.start} is not UTF-8 text ({err.reason})"
        ) from None
    try:
        doc = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except ValueError as err:  # json.JSONDecodeError is a ValueError
        raise ValueError(f"{where}: not a chainrule JSON file: {_one_line(err)}") from None
    except RecursionError:  # arrays or objects nested deeper than the parser's recursion limit
        raise ValueError(f"{where}: not a chainrule JSON file: nested too deeply to parse") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f"{where}: not a chainrule JSON file (expected \"format\": \"{FORMAT}\")")
    found = doc.get("version")
    # JSON's 1.0 and true compare equal to 1 in Python; the file format says the int 1.
    if type(found) is not int or found != VERSION:
        raise ValueError(f"{where}: unsupported version {_short(found)} (this chainrule reads {VERSION})")
    if "parameters" not in doc:
        raise ValueError(f"{where}: the file has no \"parameters\"")
    load_state_dict(module, doc["parameters"], where)


def _one_line(err: Exception) -> str:
    text = " ".join(str(err).split())
    return text if len(text) <= 2 * SHOWN else text[:2 * SHOWN] + "..."

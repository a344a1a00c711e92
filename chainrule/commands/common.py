"""What the commands share: the usage error and output paths."""

from __future__ import annotations

from pathlib import Path


class UsageError(Exception):
    """A bad argument: printed as one line, exit status 2."""


def out_dir(path: str) -> Path:
    """Create the output folder (and parents); an existing file there is a UsageError."""
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--out {path}: exists and is not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def output_path(out: str | None, fmt: str | None, default_stem: str) -> tuple[Path, str]:
    """The file and format for ``--out``/``--format``; they must agree when both are given."""
    if out is None:
        fmt = fmt or "svg"
        return Path(f"{default_stem}.{fmt}"), fmt
    path = Path(out)
    suffix = path.suffix.lstrip(".").lower()
    if fmt is None:
        if suffix not in ("svg", "png", "pdf", "dot"):
            raise UsageError(f"--out {out}: name a .svg, .png, .pdf or .dot file, or give --format")
        return path, suffix
    if suffix and suffix != fmt:
        raise UsageError(f"--out {out} does not match --format {fmt}")
    return (path if suffix else path.with_suffix(f".{fmt}")), fmt

"""Writing a file whole or not at all: every file chainrule writes goes through ``write_atomic``.

It lives here, beside the command line rather than inside ``autograd``, ``nn`` or ``viz``,
because both ``nn`` (weights) and ``viz`` (pictures, pages) need it and those two never import
each other; it imports nothing of chainrule's, so any part may use it.
"""

from __future__ import annotations

import os
import secrets


def write_atomic(path: str | os.PathLike, data: bytes | str) -> None:
    """Write ``data`` (``str`` as UTF-8) to ``path``: the file appears whole or not at all.

    The bytes go to a temporary file beside ``path`` (so the rename stays within one file
    system), are flushed and fsynced, and the file is renamed over ``path``; the folder is then
    fsynced so the rename itself is durable (POSIX). On any error, the old file at ``path`` (if
    any) is left as it was and no temporary file remains. A new file gets the mode the umask
    gives, as ``open(path, "w")`` would (``tempfile.mkstemp`` would give 0o600).
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    folder, name = os.path.split(os.path.abspath(path))
    tmp = os.path.join(folder, f".{name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _sync_folder(folder)


def _sync_folder(folder: str) -> None:
    """Make the rename itself durable (POSIX); a platform that cannot open a folder skips this."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

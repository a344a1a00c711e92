"""chainrule.files.write_atomic, the one way chainrule writes a file, and the writers that use it."""

import errno
import os
import shutil
import stat

import pytest

from chainrule import Value, nn, viz
from chainrule.files import write_atomic


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_text_is_written_as_utf8_and_bytes_as_they_are(tmp_path):
    write_atomic(tmp_path / "a.txt", "∂L/∂w = 1\n")
    write_atomic(tmp_path / "b.bin", b"\x00\xff")
    assert (tmp_path / "a.txt").read_bytes() == "∂L/∂w = 1\n".encode()
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\xff"
    assert leftovers(tmp_path) == []


def test_a_relative_path_is_written_in_the_working_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_atomic("here.txt", "x")
    assert (tmp_path / "here.txt").read_text() == "x"
    assert leftovers(tmp_path) == []


def test_a_failed_rename_leaves_the_old_file_and_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "f.txt"
    path.write_text("old")

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(OSError, match="No space left"):
        write_atomic(path, "new")
    assert path.read_text() == "old"
    assert leftovers(tmp_path) == []


def tanh_graph():
    return viz.draw_dot(Value(2.0, label="a").tanh())


WRITERS = {  # each writer and the name of the file it writes
    "save_source": ("g.dot", lambda path: viz.save_source(tanh_graph(), path)),
    "nn.save": ("w.json", lambda path: nn.MLP(2, [2, 1], seed=0).save(path)),
    "render": ("g.svg", lambda path: viz.render(tanh_graph(), path)),
    "write_practice": ("p.html", lambda path: viz.write_practice("a+a", path)),
    "write_stepper": ("s.html", lambda path: viz.write_stepper(Value(2.0, label="a").tanh(), path)),
}
NEEDS_DOT = {"render", "write_practice", "write_stepper"}


@pytest.mark.skipif(os.name != "posix", reason="file modes and umask are POSIX")
@pytest.mark.parametrize("who", list(WRITERS))
def test_every_writer_gives_a_new_file_the_mode_the_umask_gives(tmp_path, who):
    # tempfile.mkstemp makes 0o600 files: pictures and pages written through it were unreadable
    # to anyone else (a web server, a classmate), unlike any file open(path, "w") makes.
    if who in NEEDS_DOT and shutil.which("dot") is None:
        pytest.skip("needs Graphviz's dot")
    name, write = WRITERS[who]
    path = tmp_path / name
    old = os.umask(0o027)
    try:
        write(path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert leftovers(tmp_path) == []

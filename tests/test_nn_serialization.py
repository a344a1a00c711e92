"""state_dict / load_state_dict and JSON save / load: exact round trips, and every bad
input raises a clear error and leaves the model as it was."""

import errno
import json
import os
import re
import signal
import stat
import subprocess
import sys
import threading

import numpy as np
import pytest

from chainrule import nn
from chainrule.nn import serialization


def model():
    return nn.MLP(2, [3, 1], activation="tanh", seed=11)


def test_state_dict_names_and_values():
    m = model()
    state = m.state_dict()
    assert list(state) == [name for name, _ in m.named_parameters()]
    assert list(state)[:3] == ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1", "layers.0.neurons.0.b"]
    assert all(type(v) is float for v in state.values())
    assert state["layers.0.neurons.0.w.0"] == m.layers[0].neurons[0].w[0].data


def test_load_state_dict_sets_data_keeps_labels_and_zeroes_grads():
    source, target = model(), nn.MLP(2, [3, 1], activation="tanh", seed=99)
    target([0.5, 0.5]).backward()
    target.load_state_dict(source.state_dict())
    assert target.state_dict() == source.state_dict()
    for name, p in target.named_parameters():
        assert p.label == name and p.grad == 0.0


def test_save_load_round_trip_is_exact(tmp_path):
    source = model()
    for p in source.parameters():
        p.data = p.data / 3.0  # digits that need full repr precision
    path = tmp_path / "model.json"
    source.save(path)
    doc = json.loads(path.read_text())
    assert doc["format"] == "chainrule.state_dict" and doc["version"] == 1
    assert doc["model"] == "MLP(2 -> 3 tanh -> 1 linear)"
    target = nn.MLP(2, [3, 1], activation="tanh", seed=5)
    target.load(path)
    assert target.state_dict() == source.state_dict()
    X = np.array([[0.1, 0.2], [-1.0, 3.0]])
    assert np.array_equal(nn.predict(target, X), nn.predict(source, X))


def write(tmp_path, text):
    path = tmp_path / "bad.json"
    path.write_text(text)
    return path


def good_doc():
    return {"format": "chainrule.state_dict", "version": 1, "model": "x", "parameters": model().state_dict()}


def edited(change):
    doc = good_doc()
    change(doc)
    return json.dumps(doc)


BAD_FILES = [
    ("not json at all", ValueError, "not a chainrule JSON file"),
    ("[1, 2, 3]", ValueError, "not a chainrule JSON file"),
    (json.dumps({"parameters": {}}), ValueError, "expected \"format\""),
    (edited(lambda d: d.update(version=2)), ValueError, "unsupported version 2"),
    (edited(lambda d: d.pop("parameters")), ValueError, "no \"parameters\""),
    (edited(lambda d: d["parameters"].pop("layers.1.neurons.0.b")), ValueError,
     "missing 1 key\\(s\\): layers.1.neurons.0.b"),
    (edited(lambda d: d["parameters"].update({"layers.2.neurons.0.b": 0.0})), ValueError,
     "unexpected 1 key\\(s\\): layers.2.neurons.0.b"),
    (json.dumps({**good_doc(), "parameters": nn.MLP(2, [4, 1]).state_dict()}), ValueError,
     "missing 0 key|unexpected 4 key"),
    (edited(lambda d: d["parameters"].update({"layers.0.neurons.1.w.0": "0.5"})), TypeError,
     "parameter layers.0.neurons.1.w.0 is str"),
    (edited(lambda d: d["parameters"].update({"layers.0.neurons.1.w.0": None})), TypeError, "is NoneType"),
    (edited(lambda d: d["parameters"].update({"layers.0.neurons.1.w.0": True})), TypeError, "is bool"),
    (edited(lambda d: d["parameters"].update({"layers.0.neurons.1.w.0": [1.0]})), TypeError, "is list"),
    (edited(lambda d: d["parameters"].update({"layers.0.neurons.1.w.0": 1e400})), ValueError,
     "not a number JSON allows|not a finite number"),
    (edited(lambda d: d["parameters"].update({"layers.0.neurons.0.b": float("nan")})), ValueError,
     "NaN is not a number JSON allows"),
    (edited(lambda d: d["parameters"].update({"layers.0.neurons.1.w.0": 10**400})), ValueError,
     "parameter layers.0.neurons.1.w.0 is an integer beyond the float range"),
    ('{"format": "chainrule.state_dict", "format": "other"}', ValueError, "duplicate key 'format'"),
    ("[" * 100_000 + "]" * 100_000, ValueError, "not a chainrule JSON file: nested too deeply"),
    (edited(lambda d: d.update(parameters=[1, 2])), TypeError, "expected a mapping"),
]


@pytest.mark.parametrize("text, error, match", BAD_FILES)
def test_bad_files_raise_and_leave_the_model_unchanged(tmp_path, text, error, match):
    m = nn.MLP(2, [3, 1], activation="tanh", seed=3)
    before = m.state_dict()
    path = write(tmp_path, text)
    with pytest.raises(error, match=match) as info:
        m.load(path)
    assert str(path) in str(info.value)
    assert m.state_dict() == before


@pytest.mark.parametrize("raw", [
    b"\x80\x04\x95 a pickle, not JSON",
    json.dumps(good_doc()).encode("utf-8").replace(b'"model": "x"', b'"model": "\xff"'),
])
def test_a_file_that_is_not_utf8_is_a_clear_load_error(tmp_path, raw):
    m = nn.MLP(2, [3, 1], activation="tanh", seed=3)
    before = m.state_dict()
    path = tmp_path / "weights.pkl"
    path.write_bytes(raw)
    with pytest.raises(ValueError, match=r"weights\.pkl'\): not a chainrule JSON file: byte \d+ is not UTF"):
        m.load(path)
    assert m.state_dict() == before


def test_load_state_dict_names_an_integer_too_large_for_a_float():
    m = model()
    before = m.state_dict()
    with pytest.raises(ValueError, match="load_state_dict: parameter layers.1.neurons.0.b is an integer bey"):
        m.load_state_dict({**before, "layers.1.neurons.0.b": 10**5000})
    assert m.state_dict() == before


def test_a_wrong_architecture_names_the_mismatch(tmp_path):
    path = tmp_path / "big.json"
    nn.MLP(2, [4, 1]).save(path)
    m = model()
    before = m.state_dict()
    with pytest.raises(ValueError, match=r"do not fit MLP\(2 -> 3 tanh -> 1 linear\): .*unexpected 4"):
        m.load(path)
    assert m.state_dict() == before


def test_a_bad_value_late_in_the_dict_changes_nothing():
    m = model()
    before = m.state_dict()
    state = dict(before)
    names = list(state)
    for name in names[:-1]:
        state[name] = 123.0
    state[names[-1]] = float("inf")
    with pytest.raises(ValueError, match=f"parameter {names[-1]} is inf"):
        m.load_state_dict(state)
    assert m.state_dict() == before


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        model().load(tmp_path / "nope.json")


def test_saved_file_is_plain_json_not_pickle(tmp_path):
    path = tmp_path / "m.json"
    model().save(path)
    raw = path.read_bytes()
    assert raw.startswith(b"{") and b"\x80" not in raw
    assert set(json.loads(raw)) == {"format", "version", "model", "parameters"}


def test_save_refuses_a_non_finite_parameter_and_writes_nothing(tmp_path):
    m = model()
    m.layers[1].neurons[0].b.data = float("nan")
    path = tmp_path / "m.json"
    with pytest.raises(ValueError, match="parameter layers.1.neurons.0.b is nan; nothing written"):
        m.save(path)
    assert not path.exists()


# -- atomic save ---------------------------------------------------------------------------------


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_save_replaces_the_file_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "m.json"
    path.write_text("old")
    model().save(path)
    assert json.loads(path.read_text())["format"] == "chainrule.state_dict"
    assert leftovers(tmp_path) == []


@pytest.mark.skipif(os.name != "posix", reason="file modes and umask are POSIX")
def test_a_new_file_gets_the_mode_the_umask_gives(tmp_path):
    old = os.umask(0o027)
    try:
        model().save(tmp_path / "m.json")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "m.json").stat().st_mode) == 0o640


@pytest.mark.parametrize("broken", ["fsync", "replace", "write"])
def test_a_failed_save_leaves_the_old_file_whole(tmp_path, monkeypatch, broken):
    path = tmp_path / "m.json"
    model().save(path)
    before = path.read_bytes()
    bigger = nn.MLP(2, [8, 8, 1], seed=5)

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    if broken == "write":
        real_fdopen = os.fdopen

        class FullDisk:  # accepts a third of the bytes, then the disk is full
            def __init__(self, f):
                self.f, self.left = f, len(before) // 3

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self.f.close()

            def write(self, data):
                if len(data) > self.left:
                    self.f.write(data[:self.left])
                    self.f.flush()
                    disk_full()
                self.left -= len(data)
                return self.f.write(data)

            def flush(self):
                self.f.flush()

            def fileno(self):
                return self.f.fileno()

        monkeypatch.setattr(os, "fdopen", lambda fd, *a, **k: FullDisk(real_fdopen(fd, *a, **k)))
    else:
        monkeypatch.setattr(os, broken, disk_full)
    with pytest.raises(OSError, match="No space left"):
        bigger.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []
    m = model()
    m.load(path)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="kill -9 is POSIX")
def test_kill_9_in_the_middle_of_a_save_leaves_the_old_file(tmp_path):
    path = tmp_path / "m.json"
    model().save(path)
    before = path.read_bytes()
    # The process dies after the new text is written and flushed, before the rename: a crash
    # at the worst moment, made deterministic.
    script = (
        "import os, signal\n"
        "from chainrule import nn\n"
        "os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL)\n"
        f"nn.MLP(2, [50, 50, 1], seed=1).save({str(path)!r})\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, timeout=120)
    assert proc.returncode == -signal.SIGKILL
    assert path.read_bytes() == before


# -- loading refuses what is not a small regular file ------------------------------------------


def load_in_thread(path, **kw):
    """Load in a thread, so a load that blocks fails the test instead of hanging it."""
    result = {}

    def target():
        try:
            model().load(path, **kw)
            result["ok"] = True
        except Exception as err:  # noqa: BLE001 - the test inspects whatever was raised
            result["error"] = err

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(30)
    assert not thread.is_alive(), "load blocked"
    return result


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "weights.json"
    os.mkfifo(fifo)
    err = load_in_thread(fifo)["error"]
    assert isinstance(err, ValueError)
    assert str(err) == (f"load({str(fifo)!r}): not a regular file (a pipe (FIFO)); "
                        "give the path of a saved weights file")


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_a_symlink_to_dev_zero_is_refused_before_reading(tmp_path):
    link = tmp_path / "weights.json"
    link.symlink_to("/dev/zero")
    err = load_in_thread(link)["error"]
    assert isinstance(err, ValueError) and "not a regular file (a character device)" in str(err)


def test_a_folder_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"not a regular file \(a folder\)"):
        model().load(tmp_path)


def test_a_file_above_the_size_limit_is_refused_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "huge.json"
    with open(path, "wb") as f:  # sparse: MAX_BYTES + 1 bytes on paper, nothing on disk
        f.truncate(serialization.MAX_BYTES + 1)
    monkeypatch.setattr(os, "read", lambda *a: pytest.fail("read a file above the limit"))
    limit = serialization.MAX_BYTES
    with pytest.raises(ValueError, match=rf"is {limit + 1} bytes, more than the limit of {limit} "
                                         r"\(load\(\.\.\., max_bytes=N\) raises it\)"):
        model().load(path)


def test_max_bytes_is_the_documented_limit_and_can_be_raised(tmp_path):
    assert serialization.MAX_BYTES == 64 * 2**20
    assert "64 MiB" in serialization.__doc__ and "64 MiB" in serialization.load.__doc__
    path = tmp_path / "m.json"
    model().save(path)
    size = path.stat().st_size
    with pytest.raises(ValueError, match="more than the limit"):
        model().load(path, max_bytes=size - 1)
    m = model()
    m.load(path, max_bytes=size)
    with pytest.raises(ValueError, match="max_bytes must be a positive int"):
        m.load(path, max_bytes=0)


@pytest.mark.parametrize("version", [1.0, True, "1", None, [1]])
def test_the_version_must_be_the_int_1(tmp_path, version):
    path = write(tmp_path, edited(lambda d: d.update(version=version)))
    with pytest.raises(ValueError, match=f"unsupported version {re.escape(repr(version))} "):
        model().load(path)


HUGE = "x" * 1_000_000


@pytest.mark.parametrize("change", [
    lambda d: d["parameters"].update({"layers.0.neurons.1.w.0": HUGE}),
    lambda d: d["parameters"].update({HUGE: 1.0}),
    lambda d: d.update(version=HUGE),
    lambda d: d.update(format=HUGE),
])
def test_every_error_is_one_short_line(tmp_path, change):
    path = write(tmp_path, edited(change))
    with pytest.raises((ValueError, TypeError)) as info:
        model().load(path)
    message = str(info.value)
    assert "\n" not in message and len(message) < 300, message[:400]


def test_a_duplicate_huge_key_is_one_short_line(tmp_path):
    path = write(tmp_path, f'{{"{HUGE}": 1, "{HUGE}": 2}}')
    with pytest.raises(ValueError) as info:
        model().load(path)
    assert "duplicate key" in str(info.value) and len(str(info.value)) < 300

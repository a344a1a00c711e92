"""state_dict / load_state_dict and JSON save / load: exact round trips, and every bad
input raises a clear error and leaves the model as it was."""

import json

import numpy as np
import pytest

from chainrule import nn


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

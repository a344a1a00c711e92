"""Value's operators are checked-in source generated from the rule table: it must be current.

The oracle for "current" is a fresh generation from ``autograd/rules.py``; the oracle for what
each method computes is the rule table's own text, evaluated here independently of the
generated code, over every form in the test registry.
"""

from __future__ import annotations

import inspect
import math
import subprocess
import sys
from pathlib import Path

import pytest
from ops_registry import CASES, OpCase

from chainrule import autograd
from chainrule.autograd import RULES, Value, methods
from chainrule.autograd import value as value_module
from chainrule.autograd.floats import OpError

VALUE_PY = Path(value_module.__file__)


def test_value_py_is_what_the_generator_writes():
    text = VALUE_PY.read_text(encoding="utf-8")
    assert methods.splice(text) == text, "run: python -m chainrule.autograd.methods"


def test_check_flag_reports_current_and_stale(tmp_path, monkeypatch):
    done = subprocess.run([sys.executable, "-m", "chainrule.autograd.methods", "--check"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    stale = VALUE_PY.read_text(encoding="utf-8").replace("out = a * b\n", "out = a * b * 1.0\n", 1)
    assert stale != VALUE_PY.read_text(encoding="utf-8")
    assert methods.splice(stale) != stale  # the edit is inside the generated part, so it is undone
    # The flag itself on a stale copy: main() reads the value.py beside methods.py's __file__.
    copy = tmp_path / "value.py"
    copy.write_text(stale, encoding="utf-8")
    monkeypatch.setattr(methods, "__file__", str(tmp_path / "methods.py"))
    assert methods.main(["--check"]) == 1
    assert copy.read_text(encoding="utf-8") == stale  # --check writes nothing
    assert methods.main([]) == 0  # without it, the generated part is rewritten
    assert copy.read_text(encoding="utf-8") == VALUE_PY.read_text(encoding="utf-8")
    assert methods.main(["--check"]) == 0


def test_missing_markers_are_a_clear_error():
    with pytest.raises(ValueError, match="marker lines not found"):
        methods.splice("class Value:\n    pass\n")


def test_methods_are_ordinary_source_that_inspect_finds():
    # Editors, coverage and tracebacks see the methods in value.py, not in exec'd strings.
    for name in [*methods.BINARY, *methods.UNARY, "__radd__", "__pow__", "__rpow__"]:
        fn = getattr(Value, name)
        assert inspect.getsourcefile(fn) == str(VALUE_PY), name
        assert fn.__qualname__ == f"Value.{name}"
        assert fn.__doc__
    assert Value.__abs__ is Value.abs


def test_no_generated_source_in_linecache_after_import():
    code = ("import linecache; import chainrule.autograd; "
            "print([k for k in linecache.cache if 'chainrule' in k and '<' in k])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


@pytest.mark.parametrize("rule", list(RULES.values()), ids=list(RULES))
def test_every_rules_forward_takes_its_stated_arguments(rule):
    # The arity is stated (arity, param), never guessed from the text.
    args = {"a, b": (0.7, 1.3), "a, p": (0.7, 2.0), "a": (0.7,)}[rule.arguments]
    assert isinstance(rule.forward(*args), float | int)
    assert len(rule.local_grads(0.7, args[1] if len(args) == 2 else None, rule.forward(*args))) == rule.arity


def test_exp_and_softplus_forward_take_one_argument():
    assert RULES["exp"].forward(1.0) == math.exp(1.0)
    assert math.isclose(RULES["softplus"].forward(1.0), math.log1p(math.e), rel_tol=1e-15)
    assert RULES["leaky_relu"].forward(-2.0, 0.1) == -0.2


def _table_locals(out: Value) -> list[float]:
    """The rule row's ``local`` text evaluated here, on the node's floats."""
    rule = out.rule
    names = dict(autograd.rules.LOCAL_NAMES, a=out._prev[0].data, out=out.data, p=out._p)
    if rule.arity == 2:
        names["b"] = out._prev[1].data
    return [eval(text, names) for text in rule.local]  # trusted text from the rule table


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_generated_nodes_store_the_tables_output_and_local_derivatives(case: OpCase):
    for shift in (0.0, 0.37, -0.81):
        point = tuple(x + shift for x in case.midpoint())
        if not all(any(lo <= x <= hi for lo, hi in d) for x, d in zip(point, case.domain)):
            continue
        xs = [Value(x) for x in point]
        out = case.apply(*xs)
        rule = out.rule
        args = [o.data for o in out._prev] if rule.arity == 2 else [out._prev[0].data]
        if rule.param is not None:
            args.append(out._p)
        assert out.data == rule.forward(*args)
        assert list(out.local_grads()) == pytest.approx(_table_locals(out), rel=1e-15, abs=0)


def test_reflected_operators_put_the_number_first():
    x = Value(3.0)
    for out, first in ((2 - x, 2.0), (2 / x, 2.0), (2 * x, 2.0), (2 + x, 2.0)):
        assert out._prev[0].data == first and out._prev[1] is x


def test_sin_and_cos_of_infinity_name_the_op():
    for name in ("sin", "cos"):
        with pytest.raises(OpError, match=rf"{name}\(inf\)"):
            getattr(Value(math.inf), name)()
        with pytest.raises(OpError, match=rf"{name}\(-inf\)"):
            getattr(Value(-math.inf), name)()

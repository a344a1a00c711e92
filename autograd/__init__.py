"""chainrule's engine: scalar Values that record their graph and differentiate it.

>>> from chainrule.autograd import Value
>>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
>>> c = a * b + a
>>> c.backward()
>>> a.grad, b.grad
(-2.0, 2.0)
"""

from .arrays import data, grads, values
from .check import GradcheckError, gradcheck
from .compiler import Compiled, CompiledOutput, CompileError, compile
from .custom import define_op
from .engine import Outputs, backward, grad, topo_order
from .forward import jvp
from .mode import AnomalyError, detect_anomaly, enable_grad, is_anomaly_enabled, is_grad_enabled, no_grad
from .rules import CONST, RULES, OpError, Rule
from .value import Value

__all__ = [
    "Value", "backward", "grad", "jvp", "topo_order", "no_grad", "enable_grad", "is_grad_enabled",
    "gradcheck", "GradcheckError", "values", "data", "grads", "RULES", "Rule", "CONST", "OpError",
    "compile", "Compiled", "CompiledOutput", "CompileError", "define_op", "detect_anomaly",
    "is_anomaly_enabled", "AnomalyError", "Outputs",
]

"""chainrule: a scalar autograd engine that makes backpropagation visible.

Installed, everything lives under this one name: the engine is ``chainrule.autograd``, the
modules ``chainrule.nn``, the pictures ``chainrule.viz``, and the command line
``chainrule.cli``. ``from chainrule import Value`` is the short form of the engine's Value.
"""

from chainrule.autograd import Value, grad, no_grad

__version__ = "0.1.0"

__all__ = ["Value", "grad", "no_grad", "__version__"]

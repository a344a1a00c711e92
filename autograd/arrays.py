"""Values in numpy object arrays: ``np.dot``, ``np.exp``, ``.sum()`` then work on Values.

numpy runs an object array's arithmetic through each element's Python operators, and a ufunc
such as ``np.exp`` through the element's method of the same name, so the tutorial's numpy
code records a graph when its arrays hold Values.
"""

from __future__ import annotations

import numpy as np

from .value import Value

__all__ = ["values", "data", "grads"]


def values(array, label: str = "") -> np.ndarray:
    """An object array of new leaf Values with the numbers of ``array`` (any shape).

    With ``label``, each Value is labelled by its index, e.g. ``W[0,2]``.
    """
    arr = np.asarray(array)
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise TypeError(f"values(): expected an array of real numbers, got dtype {arr.dtype}")
    out = np.empty(arr.shape, dtype=object)
    for idx, x in np.ndenumerate(arr):
        name = f"{label}[{','.join(map(str, idx))}]" if label else ""
        out[idx] = Value(float(x), label=name)
    return out


def _read(array, attr: str, who: str) -> np.ndarray:
    arr = np.asarray(array, dtype=object)
    out = np.empty(arr.shape, dtype=float)
    for idx, v in np.ndenumerate(arr):
        if not isinstance(v, Value):
            raise TypeError(f"{who}(): element {idx} is {type(v).__name__}, not a Value")
        out[idx] = getattr(v, attr)
    return out


def data(array) -> np.ndarray:
    """The ``.data`` of every Value in ``array``, as a float array of the same shape."""
    return _read(array, "data", "data")


def grads(array) -> np.ndarray:
    """The ``.grad`` of every Value in ``array``, as a float array of the same shape."""
    return _read(array, "grad", "grads")

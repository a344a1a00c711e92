"""The one traced graph: every picture and text of viz renders from it.

``trace(root)`` reads the graph under ``root`` once: nodes in topological order with their
ids, names and kinds; every edge (operand ``slot`` of ``node`` is ``child``) with its rule
text, local derivative, upstream grad and contribution (upstream × local), in the order
``backward()`` takes them, with each operand's running total where paths meet; the module
clusters; and the grads a fresh backward pass gives (seed 1), replayed without touching any
``.grad``. ``draw_dot``, ``draw_graph`` (scalar and collapsed), ``explain``, the stepper and
the practice page all read this object, so they agree with each other and with the engine.

The ids of the DOT and HTML output are spelled here and nowhere else (:func:`node_id` ...).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from chainrule.autograd import Value, topo_order

from .clusters import Cluster, LayerCall, find_clusters, layer_calls
from .names import looks_like_parameter, node_names
from .style import fmt

__all__ = ["Edge", "TracedGraph", "trace", "node_id", "op_id", "result_edge_id", "edge_id",
           "neuron_id", "neuron_edge_id", "input_id", "cell_id", "weight_id", "weight_label_id", "column_id",
           "cluster_id", "layer_cluster_id", "path_node_id", "path_edge_id", "path_gap_id", "path_end_id",
           "rule_text",
           "derivative_text", "local_texts", "grouped", "KINDS_ORDER"]

KINDS_ORDER = ("input", "parameter", "constant", "intermediate", "output")


# -- ids: the one place the DOT/HTML ids are spelled ------------------------------------------

def node_id(i: int) -> str:
    """The value node of topo index ``i``."""
    return f"v{i}"


def op_id(i: int) -> str:
    """The op node computing value ``i``."""
    return f"v{i}op"


def result_edge_id(i: int) -> str:
    """The edge from value ``i``'s op node to the value."""
    return f"e{i}op"


def edge_id(i: int, slot: int) -> str:
    """The edge from operand ``slot`` of value ``i`` to its op node."""
    return f"e{i}_{slot}"


def neuron_id(k: int) -> str:
    """The node of module call ``k`` in the collapsed view."""
    return f"n{k}"


def neuron_edge_id(k: int, j: int) -> str:
    """The edge from value ``j`` into module call ``k`` in the collapsed view."""
    return f"e_n{k}_{j}"


def input_id(i: int) -> str:
    """Input ``i`` of the network view."""
    return f"x{i}"


def cell_id(layer: int, k: int) -> str:
    """Neuron ``k`` of layer ``layer`` in the network view."""
    return f"L{layer}n{k}"


def weight_id(layer: int, k: int, i: int) -> str:
    """The edge of weight ``i`` of neuron ``k`` of layer ``layer`` in the network view."""
    return f"L{layer}n{k}w{i}"


def weight_label_id(layer: int, k: int, i: int) -> str:
    """The label (w and its grad) beside that weight's edge in the network view."""
    return weight_id(layer, k, i) + "l"


def column_id(c: int) -> str:
    """The heading of column ``c`` (inputs, then each layer) in the network view."""
    return f"head{c}"


def cluster_id(k: int) -> str:
    """The box of module call ``k`` (Graphviz draws subgraphs named ``cluster...`` as boxes)."""
    return f"cluster_{k}"


def layer_cluster_id(m: int) -> str:
    """The box of layer call ``m``, around its neurons' boxes."""
    return f"cluster_L{m}"


def path_node_id(p: int, k: int) -> str:
    """Node ``k`` (0: the leaf) of path ``p`` in draw_paths."""
    return f"p{p}_{k}"


def path_edge_id(p: int, k: int) -> str:
    """The edge from node ``k`` to node ``k + 1`` of path ``p`` in draw_paths."""
    return f"p{p}e{k}"


def path_gap_id(p: int) -> str:
    """The box standing for the steps left out of the middle of a long path ``p`` in draw_paths."""
    return f"p{p}_gap"


def path_end_id(p: int) -> str:
    """The product written at the end of path ``p`` in draw_paths."""
    return f"p{p}_end"


# -- rule text ----------------------------------------------------------------------------------

def local_texts(v: Value) -> tuple[str, ...]:
    """The rule table's text of each local derivative of ``v`` (d(out)/d(operand i))."""
    return v.rule.local


_TOKEN = re.compile(r"\b(a|b|p|out)\b")
_WHOLE_FLOAT = re.compile(r"(?<![\w.])(\d+)\.0(?![\w.])")
_SIMPLE = re.compile(r"[\w.]+")


def rule_text(template: str, names: dict[str, str]) -> str:
    """``template`` (a rule's formula or math) with a, b, p and out replaced by ``names``.

    Float literals that are whole numbers lose their ``.0`` (``1.0 - out * out`` reads
    ``1 - out * out``): the rule table is code, the picture is for people.
    """
    plain = _WHOLE_FLOAT.sub(r"\1", template)  # before names go in: a label may read "1.0"
    return _TOKEN.sub(lambda m: names.get(m.group(1), m.group(1)), plain)


def derivative_text(rule: str, local: str) -> str:
    """``rule = value``, or just the value when the rule is that number already (``1``)."""
    return rule if rule == local else f"{rule} = {local}"


def grouped(name: str) -> str:
    """A name that reads as one term in a formula: ``(a + b)``, ``w1``, ``(2)``, ``tanh(n)``."""
    return name if _SIMPLE.fullmatch(name) or _wrapped(name) else f"({name})"


def _wrapped(name: str) -> bool:
    """True when the first ``(`` of ``name`` closes at its last character, after an optional
    function name: ``(a)``, ``tanh(a + b)``, not ``(a) + (b)``."""
    start = name.find("(")
    if start < 0 or not name.endswith(")") or not (start == 0 or name[:start].isidentifier()):
        return False
    depth = 0
    for k in range(start, len(name)):
        depth += {"(": 1, ")": -1}.get(name[k], 0)
        if depth == 0:
            return k == len(name) - 1
    return False


# -- the traced graph ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Edge:
    """One edge of the backward pass: ``node`` passes part of its grad to operand ``slot``."""

    node: int                    # topo index of the node whose grad is passed back
    slot: int                    # operand position in node._prev (0 = a, 1 = b)
    child: int                   # topo index of that operand
    formula: str                 # the rule table's text for d(node)/d(operand), e.g. "b"
    local: float                 # its value (nan where it is undefined)
    upstream: float | None       # the node's grad (None: no grads to show)
    contribution: float | None   # upstream * local
    before: float | None         # the operand's running total before this edge
    total: float | None          # ... and after it
    count: int                   # how many contributions the operand has received so far

    @property
    def id(self) -> str:
        return edge_id(self.node, self.slot)


@dataclass
class TracedGraph:
    """The graph under a root, read once (see the module docstring)."""

    values: list[Value]          # topological order: operands before their users
    names: list[str]             # one readable name per node (labels win)
    kinds: list[str]             # input, parameter, constant, intermediate or output
    edges: list[Edge]            # in backward's order: nodes from the root down, slots in order
    grads: list[float]           # d(root)/d(node) from a fresh pass, by topo index
    has_grad: bool               # whether the edges carry upstream grads and contributions
    stored: bool                 # True: upstreams are the stored .grad; False: the replay
    clusters: list[Cluster]      # module calls, by their output's topo index
    index: dict[Value, int] = field(repr=False)
    _by_node: dict[int, list[Edge]] = field(default_factory=dict, init=False, repr=False)
    _into: dict[int, list[Edge]] = field(default_factory=dict, init=False, repr=False)
    _owner: dict[int, int] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        for e in self.edges:
            self._by_node.setdefault(e.node, []).append(e)
            self._into.setdefault(e.child, []).append(e)
        self._owner = {j: k for k, c in enumerate(self.clusters) for j in c.members}

    @property
    def root(self) -> int:
        """The root's topo index (it comes last)."""
        return len(self.values) - 1

    @property
    def nodes(self) -> list[Value]:
        """The Values, in topological order."""
        return self.values

    def backward_order(self) -> range:
        """Topo indices in the order backward visits them: reverse topological, root first."""
        return range(len(self.values) - 1, -1, -1)

    def edges_of(self, i: int) -> list[Edge]:
        """The edges along which node ``i`` passes its grad to its operands, by slot."""
        return self._by_node.get(i, [])

    def incoming(self, i: int) -> list[Edge]:
        """The edges bringing node ``i`` gradient, in the order backward adds them."""
        return self._into.get(i, [])

    def owner(self) -> dict[int, int]:
        """The module call (position in ``clusters``) each node inside one belongs to (one
        shared dict, built with the trace: do not change it)."""
        return self._owner

    def layer_calls(self) -> list[LayerCall]:
        """Neuron clusters grouped into layer calls (see :func:`viz.clusters.layer_calls`)."""
        return layer_calls(self.values, self.clusters)

    def words(self, i: int, names: list[str] | None = None) -> dict[str, str]:
        """The words node ``i``'s rule uses (a, b, p, out) mapped to names in this graph."""
        names = self.names if names is None else names
        return operand_words(self.values[i], self.index, names)

    def expression(self, i: int, names: list[str] | None = None) -> str:
        """Node ``i`` as its rule writes it, in operand names: ``a * b``."""
        return rule_text(self.values[i].rule.math, self.words(i, names))

    def rule(self, e: Edge, names: list[str] | None = None) -> str:
        """Edge ``e``'s local derivative as a rule in names: ``b`` reads ``c``."""
        return rule_text(e.formula, self.words(e.node, names))

    def largest(self) -> float:
        """The largest finite |contribution| on any edge, 0 if there is none."""
        return max((abs(e.contribution) for e in self.edges
                    if e.contribution is not None and math.isfinite(e.contribution)), default=0.0)


def operand_words(node: Value, index: dict[Value, int], names: list[str]) -> dict[str, str]:
    """The words a node's rule uses (a, b, p, out) mapped to ``names``, operands grouped."""
    i = index[node]
    out = {"out": grouped(names[i])} if i < len(names) else {}  # a node being named has none yet
    for letter, operand in zip("ab", node._prev):
        out[letter] = grouped(names[index[operand]])
    if node._p is not None:
        out["p"] = fmt(node._p, 6)
    return out


def _locals(v: Value, i: int, strict: bool) -> tuple[float, ...]:
    try:
        return v.local_grads()
    except (ArithmeticError, ValueError) as err:
        if strict:
            raise type(err)(f"local derivative of the {v._op!r} node {node_id(i)}: {err}") from err
        # e.g. d(a**b)/db = out*log(a) for a < 0: undefined; backward itself would raise
        return (math.nan,) * len(v._prev)


def trace(root: Value, *, params: Iterable[Value] | None = None, stored: bool = False,
          grads: bool | None = None, strict: bool = True) -> TracedGraph:
    """Read the graph under ``root`` once (see the module docstring).

    ``stored=False`` (explain, the stepper, practice): edges carry the replayed pass from
    seed 1. ``stored=True`` (draw_graph): edges carry each node's stored ``.grad`` as the
    upstream grad, when ``grads`` is True, or when it is None and backward has run (read as
    ``root.grad != 0``: backward() always leaves a non-zero grad on its root).
    ``strict``: raise on an undefined local derivative (as backward would), else draw nan.
    Parameters are ``params`` if given, else the leaves inside module clusters and leaves
    named as nn names parameters; other non-constant leaves are inputs.
    """
    if not isinstance(root, Value):
        raise TypeError(f"expected the Value to differentiate, got {type(root).__name__}")
    values = topo_order(root)
    index = {v: i for i, v in enumerate(values)}
    clusters = find_clusters(values)
    owner = {j: c.name for c in clusters for j in c.members}
    names = node_names(values, owner, lambda i, ns: operand_expression(values[i], index, ns))
    if params is not None:
        pset = set(params)
    else:
        pset = {values[j] for c in clusters for j in c.params}
        pset.update(v for v in values if v.is_leaf and looks_like_parameter(v.label))
    kinds = [_kind(v, root, pset) for v in values]
    has_grad = (root.grad != 0.0 if grads is None else grads) if stored else True
    replay = [0.0] * len(values)
    replay[-1] = 1.0
    running: list[float] = [0.0] * len(values)
    counts = [0] * len(values)
    edges: list[Edge] = []
    for i in range(len(values) - 1, -1, -1):  # backward's order: reverse topological
        v = values[i]
        if v.is_leaf:
            continue
        locals_ = _locals(v, i, strict)
        texts = local_texts(v)
        up = (v.grad if stored else replay[i]) if has_grad else None
        for slot, (child, local) in enumerate(zip(v._prev, locals_)):
            c = index[child]
            replay[c] += local * replay[i]
            counts[c] += 1
            if up is None:
                edges.append(Edge(i, slot, c, texts[slot], local, None, None, None, None, counts[c]))
                continue
            contribution = local * up
            before = running[c]
            running[c] = before + contribution
            edges.append(Edge(i, slot, c, texts[slot], local, up, contribution, before, running[c],
                              counts[c]))
    return TracedGraph(values, names, kinds, edges, replay, has_grad, stored, clusters, index)


_WRITTEN = ("neg", "pow", "rpow")  # unary ops written as operators (-a, a**3, 2**a), not calls


def operand_expression(v: Value, index: dict[Value, int], names: list[str]) -> str:
    """``v`` written over ``names`` as Python would: ``a*b``, ``-a``, ``a**3``, ``tanh(n)``."""
    if len(v._prev) == 1 and v.rule.name not in _WRITTEN:
        inner = names[index[v._prev[0]]]
        if inner.startswith("(") and _wrapped(inner):
            inner = inner[1:-1]  # tanh(a+b), not tanh((a+b))
        return f"{v.rule.name}({inner})"
    return grouped(rule_text(v.rule.math.replace(" ", ""), operand_words(v, index, names)))


def _kind(v: Value, root: Value, params: set[Value]) -> str:
    """The root is the output; a leaf is a constant, a parameter or an input."""
    if v is root:
        return "output"
    if not v.is_leaf:
        return "intermediate"
    if v.is_constant:
        return "constant"
    return "parameter" if v in params else "input"

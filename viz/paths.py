"""The chain rule as a sum over paths, and forward mode beside reverse mode.

``draw_paths(root, leaf)``: every path from ``leaf`` up to ``root``, each with the product of
the local derivatives along it; their sum is d(root)/d(leaf), which is checked against the
backward pass and the check is shown. The number of paths can grow exponentially with depth
(a value used twice at each of n levels has 2**n), so past ``max_paths`` only the first are
drawn, with a note: backward computes the same sum without listing the paths, by factoring
it: each node's grad is the sum over its users, computed once and reused by every path below.

``draw_modes(root, wrt)``: the graph with two numbers on every node: the tangent
d(node)/d(wrt) (forward mode, ``autograd.jvp``'s pass) and the adjoint d(root)/d(node)
(reverse mode, ``backward``'s pass). They meet at the ends: the root's tangent and ``wrt``'s
adjoint are both d(root)/d(wrt).
"""

from __future__ import annotations

import math

from chainrule.autograd import Value, topo_order
from chainrule.autograd.forward import forward_tangents

from .checks import check_count, check_rankdir, check_root, check_text
from .drawing import SUM_TOLERANCE, Builder, emit, new_graph, note_line
from .escape import dot_quote, html_label, label_text, record_text
from .graph import edge_text, scalar_view, view_names
from .render import Graph, too_large
from .style import contribution_colour, fmt, wrap
from .trace import TracedGraph, node_id, path_edge_id, path_end_id, path_gap_id, path_node_id, trace

__all__ = ["draw_paths", "draw_modes", "paths", "count_paths"]

NOTE_TEXT = 2000
MAX_STEPS = 24  # edges of a path drawn; past it the middle ones are one box


def count_paths(t: TracedGraph, leaf: int) -> list[int]:
    """For each node, how many paths lead from ``leaf`` up to it (an edge per operand slot)."""
    count = [0] * len(t.values)
    count[leaf] = 1
    for i in range(leaf + 1, len(t.values)):  # operands come before their users
        count[i] = sum(count[e.child] for e in t.edges_of(i))
    return count


def paths(t: TracedGraph, leaf: int, limit: int | None = None) -> list[list]:
    """The paths from ``leaf`` to the root as lists of edges (leaf's edge first), in backward's
    order of edges, at most ``limit`` of them."""
    count = count_paths(t, leaf)
    found: list[list] = []
    stack = [(t.root, [])]
    while stack and (limit is None or len(found) < limit):
        i, below = stack.pop()
        if i == leaf:
            found.append(list(reversed(below)))
            continue
        for e in reversed(t.edges_of(i)):  # pushed in reverse, so slot 0 is explored first
            if count[e.child]:
                stack.append((e.child, below + [e]))
    return found


def draw_paths(root: Value, leaf: Value, *, max_paths: int = 16, rankdir: str = "LR",
               format: str = "svg") -> Graph:
    """Every path from ``leaf`` to ``root`` with its product of local derivatives, and their
    sum checked against the backward pass (see the module docstring)."""
    check_root(root, "draw_paths")
    if not isinstance(leaf, Value):
        raise TypeError(f"draw_paths(leaf): leaf must be a Value in root's graph, got {type(leaf).__name__}")
    check_count(max_paths, "max_paths", "draw_paths")
    check_rankdir(rankdir, "draw_paths")
    check_text(format, "format", "draw_paths")
    t = trace(root)
    if leaf not in t.index:
        raise ValueError("draw_paths(leaf): leaf is not in the graph under root")
    j = t.index[leaf]
    total_paths = count_paths(t, j)[t.root]
    shown = paths(t, j, max_paths)
    g = new_graph(rankdir, format)
    # Inside a module a node is titled by its module on one line and its short name on the
    # next, and edges use the short names (the boxes beside them say whose): a path through
    # an MLP is dozens of steps long, and full names made each step as wide as three.
    home = {i: c.name for c in t.clusters for i in c.members}
    short = view_names(t, True)
    products = []
    for p, path in enumerate(shown):
        product = 1.0
        for e in path:
            product *= e.local
        products.append(product)
        chain = [j] + [e.node for e in path]
        # a long path (a sum over 16 neurons is 16 steps; an L2 penalty over every parameter,
        # hundreds) keeps its first and last steps, the rest in one box with their product
        keep = set(range(len(chain)))
        if len(path) > MAX_STEPS:
            half = MAX_STEPS // 2
            keep = set(range(half + 1)) | set(range(len(chain) - half - 1, len(chain)))
        for k, i in enumerate(chain):
            if k not in keep:
                continue
            nid = path_node_id(p, k)
            title = t.names[i] if t.names[i] == home.get(i, t.names[i]) else f"{home[i]}\n{short[i]}"
            g.body.append(f'\t{nid} [id="{nid}" label={dot_quote(record_text(title))} shape=box '
                          f'style=rounded fontsize=10]\n')
        for k, e in enumerate(path):
            if k in keep and k + 1 in keep:
                label = html_label(label_text(f"∂{short[e.node]}/∂{short[e.child]} = {fmt(e.local)}"))
                g.body.append(f'\t{path_node_id(p, k)} -> {path_node_id(p, k + 1)} '
                              f'[id="{path_edge_id(p, k)}" label={label} fontsize=9]\n')
        if len(keep) < len(chain):
            first, last = half, len(chain) - half - 1  # the kept nodes on each side of the gap
            inside = math.prod(e.local for e in path[first:last])
            gap = path_gap_id(p)
            text = f"… {last - first} steps, local derivatives multiplying to {fmt(inside)} …"
            g.body.append(f'\t{gap} [id="{gap}" shape=plain fontsize=10 '
                          f'label={dot_quote(record_text(text))}]\n')
            g.body.append(f"\t{path_node_id(p, first)} -> {gap} [style=dotted]\n")
            g.body.append(f"\t{gap} -> {path_node_id(p, last)} [style=dotted]\n")
        text = dot_quote(record_text(f"product {fmt(product)}"))
        g.body.append(f'\t{path_end_id(p)} [id="{path_end_id(p)}" shape=plain label={text} '
                      f'fontcolor="{contribution_colour(product)}"]\n')
        g.body.append(f'\t{path_node_id(p, len(chain) - 1)} -> {path_end_id(p)} '
                      f'[style=dotted arrowhead=none]\n')
    want = t.grads[j]
    root_name, leaf_name = t.names[t.root], t.names[j]
    if total_paths == 0:
        note = f"no path leads from {leaf_name} to {root_name}: d{root_name}/d{leaf_name} = 0"
    elif len(shown) == total_paths:
        got = math.fsum(products)
        ok = got == want or math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12)
        terms = " + ".join(fmt(x) for x in products[:8]) + (" + …" if len(products) > 8 else "")
        note = (f"d{root_name}/d{leaf_name} = sum over the {total_paths} path(s) of the products of local "
                f"derivatives = {terms} = {fmt(got)}; the backward pass gives {fmt(want)} "
                + ("(equal: checked)" if ok else "(DIFFERENT: the check failed)"))
    else:
        note = (f"{total_paths} paths lead from {leaf_name} to {root_name}: the first {len(shown)} are drawn "
                f"(max_paths={max_paths}). Their sum is d{root_name}/d{leaf_name} = {fmt(want)}; backward "
                f"gets it without listing them, by factoring the sum: each node's grad is summed once "
                f"over its users and reused by every path below it ({len(t.edges)} edge visits instead "
                f"of {total_paths} paths)")
    g.body.append(note_line([note], NOTE_TEXT))
    return g


def path_sum(root: Value, leaf: Value) -> tuple[float, int]:
    """The sum over every path from ``leaf`` to ``root`` of the product of local derivatives,
    and the number of paths (all of them listed: exponential in the worst case)."""
    t = trace(root)
    if leaf not in t.index:
        return 0.0, 0  # not in the graph: no path, no slope
    found = paths(t, t.index[leaf])
    return math.fsum(math.prod(e.local for e in path) for path in found), len(found)


def draw_modes(root: Value, wrt: Value, *, rankdir: str = "LR", format: str = "svg",
               max_nodes: int | None = 400) -> Graph:
    """Forward mode beside reverse mode on the graph under ``root`` (see the module docstring).

    A graph of more than ``max_nodes`` value and op nodes is not laid out (dot would take
    many seconds and the numbers would be unreadable): the picture is a note saying so and
    what to draw instead; ``max_nodes=None`` draws it anyway.
    """
    check_root(root, "draw_modes")
    if not isinstance(wrt, Value):
        raise TypeError(f"draw_modes(wrt): wrt must be a Value in root's graph, got {type(wrt).__name__}")
    check_rankdir(rankdir, "draw_modes")
    check_text(format, "format", "draw_modes")
    check_count(max_nodes, "max_nodes", "draw_modes", none=True)
    nodes = topo_order(root)  # counted before tracing, which costs seconds on a batch's graph
    if wrt not in set(nodes):
        raise ValueError("draw_modes(wrt): wrt is not in the graph under root")
    size = len(nodes) + sum(1 for v in nodes if not v.is_leaf)
    if max_nodes is not None and size > max_nodes:
        return too_large(f"draw_modes: {size} value and op nodes, more than max_nodes={max_nodes}: not "
                         f"drawn (dot would take many seconds). Compare the two modes on a smaller graph "
                         f"(one neuron, a sub-expression), or pass max_nodes=None to draw this one.", format)
    t = trace(root)
    tangent = forward_tangents(root, wrt, 1.0)
    names = view_names(t, True)
    x, r = t.names[t.index[wrt]], t.names[t.root]

    def rows(i: int) -> str:
        return (f"forward d·/d{x} = {fmt(tangent[t.values[i]])}\n"
                f"reverse d{r}/d· = {fmt(t.grads[i])}")

    owner = t.owner()
    g = new_graph(rankdir, format)
    b = Builder()
    scalar_view(t, b, lambda i: ("c", owner[i]) if i in owner else None, lambda i: True, node_id, "label",
                names, set(), rows, lambda e: wrap(edge_text(t, e, names, contribution=False)), colours=False)
    emit(g, b, t, t.clusters, "c")
    fwd, rev = tangent[root], t.grads[t.index[wrt]]
    same = fwd == rev or math.isclose(fwd, rev, rel_tol=SUM_TOLERANCE, abs_tol=1e-12)
    note = (f"forward mode (one pass per input) gives d(every node)/d{x}; reverse mode (one pass per "
            f"output) gives d{r}/d(every node). They meet at d{r}/d{x}: forward {fmt(fwd)}, reverse "
            f"{fmt(rev)}{' (equal)' if same else ' (DIFFERENT)'}. One loss and many parameters: "
            f"reverse mode gets every gradient in one pass, forward mode would need one pass per parameter.")
    g.body.append(note_line([note], NOTE_TEXT))
    return g

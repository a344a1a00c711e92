"""The compiled program beside the stepper: each backward step's line(s) of straight-line code.

``autograd.compiler.listing(root)`` writes the graph as ``autograd.compile`` does (the chain
rule as one statement per contribution, ``d_b += a * d_c``) and records which line adds the
contribution of each operand slot of each node. A stepper frame is one node of backward order
passing its grad to its operands, so its lines are that node's entries in the record: the
seed line first at the root, and for a leaf the line that returns its finished gradient.
Nothing here reads the program's text to find a line.
"""

from __future__ import annotations

from chainrule.autograd import CompileError
from chainrule.autograd.compiler import Listing, listing

from .escape import html_text
from .trace import TracedGraph

__all__ = ["program_of", "code_frames", "program_html"]


def program_of(t: TracedGraph, where: str) -> Listing:
    """The compiled program of the traced graph's root; CompileError naming ``where`` if it has none."""
    try:
        return listing(t.values[t.root])
    except CompileError as err:
        raise CompileError(f"{where}(compiled=True): {err}") from None


def code_frames(t: TracedGraph, program: Listing) -> list[dict]:
    """Per node in backward order: ``code`` ([line number, line] pairs) and ``where`` (which
    node each program variable in those lines is, when its name differs from the picture's)."""
    node = {v: k for k, v in enumerate(program.values)}  # Values hash by identity
    out = []
    for n, i in enumerate(t.backward_order()):
        k = node[t.values[i]]
        numbers = [program.seed] if n == 0 else []
        numbers += [program.backward[(k, e.slot)] for e in t.edges_of(i) if (k, e.slot) in program.backward]
        if t.values[i].is_leaf and not t.values[i].is_constant:
            numbers.append(program.returns)
        shown = [i] + [e.child for e in t.edges_of(i)]
        renamed = []
        for j in dict.fromkeys(shown):
            name = program.names[node[t.values[j]]]
            if not t.values[j].is_constant and name != t.names[j]:
                renamed.append(f"{name} is {t.names[j]}")
        if not numbers:  # a constant; or a node no leaf but constants reaches, which has no d_ either
            what = "the constant" if t.values[i].is_constant else "the node"
            renamed = [f"no line: the program computes no gradient for {what} {t.names[i]}"]
        out.append({"code": [[m, program.line(m)] for m in numbers], "where": "; ".join(renamed)})
    return out


def program_html(program: Listing) -> str:
    """The panel's part: this step's lines (filled in by stepper.js) and the whole program,
    folded, one ``<span data-line=n>`` per line so the current ones can be marked."""
    lines = program.source.rstrip("\n").split("\n")
    spans = "".join(f'<span data-line="{n}">{n:>{len(str(len(lines)))}}  {html_text(text)}</span>'
                      for n, text in enumerate(lines, start=1))
    return ('<div class="crs-code-box">\n'
            '  <p class="crs-code-head">This step in the compiled program '
            "(<code>autograd.compile</code>, the chain rule as straight-line code):</p>\n"
            '  <pre class="crs-code"></pre>\n'
            '  <p class="crs-where"></p>\n'
            f'  <details class="crs-program"><summary>the whole program ({len(lines)} lines)</summary>'
            f"<pre>{spans}</pre></details>\n"
            "</div>")

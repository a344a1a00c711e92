"""``chainrule graph EXPR NAME=VALUE ...``: draw an expression's graph after backward."""

from __future__ import annotations

import argparse
import math

from chainrule import viz

from ..expr import ResultError, build, parse_bindings
from .common import DOT_NOTE, Failure, output_path


def run(args: argparse.Namespace) -> int:
    """Build, differentiate and draw ``args.expr``; print the chain rule with ``--explain``."""
    out, leaves = build(args.expr, parse_bindings(args.bindings))
    out.backward()
    for name, leaf in leaves.items():
        if not math.isfinite(leaf.grad):
            raise ResultError(f"the gradient d/d{name} is {leaf.grad!r}, beyond a float")
    path, fmt = output_path(args.out, args.format, "graph")
    picture = viz.draw_graph(out, clusters=False, collapse=False)
    if fmt == "dot":
        written = viz.save_source(picture, path)
    else:
        try:
            written = viz.render(picture, path)
        except viz.GraphvizNotFound:
            raise Failure(f"{DOT_NOTE}, so no {fmt} file; write the graph's DOT source instead "
                          "with --format dot") from None
    print(f"{args.expr.strip()} = {out.data:.6g}")
    for name, leaf in leaves.items():
        print(f"  d/d{name} = {leaf.grad:.6g}")
    if args.explain:
        print()
        print(viz.explain(out))
    print(f"wrote {written}")
    if args.page:
        print(f"wrote {viz.write_stepper(out, args.page, title=args.expr.strip())}")
    return 0

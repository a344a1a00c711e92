"""``chainrule graph EXPR NAME=VALUE ...``: draw an expression's graph after backward."""

from __future__ import annotations

import argparse

from chainrule import viz

from ..expr import build, parse_bindings
from .common import output_path


def run(args: argparse.Namespace) -> int:
    """Build, differentiate and draw ``args.expr``; print the chain rule with ``--explain``."""
    out, leaves = build(args.expr, parse_bindings(args.bindings))
    out.backward()
    path, fmt = output_path(args.out, args.format, "graph")
    picture = viz.draw_graph(out, clusters=False, collapse=False)
    written = viz.render(picture, path) if fmt != "dot" else viz.save_source(picture, path)
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

"""The ``chainrule`` command."""

from __future__ import annotations

import argparse
import sys

from autograd import Value


def _demo(args: argparse.Namespace) -> int:
    a, b, c = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c")
    out = (a * b + c).tanh()
    out.label = "out"
    out.backward()
    print(f"out = tanh(a*b + c) = {out.data:.6f}")
    for v in (a, b, c):
        print(f"d(out)/d({v.label}) = {v.grad:.6f}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="chainrule", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="differentiate a small expression and print its gradients")
    args = parser.parse_args(argv)
    return {"demo": _demo}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())

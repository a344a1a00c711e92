"""The ``chainrule`` command: demo, graph, practice and train.

Errors are one line on stderr (``--debug`` shows the traceback): exit status 2 for a usage
error (a bad argument or expression), 1 when the command ran and could not finish (a result
beyond a float, a diverged training run, a missing ``dot``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from chainrule.nn import ACTIVATIONS

from .commands import demo, graph, practice, train
from .commands.common import Failure, UsageError
from .expr import FUNCTIONS, ExprError, ResultError

EXAMPLES = {
    "demo": "example:\n  chainrule demo --out chainrule-demo",
    "graph": (
        "examples:\n"
        '  chainrule graph "tanh(a*b + c)" a=2 b=-3 c=10\n'
        '  chainrule graph "log(x) * x ** 2" x=3 --format png --out x.png --explain'
    ),
    "practice": practice.EXAMPLE,
    "train": "example:\n  chainrule train --data moons --hidden 16,16 --activation relu --steps 100 "
             "--lr 0.05",
}


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line naming the command, not the usage block."""

    def error(self, message: str):  # type: ignore[override]
        print(f"{self.prog}: {message} (see {self.prog} --help)", file=sys.stderr)
        self.exit(2)


def _parser() -> _Parser:
    top = _Parser(
        prog="chainrule",
        description="A scalar autograd engine that makes backpropagation visible.",
        epilog="examples:\n  chainrule demo\n  chainrule graph \"tanh(a*b + c)\" a=2 b=-3 c=10 --explain\n"
        "  chainrule train --data moons --steps 100\n"
        "Run 'chainrule COMMAND --help' for a command's options.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument("--debug", action="store_true", help="show the full traceback on errors")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, summary: str, description: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=summary, description=description, epilog=EXAMPLES[name],
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        # also after the command name; SUPPRESS keeps the top-level value when it is absent here
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        return p

    p = command(
        "demo", "train the tutorial's network and write its pictures",
        "Train the tutorial's 3-4-1 sigmoid network for 1500 iterations, print its "
        "predictions, and write the weights, the chain rule of one example as text, its "
        "step-through page and its graph, the network view, the training page and the loss curve.",
    )
    p.add_argument("--out", default="chainrule-demo", help="folder to write into (default: %(default)s)")
    p.add_argument("--iterations", type=int, default=1500, help="training steps (default: %(default)s)")
    p.add_argument("--seed", type=int, default=1, help="seed of the initial weights (default: %(default)s)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    p = command(
        "graph", "draw the graph of an expression",
        "Build EXPR on Values, run backward and draw the graph with its gradients. EXPR may use "
        f"numbers, the given names, + - * / ** and the functions {' '.join(sorted(FUNCTIONS))}.",
    )
    p.add_argument("expr", help="the expression, e.g. 'tanh(a*b + c)'")
    p.add_argument("bindings", nargs="*", metavar="NAME=VALUE", help="a value for each name")
    p.add_argument("--out", help="file to write (default: graph.FORMAT)")
    p.add_argument("--format", choices=("svg", "png", "pdf", "dot"), help="default: from --out, else svg")
    p.add_argument("--explain", action="store_true", help="also print the chain rule, one line per edge")
    p.add_argument("--page", metavar="HTML", help="also write the backward step-through page")

    practice.arguments(command("practice", practice.SUMMARY, practice.DESCRIPTION))

    p = command(
        "train", "fit an MLP to a built-in dataset",
        "Train an MLP on a built-in dataset with a progress bar; write the loss curve, "
        "the decision boundary (2-D data) and the weights.",
    )
    names = ",".join(train.DATASETS)
    p.add_argument("--data", default="moons", type=train.dataset, metavar=f"{{{names}}}",
                   help="dataset (default: %(default)s; spiral, moon, ... are accepted too)")
    p.add_argument("--samples", type=int, default=100, help="points to generate (default: %(default)s)")
    p.add_argument("--hidden", default="16,16", help="hidden layer sizes (default: %(default)s)")
    p.add_argument("--activation", default="relu", choices=sorted(ACTIVATIONS),
                   help="hidden activation (default: %(default)s)")
    p.add_argument("--optimizer", default="adam", choices=("sgd", "adam"), help="(default: %(default)s)")
    p.add_argument("--steps", type=int, default=100, help="full-batch steps (default: %(default)s)")
    p.add_argument("--lr", type=float, default=0.05, help="learning rate (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="seed of data and weights (default: %(default)s)")
    p.add_argument("--out", default="chainrule-train", help="folder to write into (default: %(default)s)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return top


COMMANDS = {"demo": demo.run, "graph": graph.run, "practice": practice.run, "train": train.run}


def _expression_first(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    """Let ``chainrule graph "-a*b" a=2 b=3`` work: argparse would read ``-a*b`` as an option.

    After ``graph``, a word starting with ``-`` that is none of graph's options (nor an option's
    value) is part of the expression; argparse takes a word containing a space as positional,
    so it is passed on with a leading space, which the expression parser strips.
    """
    at = next((i for i, word in enumerate(argv) if not word.startswith("-")), len(argv))
    if argv[at:at + 1] != ["graph"]:
        return argv
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    actions = sub.choices["graph"]._option_string_actions
    out, expect_value = argv[:at + 1], False
    for i, word in enumerate(argv[at + 1:], start=at + 1):
        if word == "--":
            return out + argv[i:]
        name = word.split("=", 1)[0]
        option_like = (word.startswith("-") and len(word) > 1 and name not in actions
                       and not word.startswith("--"))
        if expect_value or not option_like:
            expect_value = (not expect_value and name in actions and "=" not in word
                            and actions[name].nargs is None and actions[name].const is None)
            out.append(word)
        else:
            out.append(" " + word)
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the command line on ``argv`` (default: sys.argv[1:]); returns the exit status."""
    parser = _parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = parser.parse_args(_expression_first(parser, argv))
    except SystemExit as done:  # --help, or a usage error already printed as one line
        return int(done.code or 0)
    started = time.perf_counter()
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("chainrule: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader stopped reading (chainrule ... | head): stop quietly
        try:  # so that flushing stdout at exit does not fail again
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 1
    except Exception as err:  # one line for the user; the traceback only on request
        if args.debug:
            raise
        where = f"chainrule {args.command}"
        message = str(err).strip() or type(err).__name__
        if isinstance(err, (ExprError, UsageError, Failure)):
            print(f"{where}: {message}", file=sys.stderr)
        else:
            first = message.splitlines()[0]
            print(f"{where}: {type(err).__name__}: {first}", file=sys.stderr)
        return 1 if isinstance(err, (ResultError, Failure)) else 2
    finally:
        if args.debug:
            print(f"[{time.perf_counter() - started:.2f} s]", file=sys.stderr)

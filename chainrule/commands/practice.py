"""``chainrule practice EXPR NAME=VALUE ...``: the backward pass as an exercise, in the terminal.

The same questions as the practice page (:mod:`chainrule.viz.exercise`), asked on stdin:
the graph is printed with its forward values, then each local derivative and gradient is
asked in backward order. A number answers (``0.5``, ``-3/4``); ``h`` shows the rule, ``r``
reveals the answer, ``s`` skips, ``q`` stops.
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from chainrule.autograd import Value
from chainrule.viz import LESSONS, lesson
from chainrule.viz.exercise import ASK, MAX_DIGITS, Exercise, exercise, parse_answer
from chainrule.viz.trace import grouped

from ..expr import build, parse_bindings
from .common import UsageError

SUMMARY = "practise the chain rule on an expression's graph, in the terminal"
DESCRIPTION = ("Build EXPR on Values (as 'chainrule graph' does) or take a built-in exercise by "
               f"name ({', '.join(LESSONS)}), print its forward values, then ask each local "
               "derivative and each gradient in backward order. Answer with a number (0.5, -3/4); "
               "h shows the rule, r reveals the answer, s skips, q stops.")
EXAMPLE = ("examples:\n"
           '  chainrule practice "tanh(a*b + c)" a=2 b=-3 c=10\n'
           "  chainrule practice neuron --ask grad\n"
           "  chainrule practice --list")
KEYS = "h = hint, r = reveal, s = skip, q = quit"


def arguments(p: argparse.ArgumentParser) -> None:
    """The command's arguments, on the parser the CLI made for it."""
    p.add_argument("expr", nargs="?", help="an expression, e.g. 'tanh(a*b + c)', or a built-in exercise")
    p.add_argument("bindings", nargs="*", metavar="NAME=VALUE", help="a value for each name")
    p.add_argument("--ask", default="both", choices=ASK, help="what to ask (default: %(default)s)")
    p.add_argument("--digits", type=int, default=4,
                   help="significant digits of the numbers shown (default: %(default)s)")
    p.add_argument("--list", action="store_true", help="list the built-in exercises and stop")


def graph_text(ex: Exercise) -> list[str]:
    """One line per value in forward order: ``n = (x1*w1 + x2*w2) + b = 0.8814``."""
    t = ex.trace
    lines = []
    for i, v in enumerate(t.nodes):
        if v.is_constant:
            continue
        if v.is_leaf:
            lines.append(f"  {grouped(t.names[i])} = {ex.show(v.data)}")
        else:
            lines.append(f"  {grouped(t.names[i])} = {t.expression(i)} = {ex.show(v.data)}")
    return lines


def ask(ex: Exercise, stdin: TextIO, stdout: TextIO) -> int:
    """Ask every question of ``ex`` on ``stdin``; 0 when all were answered, 1 if input ended
    or the learner quit."""
    say = lambda text: print(text, file=stdout, flush=True)  # noqa: E731 - a short local helper
    questions = ex.questions
    root = grouped(ex.trace.names[-1])
    say(f"The graph, forward (numbers to {ex.digits} significant digits):")
    for line in graph_text(ex):
        say(line)
    say(f"Going backward from {root}: {root}.grad = 1. {len(questions)} questions; "
        f"answer with a number (0.5, -3/4), or {KEYS}.")
    right = revealed = skipped = 0
    number = 0

    def score() -> str:
        extra = "".join(f", {n} {w}" for n, w in ((revealed, "revealed"), (skipped, "skipped")) if n)
        return f"score {right} / {len(questions)}{extra}"

    for it in ex.items:
        if not it.asked:
            say(f"  given: {it.answer}")
            continue
        number += 1
        say(f"[{number}/{len(questions)}] {it.prompt}")
        while True:
            stdout.write("> ")
            stdout.flush()
            line = stdin.readline()
            if not line:
                say(f"end of input: stopped at question {number} of {len(questions)}; {score()}")
                return 1
            text = line.strip()
            if text == "q":
                say(f"stopped at question {number} of {len(questions)}; {score()}")
                return 1
            if text == "h":
                say(f"rule: {it.hint}")
                continue
            if text in ("r", "s"):
                if text == "r":
                    revealed += 1
                    say(f"revealed: {it.answer}")
                else:
                    skipped += 1
                    say(f"skipped: {it.answer}")
                break
            try:
                value = parse_answer(text)
            except ValueError as err:
                say(f"{err}; type a number such as -0.25 or 1/4, or {KEYS}")
                continue
            ok, why = it.check(value)
            if ok:
                right += 1
                say(f"right: {it.answer}")
                break
            say(f"not yet: {why}. Try again, or r to reveal.")
    full = ", a full score" if right == len(questions) else ""
    say(f"done: {score()}{full}")
    return 0


def run(args: argparse.Namespace, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    """List the exercises, or build the graph and ask its questions on stdin."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    if args.list:
        width = max(map(len, LESSONS))
        for name, (what, _) in LESSONS.items():
            print(f"  {name:<{width}}  {what}", file=stdout)
        return 0
    if args.expr is None:
        raise UsageError("give an expression and its values, e.g. \"tanh(a*b + c)\" a=2 b=-3 c=10, "
                         f"or a built-in exercise: {', '.join(LESSONS)}")
    if not 1 <= args.digits <= MAX_DIGITS:
        raise UsageError(f"--digits {args.digits}: must be between 1 and {MAX_DIGITS}")
    root: Value
    if args.expr.strip() in LESSONS and not args.bindings:
        root = lesson(args.expr.strip())
    else:
        root, _ = build(args.expr, parse_bindings(args.bindings))
    ex = exercise(root, args.ask, args.digits)
    if not ex.questions:
        raise UsageError(f"{args.expr.strip()!r} has no operation on a named value to practise on")
    return ask(ex, stdin, stdout)

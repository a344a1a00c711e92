"""Where chainrule spends its time on the benchmark graph: forward, topological order, chain rule, GC.

    .venv/bin/python benchmarks/profile_engine.py             # phase timings, GC on and off
    .venv/bin/python benchmarks/profile_engine.py --cprofile  # plus cProfile's top functions

Needs only chainrule (runs in the dev .venv or .bench-venv). Timings are best of ``--reps``;
the time inside the cyclic collector is measured with ``gc.callbacks``.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import math
import pstats
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_engine import build_graph, make_spec  # noqa: E402

from chainrule import autograd  # noqa: E402
from chainrule.autograd import Value  # noqa: E402


class GCClock:
    """Total seconds and number of collections per generation, from gc's start/stop callbacks."""

    def __init__(self) -> None:
        self.seconds = [0.0, 0.0, 0.0]
        self.count = [0, 0, 0]
        self._start = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.seconds[info["generation"]] += time.perf_counter() - self._start
            self.count[info["generation"]] += 1


def phases(spec, gc_enabled: bool) -> dict[str, float]:
    """One forward + backward as the benchmark runs it, split into phases (seconds).

    ``topo_order`` is timed on a second, fresh graph: the first walk over a new graph is
    slower than a repeat (memory not yet in cache), and backward's own walk is a first one.
    """
    leaves = [Value(x) for x in spec.leaf_values]
    gc.collect()
    clock = GCClock()
    gc.callbacks.append(clock)
    if not gc_enabled:
        gc.disable()
    try:
        t0 = time.perf_counter()
        root = build_graph(spec, leaves)
        t1 = time.perf_counter()
        root.backward()
        t2 = time.perf_counter()
    finally:
        gc.enable()
        gc.callbacks.remove(clock)
    t3 = time.perf_counter()
    del root  # teardown by reference counting
    t4 = time.perf_counter()
    gc.collect()

    root = build_graph(spec, leaves)
    gc.collect()
    if not gc_enabled:
        gc.disable()
    try:
        t5 = time.perf_counter()
        order = autograd.topo_order(root)
        t6 = time.perf_counter()
        order = autograd.topo_order(root)
        t7 = time.perf_counter()
    finally:
        gc.enable()
    del order, root, leaves
    gc.collect()
    return {
        "forward (build graph)": t1 - t0,
        "backward": t2 - t1,
        "  topo_order, first walk": t6 - t5,
        "  chain rule (backward - topo_order)": (t2 - t1) - (t6 - t5),
        "  topo_order, repeated walk": t7 - t6,
        "forward + backward": t2 - t0,
        "teardown (untimed in bench)": t4 - t3,
        "GC during forward + backward": sum(clock.seconds),
        "gen0/gen1/gen2 collections": clock.count,
        "gen2 seconds": clock.seconds[2],
    }


def best(spec, gc_enabled: bool, reps: int) -> dict:
    """Per phase, the minimum over ``reps`` runs (collection counts are from the fastest run)."""
    runs = [phases(spec, gc_enabled) for _ in range(reps + 1)][1:]  # the first run warms up
    fastest = min(runs, key=lambda r: r["forward + backward"])
    out = {k: (min(r[k] for r in runs) if isinstance(v, float) else v) for k, v in fastest.items()}
    out["GC during forward + backward"] = fastest["GC during forward + backward"]
    out["gen2 seconds"] = fastest["gen2 seconds"]
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ops", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--cprofile", action="store_true", help="also print cProfile's top 15 by own time")
    args = parser.parse_args(argv)
    spec = make_spec(ops=args.ops)
    on, off = best(spec, True, args.reps), best(spec, False, args.reps)
    total = on["forward + backward"]
    print(f"chainrule on the benchmark graph: {spec.ops:,} ops, {spec.nodes:,} nodes, best of {args.reps}")
    print(f"  {'phase':<38}{'GC on ms':>10}{'share':>8}{'GC off ms':>11}{'ns/op':>8}")
    for key, value in on.items():
        if isinstance(value, float):
            share = f"{100 * value / total:.0f}%" if key != "forward + backward" else ""
            print(f"  {key:<38}{1e3 * value:>10.1f}{share:>8}{1e3 * off[key]:>11.1f}"
                  f"{1e9 * value / spec.ops:>8.0f}")
        else:
            print(f"  {key:<38}{str(value):>18}{str(off[key]):>11}")
    if args.cprofile:
        leaves = [Value(x) for x in spec.leaf_values]
        profiler = cProfile.Profile()
        profiler.enable()
        root = build_graph(spec, leaves)
        root.backward()
        profiler.disable()
        stream = io.StringIO()
        pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(15)
        print(stream.getvalue())
    return 0 if math.isfinite(total) else 1


if __name__ == "__main__":
    sys.exit(main())

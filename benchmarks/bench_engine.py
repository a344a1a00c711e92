"""Speed and memory of chainrule's engine against micrograd and PyTorch, measured in one run.

    bash benchmarks/setup.sh                              # once: .bench-venv with the peers
    .bench-venv/bin/python benchmarks/bench_engine.py     # full run (about a minute)
    .bench-venv/bin/python benchmarks/bench_engine.py --quick

The workload is a graph shaped like one layer of a network: each "neuron" sums ``fan_in``
products ``w * x`` of leaves drawn from a shared pool, then applies relu; the neuron outputs
are summed by a balanced pairwise tree. Every engine builds the same graph from the same
precomputed indices through the same Python loop, so the loop's own cost is identical.

The peers are imported only inside the functions that load them, so the graph builder and
the chainrule measurements also run in the dev environment (``tests/test_benchmarks_run.py``).
The last line printed is a one-line summary of every ratio.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import platform
import random
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

# Targets from issue 2, printed beside the figures (never asserted: timings vary by machine).
TARGET_GC_ON = 8.0
TARGET_GC_OFF = 2.5
TARGET_MEMORY = 0.25
TARGET_TORCH = 10.0


# -- the workload ----------------------------------------------------------------------------


@dataclass(frozen=True)
class GraphSpec:
    """A seeded description of the benchmark graph: leaf values and, per neuron, its index pairs."""

    leaf_values: tuple[float, ...]
    neurons: tuple[tuple[tuple[int, int], ...], ...]

    @property
    def ops(self) -> int:
        """Operations in the built graph: per neuron k products, k-1 sums and a relu; then the tree."""
        return sum(2 * len(terms) for terms in self.neurons) + len(self.neurons) - 1

    @property
    def nodes(self) -> int:
        """Every node of the built graph, leaves included."""
        return self.ops + len(self.leaf_values)


def make_spec(ops: int = 100_000, fan_in: int = 8, n_leaves: int = 1000, seed: int = 0) -> GraphSpec:
    """A graph of about ``ops`` operations (the neuron count is rounded), the same for a given seed."""
    rng = random.Random(seed)
    n_neurons = max(1, round((ops + 1) / (2 * fan_in + 1)))
    leaf_values = tuple(rng.uniform(-1.0, 1.0) for _ in range(n_leaves))
    neurons = tuple(
        tuple((rng.randrange(n_leaves), rng.randrange(n_leaves)) for _ in range(fan_in))
        for _ in range(n_neurons)
    )
    return GraphSpec(leaf_values, neurons)


def pairwise_sum(items: Sequence[Any]) -> Any:
    """Sum by a balanced tree of ``+``, log2(n) deep.

    A left-to-right sum would be a chain n deep, and micrograd's recursive topological sort
    fails with RecursionError beyond about a thousand levels, so the benchmark keeps the
    graph shallow to measure every engine on the same graph.
    """
    level = list(items)
    while len(level) > 1:
        paired = [level[i] + level[i + 1] for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def build_graph(spec: GraphSpec, leaves: Sequence[Any]) -> Any:
    """The forward pass: relu(sum of w*x) per neuron, summed pairwise. Works for any engine."""
    outs = []
    for terms in spec.neurons:
        i, j = terms[0]
        s = leaves[i] * leaves[j]
        for i, j in terms[1:]:
            s = s + leaves[i] * leaves[j]
        outs.append(s.relu())
    return pairwise_sum(outs)


# -- the engines -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Engine:
    """How to make a leaf, run backward and read numbers back, for one autograd library."""

    name: str
    leaf: Callable[[float], Any]
    backward: Callable[[Any], None]
    value: Callable[[Any], float]
    grad: Callable[[Any], float]


def chainrule_engine() -> Engine:
    """chainrule's ``autograd.Value``."""
    from chainrule.autograd import Value

    return Engine("chainrule", Value, lambda r: r.backward(), lambda v: v.data, lambda v: v.grad)


def micrograd_engine() -> Engine:
    """micrograd's ``Value`` as published on PyPI (installed by setup.sh)."""
    from micrograd.engine import Value

    return Engine("micrograd", Value, lambda r: r.backward(), lambda v: v.data, lambda v: v.grad)


def torch_engine(defaults: bool = False) -> Engine:
    """PyTorch on 0-dim tensors: float64 on one intra-op thread (the other engines use one
    core), or with ``defaults`` as a user writes it, ``torch.tensor(x, requires_grad=True)``
    (float32, torch's default threads). Make the default engine first: threads are global."""
    import torch

    if defaults:
        def leaf(x: float) -> Any:
            return torch.tensor(x, requires_grad=True)
    else:
        torch.set_num_threads(1)

        def leaf(x: float) -> Any:
            return torch.tensor(x, dtype=torch.float64, requires_grad=True)

    def grad(t: Any) -> float:
        return 0.0 if t.grad is None else t.grad.item()  # torch leaves no .grad on unused leaves

    name = "torch defaults" if defaults else "torch"
    return Engine(name, leaf, lambda r: r.backward(), lambda t: t.item(), grad)


# -- measurements ------------------------------------------------------------------------------


Clock = Callable[[], float]


def time_step(engine: Engine, spec: GraphSpec, gc_enabled: bool = True,
              clock: Clock = time.perf_counter) -> float:
    """Seconds for one forward + backward, with the cyclic collector on or off.

    The leaves are made before the clock starts and the graph is torn down after it stops
    (then collected), so each step starts from the same clean heap. Teardown is left out for
    every engine; that flatters micrograd, whose graphs can only be freed by the collector.
    """
    leaves = [engine.leaf(x) for x in spec.leaf_values]
    was_enabled = gc.isenabled()
    gc.collect()
    if not gc_enabled:
        gc.disable()
    try:
        start = clock()
        root = build_graph(spec, leaves)
        engine.backward(root)
        elapsed = clock() - start
    finally:
        if was_enabled:
            gc.enable()
    del root, leaves
    gc.collect()
    return elapsed


def best_times(engines: Sequence[Engine], spec: GraphSpec, reps: int, gc_enabled: bool = True,
               clock: Clock = time.perf_counter) -> dict:
    """Best of ``reps`` forward + backward times per engine, after one warm-up each.

    Repetitions alternate between engines, so drift in the machine's speed hits them alike.
    """
    for engine in engines:
        time_step(engine, spec, gc_enabled, clock)
    best = {engine.name: math.inf for engine in engines}
    for _ in range(reps):
        for engine in engines:
            best[engine.name] = min(best[engine.name], time_step(engine, spec, gc_enabled, clock))
    return best


def bytes_per_node(engine: Engine, spec: GraphSpec) -> tuple[float, float]:
    """Bytes traced by tracemalloc per graph node (leaves included): after forward, after backward."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        leaves = [engine.leaf(x) for x in spec.leaf_values]
        root = build_graph(spec, leaves)
        forward = tracemalloc.get_traced_memory()[0] - base
        engine.backward(root)
        after_backward = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    del root, leaves
    gc.collect()
    return forward / spec.nodes, after_backward / spec.nodes


def teardown(engine: Engine, spec: GraphSpec) -> tuple[int, float]:
    """Objects that only the cyclic collector could free once the graph is dropped, and the
    seconds taken to drop the graph and collect them (reference counting does the rest)."""
    leaves = [engine.leaf(x) for x in spec.leaf_values]
    root = build_graph(spec, leaves)
    engine.backward(root)
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        del root, leaves
        found = gc.collect()
        elapsed = time.perf_counter() - start
    finally:
        if was_enabled:
            gc.enable()
    return found, elapsed


def check_agreement(reference: Engine, others: Sequence[Engine], spec: GraphSpec) -> int:
    """Raise unless every engine gets the reference's output and leaf gradients; returns leaves checked."""

    def run(engine: Engine) -> tuple[float, list[float]]:
        leaves = [engine.leaf(x) for x in spec.leaf_values]
        root = build_graph(spec, leaves)
        engine.backward(root)
        return engine.value(root), [engine.grad(leaf) for leaf in leaves]

    want_out, want_grads = run(reference)
    for engine in others:
        out, grads = run(engine)
        for what, got, want in [("output", out, want_out), *zip(
                (f"grad of leaf {i}" for i in range(len(grads))), grads, want_grads)]:
            if not math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12):
                raise AssertionError(
                    f"{engine.name} disagrees with {reference.name}: {what} {got!r} != {want!r}")
    return len(want_grads)


# -- report ------------------------------------------------------------------------------------


def machine() -> str:
    """Python version, OS, CPU model and core count, for the report's header."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (f"Python {platform.python_version()}, {platform.system()} {platform.machine()}, {cpu}, "
            f"{os.cpu_count()} cores")


def _row(name: str, a: str, b: str, ratio: str, target: str = "") -> str:
    return f"  {name:<30}{a:>14}{b:>14}{ratio:>10}   {target}".rstrip()


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a 10,000-op graph and fewer repetitions")
    parser.add_argument("--ops", type=int, help="graph size (default 100,000; 10,000 with --quick)")
    parser.add_argument("--reps", type=int, help="timed repetitions per engine (default 7; 3 with --quick)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--clock", choices=["perf_counter", "process_time"], default="perf_counter",
                        help="process_time counts only this process's CPU time: steadier on a busy machine")
    args = parser.parse_args(argv)
    ops = args.ops or (10_000 if args.quick else 100_000)
    reps = args.reps or (3 if args.quick else 7)
    torch_reps = max(2, reps // 2)  # each torch step takes seconds; its spread is small by comparison

    spec = make_spec(ops=ops, seed=args.seed)
    fan_in = len(spec.neurons[0])
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    print(f"chainrule engine benchmark, {stamp}")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    print(f"machine: {machine()}; load average {load}; gc thresholds {gc.get_threshold()}")
    print(f"graph: {spec.ops:,} ops = {len(spec.neurons):,} neurons x (relu of {fan_in} products summed)"
          f" + pairwise sum; {len(spec.leaf_values):,} shared leaves; seed {args.seed}")
    clock = getattr(time, args.clock)
    print(f"timing: forward + backward, best of {reps} (torch: {torch_reps}) after a warm-up, "
          f"time.{args.clock}")

    chainrule, micrograd = chainrule_engine(), micrograd_engine()
    checked = check_agreement(chainrule, [micrograd], make_spec(ops=5_000, seed=args.seed + 1))

    gc_on = best_times([chainrule, micrograd], spec, reps, gc_enabled=True, clock=clock)
    gc_off = best_times([chainrule, micrograd], spec, reps, gc_enabled=False, clock=clock)
    mem = {engine.name: bytes_per_node(engine, spec) for engine in (chainrule, micrograd)}
    drop = {engine.name: teardown(engine, spec) for engine in (chainrule, micrograd)}

    # torch is imported only now. Its ~150,000 objects join the heap that every full collection
    # walks, which slows a GC-on chainrule (or micrograd) run by more than half; a chainrule
    # user has no torch loaded, so the ratio uses chainrule's figure from before the import.
    heap_before = len(gc.get_objects())
    torch_user = torch_engine(defaults=True)
    heap_after = len(gc.get_objects())
    # float32 cannot match float64 gradients to 1e-9, so only the float64 engine is checked
    as_user = best_times([torch_user], spec, torch_reps, clock=clock)
    torch = torch_engine()
    check_agreement(chainrule, [torch], make_spec(ops=5_000, seed=args.seed + 1))
    beside_torch = best_times([chainrule, torch], spec, torch_reps, clock=clock)

    def ops_per_s(t: float) -> str:
        return f"{spec.ops / t:,.0f}"

    r_on = gc_on["micrograd"] / gc_on["chainrule"]
    r_off = gc_off["micrograd"] / gc_off["chainrule"]
    r_mem = mem["chainrule"][0] / mem["micrograd"][0]
    r_mem_bwd = mem["chainrule"][1] / mem["micrograd"][1]
    us_chainrule = 1e6 * gc_on["chainrule"] / spec.ops
    us_chainrule_beside = 1e6 * beside_torch["chainrule"] / spec.ops
    us_torch = 1e6 * beside_torch["torch"] / spec.ops
    r_torch = us_torch / us_chainrule
    us_torch_user = 1e6 * as_user["torch defaults"] / spec.ops
    r_torch_user = us_torch_user / us_chainrule

    print()
    print(_row("", "chainrule", "micrograd", "ratio", "target"))
    print(_row("ops/s, GC on (default)", ops_per_s(gc_on["chainrule"]), ops_per_s(gc_on["micrograd"]),
               f"{r_on:.2f}x", f">= {TARGET_GC_ON}x  {_verdict(r_on >= TARGET_GC_ON)}"))
    print(_row("ops/s, GC off (both)", ops_per_s(gc_off["chainrule"]), ops_per_s(gc_off["micrograd"]),
               f"{r_off:.2f}x", f">= {TARGET_GC_OFF}x  {_verdict(r_off >= TARGET_GC_OFF)}"))
    print(_row("ms per forward+backward, GC on", f"{1e3 * gc_on['chainrule']:.1f}",
               f"{1e3 * gc_on['micrograd']:.1f}", ""))
    print(_row("bytes/node after forward", f"{mem['chainrule'][0]:.0f}", f"{mem['micrograd'][0]:.0f}",
               f"{r_mem:.2f}x", f"<= {TARGET_MEMORY}x  {_verdict(r_mem <= TARGET_MEMORY)}"))
    print(_row("bytes/node after backward", f"{mem['chainrule'][1]:.0f}", f"{mem['micrograd'][1]:.0f}",
               f"{r_mem_bwd:.2f}x"))
    print(_row("objects only the GC can free", f"{drop['chainrule'][0]:,}", f"{drop['micrograd'][0]:,}", ""))
    print(_row("ms to drop graph + gc.collect()", f"{1e3 * drop['chainrule'][1]:.1f}",
               f"{1e3 * drop['micrograd'][1]:.1f}", ""))
    print()
    print(_row("", "chainrule", "torch", "speedup", "target"))
    print(_row("us per scalar op (GC on)", f"{us_chainrule:.3f}", f"{us_torch:.2f}", f"{r_torch:.1f}x",
               f">= {TARGET_TORCH}x  {_verdict(r_torch >= TARGET_TORCH)}  (float64, 1 thread)"))
    print(_row("  torch as written by a user", "", f"{us_torch_user:.2f}", f"{r_torch_user:.1f}x",
               f">= {TARGET_TORCH}x  {_verdict(r_torch_user >= TARGET_TORCH)}  (float32, default threads)"))
    print(_row("  same, with torch loaded", f"{us_chainrule_beside:.3f}", "",
               f"{us_torch / us_chainrule_beside:.1f}x",
               f"(GC-tracked objects {heap_before:,} -> {heap_after:,})"))
    print()
    print(f"check: micrograd and torch match chainrule's output and all {checked:,} leaf gradients "
          f"(rel 1e-9) on a 5,000-op graph")
    print(f"ratios: gc_on={r_on:.2f}x gc_off={r_off:.2f}x memory={r_mem:.2f}x "
          f"memory_after_backward={r_mem_bwd:.2f}x torch={r_torch:.1f}x torch_defaults={r_torch_user:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

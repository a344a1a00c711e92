"""chainrule from several threads: grad mode is per thread, and backward passes run at once.

The oracle for every gradient is the same computation done alone in the main thread first.
"""

from __future__ import annotations

import sys
import threading

from chainrule import autograd
from chainrule.autograd import Value, no_grad


def _run(targets, *args_list):
    errors: list[BaseException] = []

    def wrap(target, args):
        try:
            target(*args)
        except BaseException as err:  # reported in the main thread below
            errors.append(err)

    threads = [threading.Thread(target=wrap, args=(t, a)) for t, a in zip(targets, args_list)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a thread did not finish"
    assert not errors, errors


def test_no_grad_in_one_thread_does_not_stop_recording_in_another():
    inside, go_on = threading.Event(), threading.Event()
    seen: dict[str, object] = {}

    def quiet():
        with no_grad():
            seen["quiet_enabled"] = autograd.is_grad_enabled()
            seen["quiet_leaf"] = (Value(2.0) * 3).is_leaf
            inside.set()
            assert go_on.wait(60)
        seen["quiet_after"] = autograd.is_grad_enabled()

    def busy():
        assert inside.wait(60)
        seen["busy_enabled"] = autograd.is_grad_enabled()
        x = Value(1.5)
        y = (x * x).tanh() + x.exp() - x ** 3
        y.backward()
        seen["busy_grad"] = x.grad
        go_on.set()

    x = Value(1.5)
    ((x * x).tanh() + x.exp() - x ** 3).backward()
    expected = x.grad
    _run([quiet, busy], (), ())
    assert seen["quiet_enabled"] is False and seen["quiet_leaf"] is True
    assert seen["busy_enabled"] is True and seen["busy_grad"] == expected
    assert seen["quiet_after"] is True and autograd.is_grad_enabled()


def test_a_new_thread_starts_with_recording_on_even_inside_no_grad():
    seen = {}
    with no_grad():
        t = threading.Thread(target=lambda: seen.update(on=autograd.is_grad_enabled(),
                                                       leaf=(Value(1.0) + 1).is_leaf))
        t.start()
        t.join(60)
        assert not autograd.is_grad_enabled()
    assert seen == {"on": True, "leaf": False}


def test_overlapping_no_grad_blocks_in_two_threads_leave_recording_on():
    barrier = threading.Barrier(2)

    def toggle(n):
        for _ in range(n):
            with no_grad():
                barrier.wait(60)
            barrier.wait(60)

    _run([toggle, toggle], (50,), (50,))
    assert autograd.is_grad_enabled()
    assert autograd.mode.fast  # the hot path is back
    assert not (Value(1.0) * 2).is_leaf


def test_many_graphs_recorded_while_another_thread_toggles_no_grad():
    stop = threading.Event()
    wrong: list[float] = []

    def toggler():
        while not stop.is_set():
            with no_grad():
                Value(1.0) * 2

    def builder():
        for i in range(3000):
            x = Value(0.5 + i * 1e-4)
            y = x * x * 3.0
            y.backward()
            if x.grad != 6.0 * x.data:
                wrong.append(x.grad)
        stop.set()

    _run([toggler, builder], (), ())
    assert wrong == []


def _chain(depth: int, x: Value) -> Value:
    y = x
    for _ in range(depth):
        y = y * 1.0001 + 0.001
    return y


def test_deep_backward_passes_in_parallel_keep_the_recursion_limit():
    limit = sys.getrecursionlimit()
    depth = 3000
    x0 = Value(0.3)
    _chain(depth, x0).backward()
    expected = x0.grad
    grads: list[float] = []
    barrier = threading.Barrier(4)

    def work():
        barrier.wait(60)
        for _ in range(3):
            x = Value(0.3)
            _chain(depth, x).backward()
            grads.append(x.grad)

    _run([work] * 4, (), (), (), ())
    assert grads == [expected] * 12
    assert sys.getrecursionlimit() == limit

"""benchmarks/bench_views.py still measures what it says: untimed, it draws views on its
workloads and reads their sizes; nothing here depends on how long they take."""

import pytest
from load_script import load_script

from chainrule.autograd import topo_order


@pytest.fixture(scope="module")
def bench():
    with load_script("benchmarks/bench_views.py") as module:
        yield module


def test_the_workloads_are_the_ones_named(bench):
    tutorial = bench.workload("tutorial")
    assert tutorial["root"].label == "loss" and tutorial["root"].grad == 1.0
    one = bench.workload("moons-1")
    # micrograd's MLP(2, [16, 16, 1]): 16*3 + 16*17 + 17 parameters, one sample's hinge loss
    assert len(one["model"].parameters()) == 337
    assert one["input"].label == "x0.0" and one["input"] in set(topo_order(one["root"]))


def test_a_view_is_drawn_and_sized_and_a_refusal_is_reported(bench, tmp_path):
    drawn = bench.measure("tutorial", "draw_graph", tmp_path)
    assert drawn["notes"] == [] and 0 < drawn["width"] <= 2880 and 0 < drawn["height"] <= 1620
    assert "2602 x 1426 pt = 3469 x 1901 px" == bench.size_text({"width": 2602.0, "height": 1426.0})
    noted = bench.measure("moons-1", "draw_dot", tmp_path)
    assert noted["notes"] and noted["notes"][0].startswith("draw_dot: ")
    refused = bench.measure("moons-1", "write_practice", tmp_path)
    assert "more than max_nodes=400" in refused["refused"]

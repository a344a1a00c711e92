"""The tutorial notebook runs top to bottom in a real kernel; its cells assert what they teach."""

from pathlib import Path

import nbclient
import nbformat

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "tutorial.ipynb"


def test_tutorial_notebook_runs_without_errors(tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError, naming the cell, if any cell fails
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "the engine's gradients equal the tutorial's d_weights" in text
    images = [o for o in outputs if "image/png" in o.get("data", {}) or "image/svg+xml" in o.get("data", {})]
    assert len(images) >= 4  # the example graph, the loss curve, the neuron view, the moons boundary
    assert (tmp_path / "tutorial-loss.png").exists() and (tmp_path / "moons.png").exists()

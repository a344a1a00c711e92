"""Run course notebooks top to bottom and save them with their outputs, as they are committed.

    .venv/bin/python examples/execute.py examples/tutorial.ipynb [more.ipynb ...]

Each runs in a fresh kernel inside a temporary folder (files a notebook writes are not left
behind), without nbclient's per-cell run times, so running an unchanged notebook again changes
nothing but the timings it prints; tests/test_notebook.py fails when committed outputs are stale.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import nbclient
import nbformat

from chainrule.files import write_atomic


def execute(path: Path) -> None:
    """Run the notebook at ``path`` and write it back with its outputs."""
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as folder:
        nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", record_timing=False,
                                coalesce_streams=True, resources={"metadata": {"path": folder}}).execute()
    write_atomic(path, nbformat.writes(nb) + "\n")


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    for name in argv:
        execute(Path(name))
        print(f"ran {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

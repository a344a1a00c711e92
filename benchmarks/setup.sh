#!/usr/bin/env bash
# The benchmarks' own environment, kept apart from the dev .venv so that the peers we
# measure against (micrograd, PyTorch) never become dependencies of chainrule's tests.
#
#   bash benchmarks/setup.sh          # creates or completes <repo>/.bench-venv
#   PYTHON=python3.11 bash benchmarks/setup.sh
#
# Idempotent: each package is installed only when it is missing or at the wrong version.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.bench-venv"
PY="$VENV/bin/python"
PYTHON="${PYTHON:-python3}"
# Pinned so that pip picks the CPU wheel the machine provides (its pip config lists
# /opt/wheels); an unpinned "torch" would pull a multi-gigabyte CUDA build.
TORCH_VERSION="2.13.0"

say() { printf 'setup.sh: %s\n' "$*"; }

if [ -x "$PY" ]; then
    say "virtual environment present: $VENV"
else
    "$PYTHON" -m venv "$VENV"
    say "created virtual environment: $VENV ($("$PY" --version))"
fi

# has MODULE [VERSION_PREFIX]: the module imports (and its distribution has that version).
has() {
    "$PY" - "$@" <<'EOF' 2>/dev/null
import importlib, importlib.metadata, sys
module, prefix = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "")
importlib.import_module(module)
if prefix and not importlib.metadata.version(module).startswith(prefix):
    sys.exit(1)
EOF
}

pip_install() {
    "$PY" -m pip install --disable-pip-version-check --quiet "$@"
}

# chainrule must be the working tree itself (editable), so a benchmark run measures the
# engine as it is now, not a copy installed earlier.
if "$PY" -c "import autograd, sys; sys.exit(0 if autograd.__file__.startswith('$ROOT/') else 1)" \
        2>/dev/null; then
    say "chainrule: already installed editable from $ROOT"
else
    pip_install -e "$ROOT"
    say "chainrule: installed editable from $ROOT"
fi

for spec in "numpy" "tqdm" "micrograd"; do
    if has "$spec"; then
        say "$spec: already installed ($("$PY" -c "import importlib.metadata as m; print(m.version('$spec'))"))"
    else
        pip_install "$spec"
        say "$spec: installed ($("$PY" -c "import importlib.metadata as m; print(m.version('$spec'))"))"
    fi
done

if has torch "$TORCH_VERSION"; then
    say "torch: already installed ($("$PY" -c 'import torch; print(torch.__version__)'))"
else
    pip_install "torch==$TORCH_VERSION"
    say "torch: installed ($("$PY" -c 'import torch; print(torch.__version__)'))"
fi

say "ready: $PY benchmarks/bench_engine.py"

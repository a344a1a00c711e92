#!/usr/bin/env python3
"""Set up chainrule in ./.venv and run it: ``python3 dev.py demo`` or ``python3 dev.py test``.

Needs only Python 3.10+ with pip. Creates the virtual environment, installs the package with
its extras, installs Graphviz (and, for the tests, Chromium) with apt-get when running as root
on Debian/Ubuntu, or says which command installs them elsewhere. Extra arguments are passed on:
``python3 dev.py test -k value``, ``python3 dev.py demo --out DIR``.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")
CONSTRAINTS = ROOT / "constraints.txt"

PACKAGES = {"dot": "graphviz", "chromium": "chromium"}


def install_hint(program: str) -> str:
    """The command that installs ``program`` on this platform."""
    package = PACKAGES[program]
    system = platform.system()
    if system == "Darwin":
        return f"brew install {package}" if program == "dot" else "brew install --cask chromium"
    if system == "Windows":
        return f"winget install {package}"
    for manager, command in (("apt-get", "sudo apt-get install -y"), ("dnf", "sudo dnf install -y"),
                             ("pacman", "sudo pacman -S"), ("zypper", "sudo zypper install")):
        if shutil.which(manager):
            return f"{command} {package}"
    return f"install {package} with your package manager"


def say(msg: str) -> None:
    print(f"[dev] {msg}", flush=True)


def run(cmd: list, show_failure: bool = True, **kw) -> None:
    """Run a setup command quietly; if it fails, print everything it said and raise.

    Each step prints one line of its own (``say``); pip's and setuptools' chatter is kept
    unless the step fails, when it is the diagnosis.
    """
    proc = subprocess.run([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          stdin=subprocess.DEVNULL, text=True, errors="replace", **kw)
    if proc.returncode != 0:
        if show_failure:
            print(proc.stdout, end="" if proc.stdout.endswith("\n") else "\n", flush=True)
        raise subprocess.CalledProcessError(proc.returncode, [str(c) for c in cmd])


def apt_install(*packages: str) -> bool:
    """apt-get install as root on a Debian-like system; False where that is not possible or fails."""
    if os.name != "posix" or os.geteuid() != 0 or not shutil.which("apt-get"):
        return False
    say(f"installing {' '.join(packages)} with apt-get")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        run(["apt-get", "update", "-qq"], env=env)
        run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages], env=env)
    except subprocess.CalledProcessError as err:
        say(f"apt-get failed ({' '.join(err.cmd)} exited {err.returncode}; its output is above)")
        return False
    return True


ALIASES = {"chromium": ("chromium-browser", "google-chrome")}  # the same browser under other names


def need_program(program: str, packages: tuple[str, ...], required: bool) -> None:
    if any(shutil.which(name) for name in (program, *ALIASES.get(program, ()))):
        return
    if apt_install(*packages) and shutil.which(program):
        return
    msg = f"'{program}' is not installed; install it with: {install_hint(program)}"
    if required:
        sys.exit(f"[dev] {msg}")
    say(msg)


def ensure_venv(extras: str) -> None:
    stamp = VENV / f".installed-{extras}"
    newest = max((ROOT / "setup.cfg").stat().st_mtime, CONSTRAINTS.stat().st_mtime)
    if stamp.exists() and stamp.stat().st_mtime >= newest:
        return
    if not PY.exists():
        say("creating .venv")
        try:
            run([sys.executable, "-m", "venv", VENV], show_failure=False)  # handled below
        except subprocess.CalledProcessError:
            say("python's venv module is missing; installing it")
            ver = f"python3.{sys.version_info.minor}-venv"
            if not apt_install(ver, "python3-venv"):
                sys.exit("[dev] python's venv module is missing: apt-get install python3-venv")
            shutil.rmtree(VENV, ignore_errors=True)
            run([sys.executable, "-m", "venv", VENV])
    say(f"installing chainrule[{extras}] into .venv")
    try:
        run([PY, "-m", "pip", "install", "--upgrade", "pip"])
        run([PY, "-m", "pip", "install", "-c", CONSTRAINTS, "-e", f"{ROOT}[{extras}]"])
    except subprocess.CalledProcessError as err:
        command = " ".join(err.cmd)
        sys.exit(f"[dev] installing failed: {command} exited {err.returncode} (its output is above)")
    stamp.touch()


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("demo", "test"):
        print(__doc__)
        return 2
    what, rest = argv[0], argv[1:]
    if what == "demo":
        need_program("dot", ("graphviz",), required=True)
        ensure_venv("plot")
        return subprocess.call([str(BIN / "chainrule"), "demo", *rest], cwd=ROOT)
    need_program("dot", ("graphviz",), required=True)
    need_program("chromium", ("chromium",), required=True)
    ensure_venv("test")
    return subprocess.call([str(PY), "-m", "pytest", *rest], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

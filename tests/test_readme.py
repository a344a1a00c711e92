"""The README stays true: its Python examples run, and its quickstart is what CI runs."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def test_quickstart_is_two_commands_and_ci_runs_the_second():
    first = re.search(r"```\n(.*?)```", README, flags=re.S).group(1)
    commands = [line for line in first.splitlines() if line.strip()]
    assert commands == ["python3 dev.py demo", "python3 dev.py test"]
    assert commands[1] in (ROOT / ".ci" / "run").read_text()


def test_python_examples_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    examples = blocks("python")
    assert len(examples) >= 2
    for code in examples:
        exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
    assert (tmp_path / "out.svg").exists() and (tmp_path / "out.html").exists()

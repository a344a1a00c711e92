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


def test_python_examples_run_and_print_what_their_comments_say(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    examples = blocks("python")
    assert len(examples) >= 2
    for code in examples:
        exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
    assert (tmp_path / "out.svg").exists() and (tmp_path / "out.html").exists()
    assert "chainrule-practice" in (tmp_path / "practice.html").read_text(encoding="utf-8")
    printed = capsys.readouterr().out
    assert "12.0 12.0" in printed  # d/dx x^3 and its derivative at 2, as the comment says
    # The own-op section: y = x^3 + x at 2 is 10 with slope 3x^2 + 1 = 13, and its picture.
    assert "10.0 13.0" in printed and "detect_anomaly: forward *(" in printed
    drawn = (tmp_path / "cube.svg").read_text(encoding="utf-8")
    checked_in = (ROOT / "docs" / "images" / "define-op.svg").read_text(encoding="utf-8")
    for svg in (drawn, checked_in):
        assert "cube" in svg and "3 * x**2 = 12" in svg and "grad = 1 + 12 = 13" in svg
    predictions = [float(x) for x in re.search(r"\[([0-9. ]+)\]", printed).group(1).split()]
    assert [round(p, 2) for p in predictions] == [0.01, 0.97, 0.97, 0.04]


def test_no_placeholder_is_left():
    assert not re.search(r"\b[A-Z]{4,}_[A-Z_]{4,}\b", README), "an unfilled placeholder"

"""``python -m course_utils``: groups dispatch to the right code, with usage errors for the rest."""

from __future__ import annotations

import subprocess
import sys

import pytest

from course_utils.cli import PASS_THROUGH, main


def test_source_commands_are_passed_through(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["sensorium", "validate", "--help"])
    assert exit_info.value.code == 0
    assert "submission" in capsys.readouterr().out
    assert main(["sensorium"]) == 2
    assert "validate" in capsys.readouterr().err


def test_every_pass_through_target_imports():
    import importlib

    for target in PASS_THROUGH.values():
        module, _, func = target.partition(":")
        assert callable(getattr(importlib.import_module(module), func))


def test_module_entry_point_runs():
    result = subprocess.run([sys.executable, "-m", "course_utils", "data", "list"], capture_output=True, text=True)
    assert result.returncode == 0 and "neurotask" in result.stdout
    bad = subprocess.run([sys.executable, "-m", "course_utils", "nope"], capture_output=True, text=True)
    assert bad.returncode == 2 and "invalid choice" in bad.stderr

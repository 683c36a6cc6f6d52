"""course_utils.sensorium imports torch only for the names that need it (the model, its data and training).

Reading the data, scoring and validating (chapter 3, ``python -m course_utils sensorium validate|score``)
never import torch: its import takes seconds, and a runtime without torch can still read the data.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

TORCH_FREE = """
import sys
import course_utils
import course_utils.sensorium as s
from course_utils.sensorium import read_mouse, score_mice, validate_submission, write_submission
from course_utils.sensorium import commands, scoring, validation, simulate
from course_utils.plotting import plot_sensorium_trial
assert "torch" not in sys.modules, "reading, scoring or validating imported torch"
assert "TrainConfig" in dir(s) and "TrainConfig" not in vars(s)
try:
    s.no_such_name
except AttributeError as err:
    assert "no_such_name" in str(err), err
else:
    raise AssertionError("an unknown name gave no AttributeError")
print("torch-free")
"""


def test_reading_scoring_and_validating_never_import_torch():
    result = subprocess.run([sys.executable, "-c", TORCH_FREE], capture_output=True, text=True, cwd=REPO,
                            env={"PYTHONPATH": str(REPO), "PATH": ""})
    assert result.returncode == 0 and "torch-free" in result.stdout, result.stderr


@pytest.mark.parametrize("name, module", [("TrainConfig", "training"), ("SensoriumClips", "dataset"),
                                          ("SensoriumModel", "model"), ("poisson_loss", "model")])
def test_names_that_need_torch_come_from_their_module(name, module):
    import importlib

    import course_utils.sensorium as s

    assert getattr(s, name) is getattr(importlib.import_module(f"course_utils.sensorium.{module}"), name)
    assert name in vars(s)  # resolved once, then an ordinary attribute
    namespace: dict = {}
    exec("from course_utils.sensorium import *", namespace)
    assert set(s.__all__) <= set(namespace)

"""The training entry point runs unchanged under torchrun with DistributedDataParallel (2 CPU processes, gloo)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from course_utils.sensorium import load_checkpoint, write_demo_mice

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_torchrun_two_processes_gloo(tmp_path):
    root = tmp_path / "data"
    write_demo_mice(root, seed=3, n_mice=2, n_neurons=5, n_train=4, n_oracle_clips=1, n_repeats=2,
                    max_frames=56, min_frames=53)
    checkpoint = tmp_path / "ddp.pt"
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               "-m", "course_utils", "sensorium", "train", "--data", str(root), "--epochs", "1", "--max-steps", "2",
               "--batch-size", "4", "--frames-per-clip", "16", "--hidden-channels", "4", "--n-layers", "1",
               "--no-progress", "--checkpoint", str(checkpoint)]
    result = subprocess.run(command, capture_output=True, text=True, cwd=REPO, env=env, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    assert "world_size=2" in result.stdout
    model, info = load_checkpoint(checkpoint)
    assert info["extra"]["epoch"] == 1
    assert set(model.readouts) == {p.name for p in root.glob("dynamic*")}

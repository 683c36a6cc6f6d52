"""Chapters 1 and 8 in sample mode, on a stand-in of DANDI 001056 served through the real download path.

The stand-in is a small file in 001056's real NWB layout (the series of shared/data/neurotask/real_layouts.yaml,
float counts with NaN padding, ``result`` as bytes, angles in radians, two monkeys with two sessions each). A
loopback server plays DANDI: the manifest's sample entry (exact size and sha256) is resolved through its REST
API and downloaded by ``get_source("neurotask", "sample")`` exactly as the real file would be. Both chapters
then run to the end with ``COURSE_DATA_MODE=sample``, with every exercise check strict.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
import yaml
from loopback import LoopbackServer, file_entry, sample_manifest
from nbclient import NotebookClient

from course_utils.neurotask import load_nwb
from course_utils.neurotask.simulate import DatasetSpec, simulate_dataset, write_nwb_twin

REPO = Path(__file__).resolve().parents[1]
DANDI_PATH = "sub-Animal-1-&-2/sub-Animal-1-&-2.nwb"
# Two monkeys, two sessions each, as 001056; far fewer trials and units than the real 3,686 trials and 461 units.
STAND_IN = DatasetSpec(
    2,
    10,
    "StandIn",
    "CObump",
    "CenterOut_Bump",
    ((1, 1, 22, (18, 20)), (1, 2, 22, (14, 16)), (2, 1, 20, (12, 14)), (2, 2, 20, (16, 18))),
    (("R", 0.75), ("F", 0.07), ("I", 0.06), ("A", 0.12)),
)


@pytest.fixture(scope="module")
def stand_in(tmp_path_factory, shared_dir) -> bytes:
    """The bytes of a small file in 001056's real NWB layout, checked against the recorded facts."""
    df, _ = simulate_dataset(STAND_IN, seed=7)
    path = write_nwb_twin(df, 10, tmp_path_factory.mktemp("standin") / "001056.nwb", "stand-in of DANDI 001056")
    facts = yaml.safe_load((shared_dir / "data/neurotask/real_layouts.yaml").read_text())["dandisets"]["001056"]
    from pynwb import NWBHDF5IO

    with NWBHDF5IO(str(path), "r") as io:
        f = io.read()
        assert sorted(f.processing["behavior"].data_interfaces) == sorted(facts["behavior"])
        assert sorted(f.processing["events"].data_interfaces) == sorted([*facts["events"], "result"])
    return path.read_bytes()


def _execute(notebook: Path, workdir: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(notebook, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}).execute()
    return nb


def _text(nb: nbformat.NotebookNode) -> str:
    out = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            out.append(output.get("text", "") or output.get("data", {}).get("text/plain", ""))
    return "\n".join(out)


def test_chapters_1_and_8_run_in_sample_mode(stand_in, tmp_path, monkeypatch):
    with LoopbackServer() as srv:
        srv.add_dandi_asset("001056", DANDI_PATH, stand_in)
        entry = file_entry(
            "001056/sub-Animal-1-&-2.nwb",
            stand_in,
            dandi={"dandiset": "001056", "path": DANDI_PATH, "version": "draft"},
        )
        manifest = sample_manifest("neurotask", [entry], tmp_path)
        env = {
            "COURSE_DATA_MANIFEST": str(manifest),
            "DANDI_API_URL": srv.dandi_api,
            "COURSE_DATA_MODE": "sample",
            "COURSE_DATA_DIR": str(tmp_path / "data"),
            "COURSE_FAST": "1",
            "COURSE_EXERCISES_STRICT": "1",
            "COURSE_DATA_RETRIES": "0",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)  # the kernels inherit this environment

        chapter1 = _execute(REPO / "notebooks" / "01_neurotask_loading.ipynb", tmp_path)
        downloads = [hit for hit in srv.hits if hit.endswith("/download/")]
        assert len(downloads) == 1  # fetched once through the DANDI API, then cached
        chapter8 = _execute(REPO / "notebooks" / "08_decoding_baselines.ipynb", tmp_path)
        assert len([hit for hit in srv.hits if hit.endswith("/download/")]) == 1  # chapter 8 used the cache

    cached = tmp_path / "data" / "neurotask" / "sample" / "001056" / "sub-Animal-1-&-2.nwb"
    assert cached.read_bytes() == stand_in
    text1 = _text(chapter1)
    assert "data mode: sample" in text1
    assert "No parquet files in this mode" in text1
    assert "aligning on EventGo_cue" in text1  # 001056 has no movement events
    assert "only the simulated demo data have a ground truth" in text1.lower()
    text8 = _text(chapter8)
    assert "sub-Animal-1-&-2" in text8 and "4 sessions" in text8
    loaded, _ = load_nwb(cached, exclude=None)
    assert loaded["task"].iloc[0] == "CenterOut_Bump"  # from the dandiset number in the path

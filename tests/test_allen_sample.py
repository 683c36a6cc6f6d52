"""Allen sample mode through the real download path, on stand-ins of the real files.

The manifest's sample mode lists the real session table and three behaviour NWB files of mouse 445002
(TRAINING_0, TRAINING_1, TRAINING_5 hand-off ready). Here a loopback HTTP server serves stand-ins of them:
the session table is a subset of the real one (its real columns and rows: every session of mouse 445002
and of two other mice), and each NWB file is simulated in the real layout (the ``ndx-aibs-behavior-ophys``
namespace, AllenSDK's tables, the real session's metadata from the table; the TRAINING_5 session with a grey
screen and a natural movie, as the real one has). The course downloads them with their exact sizes and
sha256, and the loaders and chapters 2 and 5 run on them in sample mode.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from loopback import LoopbackServer, file_entry, sample_manifest

from course_utils.allen import load_behavior_session, load_session_table, with_nwb_files
from course_utils.allen.simulate import IMAGE_SETS, simulate_session, task_parameters, write_behavior_nwb
from course_utils.data import get_source

REPO = Path(__file__).resolve().parents[1]
MOUSE = 445002
# the manifest's three sessions: (behavior_session_id, task length of the stand-in in s, d', seed)
SESSIONS = {837658854: (240.0, 0.0, 1), 838515247: (300.0, 0.8, 2), 844199758: (600.0, 2.5, 3)}
OTHER_MICE = (457841, 453988)


def _standin_table(shared_dir: Path) -> bytes:
    """The real table's header and the real rows of mouse 445002 and two other mice, byte for byte."""
    lines = (shared_dir / "data" / "allen" / "behavior_session_table.csv").read_bytes().splitlines(keepends=True)
    header, rows = lines[0], lines[1:]
    wanted = {str(m).encode() for m in (MOUSE, *OTHER_MICE)}
    keep = [row for row in rows if row.split(b",")[3] in wanted]  # mouse_id is the fourth column
    return header + b"".join(keep)


def _standin_nwb(row: pd.Series, path: Path) -> bytes:
    duration, dprime, seed = SESSIONS[int(row["behavior_session_id"])]
    session_type = row["session_type"]
    sim = simulate_session(session_type, duration, dprime, -0.2, duration * 0.8, 0.1, IMAGE_SETS["A"],
                           np.random.default_rng(seed))
    write_behavior_nwb(path, row, sim, task_parameters(session_type, len(sim["frame_times"])),
                       namespace="ndx-aibs-behavior-ophys")
    return path.read_bytes()


@pytest.fixture(scope="module")
def sample_env(shared_dir, tmp_path_factory):
    """Environment variables that point the course at the stand-ins (served while the module runs)."""
    work = tmp_path_factory.mktemp("allen_sample")
    table_bytes = _standin_table(shared_dir)
    (work / "behavior_session_table.csv").write_bytes(table_bytes)
    table = pd.read_csv(work / "behavior_session_table.csv").set_index("behavior_session_id", drop=False)
    with LoopbackServer() as server:
        base = "/visual-behavior-ophys"
        entries = [file_entry("project_metadata/behavior_session_table.csv", table_bytes,
                              url=server.add(f"{base}/project_metadata/behavior_session_table.csv", table_bytes))]
        for session_id in SESSIONS:
            name = f"behavior_session_{session_id}.nwb"
            body = _standin_nwb(table.loc[session_id], work / name)
            entries.append(file_entry(f"behavior_sessions/{name}", body,
                                      url=server.add(f"{base}/behavior_sessions/{name}", body)))
        env = {
            "COURSE_DATA_MANIFEST": str(sample_manifest("allen_visual_behavior", entries, work)),
            "COURSE_DATA_MODE": "sample",
            "COURSE_DATA_DIR": str(work / "data"),
            "COURSE_DATA_RETRIES": "0",
        }
        yield env, server


@pytest.fixture()
def sample_mode(sample_env, monkeypatch):
    env, server = sample_env
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return server


def test_sample_files_download_and_load(sample_mode, shared_dir):
    folder = get_source("allen_visual_behavior")
    assert any(hit.endswith("behavior_session_844199758.nwb") for hit in sample_mode.hits)
    table = with_nwb_files(load_session_table(folder), folder)
    assert table["mouse_id"].nunique() == 3
    assert sorted(table.index[table["has_nwb"]]) == sorted(SESSIONS)
    real = pd.read_csv(shared_dir / "data" / "allen" / "behavior_session_table.csv", index_col="behavior_session_id")
    for session_id, row in table[table["has_nwb"]].iterrows():
        session = load_behavior_session(row["nwb_file"])
        meta = session.metadata
        assert meta["mouse_id"] == str(MOUSE) and int(meta["mouse_id"]) == row["mouse_id"]
        assert meta["behavior_session_id"] == session_id
        # what the file says agrees with the real table's row
        assert meta["session_type"] == real.loc[session_id, "session_type"]
        assert meta["cre_line"] == real.loc[session_id, "cre_line"]
        assert meta["full_genotype"] == real.loc[session_id, "full_genotype"]
        assert meta["age_in_days"] == real.loc[session_id, "age_in_days"]
        assert meta["project_code"] == real.loc[session_id, "project_code"]
        assert session.task_parameters["image_set"] == real.loc[session_id, "image_set"]
        assert len(session.trials) > 10
    ready = load_behavior_session(table.loc[844199758, "nwb_file"]).stimulus_presentations
    assert set(ready["stimulus_name"]) >= {"spontaneous", "natural_movie_one"}


def test_sample_files_are_verified_and_not_downloaded_twice(sample_mode):
    get_source("allen_visual_behavior")
    before = len(sample_mode.hits)
    folder = get_source("allen_visual_behavior")
    assert len(sample_mode.hits) == before
    assert (folder / "behavior_sessions" / "behavior_session_837658854.nwb").is_file()


@pytest.mark.parametrize("chapter", ["02_allen_loading", "05_allen_behavior_analysis"])
def test_chapter_runs_in_sample_mode(sample_mode, chapter, tmp_path, monkeypatch):
    """The chapter executes to the end on the sample stand-ins, every exercise check strict."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(REPO / "notebooks" / f"{chapter}.ipynb", as_version=4)
    for key, value in {"COURSE_EXERCISES_STRICT": "1", "COURSE_FAST": "1", "MPLBACKEND": "Agg"}.items():
        monkeypatch.setenv(key, value)  # the kernel inherits the environment, sample mode included
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    text = "\n".join(str(output.get("text", "")) + str(output.get("data", {}).get("text/plain", ""))
                     for cell in notebook.cells if cell.cell_type == "code" for output in cell.get("outputs", []))
    assert "data mode: sample" in text
    # the session both chapters open: the mouse's hand-off-ready day, read from the downloaded stand-in
    assert "BehaviorSession(behavior_session_id=844199758, session_type='TRAINING_5_images_A_handoff_ready'" in text

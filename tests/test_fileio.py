"""course_utils.fileio: data never execute, and a bad file is named with what to do."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_utils.fileio import BadFileError, load_npy, load_torch_weights, read_json, read_yaml
from course_utils.manifest import ENV_MANIFEST, load_manifest, manifest_path


def test_npy_round_trip_and_dimension_check(tmp_path):
    path = tmp_path / "x.npy"
    np.save(path, np.zeros((2, 3)))
    assert load_npy(path, ndim=2).shape == (2, 3)
    assert load_npy(path, mmap_mode="r").shape == (2, 3)
    with pytest.raises(BadFileError, match=r"x\.npy: has 2 dimension\(s\).*expected 3"):
        load_npy(path, ndim=3, fix="Regenerate it.")


def test_pickled_npy_is_refused_by_name(tmp_path):
    path = tmp_path / "evil.npy"
    np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(BadFileError, match=r"evil\.npy: holds pickled Python objects") as err:
        load_npy(path)
    assert err.value.path == path


def test_truncated_and_foreign_npy(tmp_path):
    good = tmp_path / "good.npy"
    np.save(good, np.arange(1000.0))
    cut = tmp_path / "cut.npy"
    cut.write_bytes(good.read_bytes()[:300])
    with pytest.raises(BadFileError, match=r"cut\.npy"):
        load_npy(cut)
    text = tmp_path / "text.npy"
    text.write_text("a,b\n1,2\n")
    with pytest.raises(BadFileError, match=r"text\.npy"):
        load_npy(text)
    with pytest.raises(FileNotFoundError, match=r"gone\.npy does not exist\. Fetch it"):
        load_npy(tmp_path / "gone.npy", fix="Fetch it.")


class _Runs:
    def __reduce__(self):
        return (print, ("this would run",))


def test_torch_file_that_wants_to_run_code_is_refused_without_unsafe_advice(tmp_path):
    path = tmp_path / "ckpt.pt"
    torch.save({"w": _Runs()}, path)
    with pytest.raises(BadFileError) as err:
        load_torch_weights(path)
    message = str(err.value)
    assert "ckpt.pt" in message
    assert "weights_only=False" not in message and "never" in message
    not_torch = tmp_path / "notes.pt"
    not_torch.write_text("hello")
    with pytest.raises(BadFileError, match=r"notes\.pt"):
        load_torch_weights(not_torch)
    good = tmp_path / "good.pt"
    torch.save({"w": torch.arange(3)}, good)
    assert load_torch_weights(good)["w"].tolist() == [0, 1, 2]


def test_yaml_and_json_errors_name_file_and_line(tmp_path):
    bad_yaml = tmp_path / "meta.yml"
    bad_yaml.write_text("modality: screen\n  bad: [\n")
    with pytest.raises(BadFileError, match=r"meta\.yml: is not valid YAML at line \d+"):
        read_yaml(bad_yaml)
    tagged = tmp_path / "tagged.yml"
    tagged.write_text("!!python/object/apply:os.system ['echo hi']\n")
    with pytest.raises(BadFileError, match=r"tagged\.yml"):
        read_yaml(tagged)
    bad_json = tmp_path / "meta.json"
    bad_json.write_text('{"a": 1,,}')
    with pytest.raises(BadFileError, match=r"meta\.json: is not valid JSON at line 1, column \d+"):
        read_json(bad_json)


def test_manifest_override_from_environment(tmp_path, monkeypatch):
    copy = tmp_path / "mirror.yaml"
    copy.write_text(manifest_path().read_text())
    monkeypatch.setenv(ENV_MANIFEST, str(copy))
    assert manifest_path() == copy
    assert "neurotask" in load_manifest()["sources"]
    monkeypatch.setenv(ENV_MANIFEST, str(tmp_path / "nowhere.yaml"))
    with pytest.raises(FileNotFoundError, match="COURSE_DATA_MANIFEST"):
        manifest_path()

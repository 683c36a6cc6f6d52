"""``python -m course_utils``: groups dispatch to the right code; our errors are messages, not tracebacks."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from course_utils import data
from course_utils.cli import main
from course_utils.sources import command_groups


def _run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "course_utils", *args], capture_output=True, text=True, env=env)


def test_source_commands_are_handed_their_arguments(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["sensorium", "validate", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "submission" in out and "python -m course_utils sensorium validate" in out
    with pytest.raises(SystemExit) as exit_info:
        main(["sensorium"])
    assert exit_info.value.code == 2 and "COMMAND" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["sensorium", "nope"])
    assert exit_info.value.code == 2 and "invalid choice" in capsys.readouterr().err


def test_every_source_command_is_a_function_of_its_package():
    groups = command_groups()
    assert {"sensorium": {"train", "validate", "score"}, "experanto": {"index", "convert"}}.items() <= {
        g: set(s.commands()) for g, s in groups.items()}.items()
    for source in groups.values():
        module = source.module("commands")
        for command in source.commands():
            assert callable(getattr(module, command.replace("-", "_"))), (source.name, command)


def test_no_shim_modules_are_left():
    package = Path(__file__).resolve().parents[1] / "course_utils"
    for shim in ("sensorium/train.py", "sensorium/validate.py", "experanto/__main__.py"):
        assert not (package / shim).exists(), f"{shim}: its command lives in the package's commands.py"


def test_experanto_commands_run_from_the_one_tree(tmp_path, capsys):
    from course_utils.sensorium import write_demo_mice

    with pytest.raises(SystemExit) as exit_info:
        main(["experanto", "convert", "--help"])
    assert exit_info.value.code == 0 and "mouse_folder" in capsys.readouterr().out
    write_demo_mice(tmp_path / "mice", seed=1, n_mice=1, n_neurons=3, n_train=2, n_oracle_clips=1, n_repeats=2,
                    max_frames=56, min_frames=54)
    mouse = next((tmp_path / "mice").glob("dynamic*"))
    assert main(["experanto", "convert", str(mouse), str(tmp_path / "experiment")]) == 0
    assert "wrote" in capsys.readouterr().out and (tmp_path / "experiment" / "screen").is_dir()


def test_module_entry_point_runs():
    result = _run("data", "list")
    assert result.returncode == 0 and "neurotask" in result.stdout
    bad = _run("nope")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


def test_help_lists_every_command_group(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for group in ["data", "book", "exercises", *command_groups()]:
        assert re.search(rf"^\s+{group}\s", out, re.MULTILINE), f"{group} missing from --help"
    for group, source in command_groups().items():
        with pytest.raises(SystemExit):
            main([group, "--help"])
        listed = capsys.readouterr().out
        for command in source.commands():
            assert re.search(rf"^\s+{command}\s", listed, re.MULTILINE), f"{group} {command} missing from --help"
    with pytest.raises(SystemExit):
        main(["data", "--help"])
    out = capsys.readouterr().out
    for command in ("list", "fetch", "prepare", "verify", "path", "clean"):
        assert command in out


def test_verify_and_clean_help_say_what_they_touch(isolated_data_dir, capsys):
    with pytest.raises(SystemExit):
        main(["data", "verify", "--help"])
    out = capsys.readouterr().out
    assert "never changes" in out and "sha256" in out and "unchecked" in out and str(isolated_data_dir) in out
    with pytest.raises(SystemExit):
        main(["data", "clean", "--help"])
    out = capsys.readouterr().out
    for phrase in ("--dry-run", "--yes", "--stale", ".tmp-*", ".part-*", "renamed aside", "Never touched", str(isolated_data_dir)):
        assert phrase in out, phrase


def test_cli_path_list_and_errors(isolated_data_dir, capsys):
    assert main(["data", "path", "neurotask", "--mode", "sample"]) == 0
    assert capsys.readouterr().out.strip() == str(isolated_data_dir / "neurotask" / "sample")
    assert main(["data", "list"]) == 0
    assert "sensorium2023" in capsys.readouterr().out
    assert main(["data", "path", "neurotsk"]) == 2
    assert "Unknown data source" in capsys.readouterr().err
    assert main(["data", "fetch", "neurotask", "--mode", "full"]) == 1
    assert "kaggle" in capsys.readouterr().err


def test_cli_users_are_told_the_option_not_the_python_argument(isolated_data_dir, capsys):
    assert main(["data", "fetch", "neurogym", "--mode", "sample"]) == 2
    err = capsys.readouterr().err
    assert "--mode demo" in err and "mode=" not in err
    with pytest.raises(ValueError, match="mode='demo'"):  # Python callers still get the Python spelling
        data.get_source("neurogym", "sample")


def test_cli_prints_our_errors_without_tracebacks(isolated_data_dir, tmp_path):
    env = {**os.environ, "COURSE_DATA_DIR": str(isolated_data_dir)}
    broken = tmp_path / "broken.yaml"
    broken.write_text("sources: [unclosed")
    cases = [
        ({"COURSE_DATA_MANIFEST": str(broken)}, ("data", "list"), "not valid YAML"),
        ({"COURSE_DATA_MANIFEST": str(tmp_path / "absent.yaml")}, ("data", "list"), "names no file"),
        ({"COURSE_DATA_RETRIES": "lots", "COURSE_DATA_MODE": "sample"}, ("data", "fetch", "neurotask"), "COURSE_DATA_RETRIES"),
        ({"COURSE_DATA_MODE": "bogus"}, ("data", "path", "neurotask"), "Unknown data mode"),
    ]
    for extra, args, expected in cases:
        result = _run(*args, env={**env, **extra})
        assert result.returncode in (1, 2), (args, result.stderr)
        assert expected in result.stderr and "Traceback" not in result.stderr, result.stderr


def _unwritable_folder(tmp_path: Path) -> Path:
    if os.geteuid() != 0:
        folder = tmp_path / "read_only"
        folder.mkdir()
        folder.chmod(0o555)
        return folder
    if Path("/sys/kernel").is_dir():  # root may write almost anywhere; sysfs refuses new folders even to root
        return Path("/sys/kernel/course_data")
    pytest.skip("no folder here refuses writes to root")


def test_a_read_only_or_file_data_dir_gives_a_message_not_a_traceback(tmp_path):
    not_a_folder = tmp_path / "data_file"
    not_a_folder.write_text("x")
    for folder, expected in [(_unwritable_folder(tmp_path), "COURSE_DATA_DIR"), (not_a_folder, "is a file, not a folder")]:
        result = _run("data", "fetch", "neurotask", env={**os.environ, "COURSE_DATA_DIR": str(folder)})
        assert result.returncode == 1, result.stderr
        assert expected in result.stderr, result.stderr
        assert "Traceback" not in result.stderr


def test_cli_clean_removes_only_what_was_asked(isolated_data_dir, capsys):
    for mode in ("demo", "sample"):
        (isolated_data_dir / "neurotask" / mode).mkdir(parents=True)
    assert main(["data", "clean", "neurotask", "--mode", "sample"]) == 0
    assert not (isolated_data_dir / "neurotask" / "sample").exists()
    assert (isolated_data_dir / "neurotask" / "demo").exists()


@pytest.fixture()
def full_data(isolated_data_dir) -> Path:
    full = isolated_data_dir / "neurotask" / "full"
    full.mkdir(parents=True)
    (full / "big.parquet").write_bytes(b"x" * 2_000_000)
    (isolated_data_dir / "neurotask" / "demo").mkdir(parents=True)
    return full


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_cli_clean_without_arguments_needs_yes_for_full_data(full_data, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # not a terminal: no prompt, no deletion
    assert main(["data", "clean"]) == 1
    assert "--yes" in capsys.readouterr().err and (full_data / "big.parquet").is_file()
    assert main(["data", "clean", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would remove" in out and str(full_data) in out and "2.0 MB" in out and full_data.is_dir()
    assert main(["data", "clean", "--yes"]) == 0
    assert not full_data.exists() and not (full_data.parent / "demo").exists()


def test_cli_clean_asks_at_a_terminal(full_data, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", _Terminal("n\n"))
    assert main(["data", "clean"]) == 1
    assert "Delete 0.00 GB of full data? [y/N]" in capsys.readouterr().out and full_data.is_dir()
    monkeypatch.setattr(sys, "stdin", _Terminal("y\n"))
    assert main(["data", "clean"]) == 0
    assert not full_data.exists()


def test_cli_verify_says_which_files_it_could_not_check(isolated_data_dir, capsys):
    folder = isolated_data_dir / "allen_visual_behavior" / "sample" / "project_metadata"
    folder.mkdir(parents=True)
    (folder / "behavior_session_table.csv").write_text("a,b\n1,2\n")
    assert main(["data", "verify", "allen_visual_behavior"]) == 0
    captured = capsys.readouterr()
    assert "unchecked" in captured.out and "could not be checked" in captured.err


def test_flags_keep_the_config_field_types_and_a_new_str_field_stays_a_str():
    import argparse
    from dataclasses import dataclass, fields

    from course_utils.flags import add_dataclass_flags, dataclass_from_flags
    from course_utils.sensorium.training import TrainConfig

    @dataclass
    class Extended(TrainConfig):
        run_name: str = "baseline"  # a field added later: "1e3" must stay the text "1e3"
        note: str | None = None

    parser = argparse.ArgumentParser()
    add_dataclass_flags(parser, Extended, choices={"readout": ("gaussian", "factorized")})
    config = dataclass_from_flags(Extended, parser.parse_args(
        ["--run-name", "1e3", "--note", "7", "--epochs", "2", "--max-minutes", "1.5", "--readout", "gaussian",
         "--no-progress", "--behavior-as-channels"]))
    assert config.run_name == "1e3" and config.note == "7" and config.readout == "gaussian"
    assert config.epochs == 2 and type(config.epochs) is int and config.max_minutes == 1.5
    assert config.progress is False and config.behavior_as_channels is True
    defaults = dataclass_from_flags(Extended, parser.parse_args([]))
    assert defaults == Extended()  # every default survives the parser, with its type
    for f in fields(Extended):
        value = getattr(defaults, f.name)
        assert value is None or isinstance(value, type(getattr(Extended(), f.name))), f.name
    with pytest.raises(SystemExit):
        parser.parse_args(["--epochs", "2.5"])  # an int field refuses a float

    @dataclass
    class Unflaggable:
        shape: tuple = (1, 2)

    with pytest.raises(TypeError, match="Unflaggable.shape"):
        add_dataclass_flags(argparse.ArgumentParser(), Unflaggable)

"""Checks for chapter 00_setup_and_data."""

from __future__ import annotations

from pathlib import Path

from ..data import file_sha256, source_folder, source_info, source_names
from . import ExerciseFeedback, exercise


@exercise("0.1", "Check a file yourself")
def check_sha256(my_sha256: str, largest_file, folder) -> None:
    files = [p for p in Path(folder).rglob("*") if p.is_file()]
    largest = max(files, key=lambda p: p.stat().st_size)
    if Path(largest_file) != largest:
        raise ExerciseFeedback(
            f"{Path(largest_file).name} is not the largest file: compare sizes with Path.stat().st_size "
            "over every file below the folder (rglob)."
        )
    if not isinstance(my_sha256, str) or len(my_sha256) != 64:
        raise ExerciseFeedback("a sha256 hex digest is a string of 64 hexadecimal characters: use .hexdigest().")
    if my_sha256 != file_sha256(largest):
        raise ExerciseFeedback(
            "the digest differs: make sure you open the file in binary mode ('rb') and update the hash with "
            "every chunk, including the last one."
        )


@exercise("0.2", "Where would the full data go?")
def check_full_folders(full_folders) -> None:
    if not isinstance(full_folders, dict):
        raise ExerciseFeedback("full_folders should be a dict mapping source names to folders.")
    expected_names = [n for n in source_names() if "full" in source_info(n)["modes"]]
    missing = sorted(set(expected_names) - set(full_folders))
    extra = sorted(set(full_folders) - set(expected_names))
    if missing:
        raise ExerciseFeedback(f"some sources with a full mode are missing, e.g. {missing[0]!r}.")
    if extra:
        raise ExerciseFeedback(f"{extra[0]!r} has no 'full' mode: look at source_info(name)['modes'].")
    for name in expected_names:
        if Path(full_folders[name]) != source_folder(name, "full"):
            raise ExerciseFeedback(f"the folder for {name!r} is not where the data layer looks: use source_folder(name, 'full').")

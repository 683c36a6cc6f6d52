"""Every "Taught in chapter NN_name." in course_utils names a chapter that exists, spelled exactly."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = {p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.py")}

# "Taught in chapter 08_decoding_baselines." / "Taught in chapters 06_a and 07_b." (names may be in ``...``)
TAUGHT = re.compile(r"Taught\s+in\s+chapters?\s+(?P<names>.+?)\.(?:\s|$)", re.S)


def _names(text: str) -> list[str]:
    """The chapter names of every "Taught in ..." sentence of ``text`` (``,``/``and``-separated)."""
    out = []
    for match in TAUGHT.finditer(text):
        for part in re.split(r",\s*|\s+and\s+", match["names"].strip()):
            out.append(part.strip().strip("`"))
    return out


def _references() -> list[tuple[str, int, str]]:
    refs = []
    for path in sorted((ROOT / "course_utils").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for match in TAUGHT.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            for name in _names(match.group(0)):
                refs.append((str(path.relative_to(ROOT)), line, name))
    return refs


def test_the_parser_reads_every_form_and_keeps_misspellings():
    assert _names("Taught in chapter 08_decoding_baselines.") == ["08_decoding_baselines"]
    assert _names("Taught in chapter ``00_setup_and_data``.\n") == ["00_setup_and_data"]
    assert _names("Taught in chapters 06_a, 07_b and 09_c.") == ["06_a", "07_b", "09_c"]
    assert _names("    Taught in chapters 02_x and\n    05_y.") == ["02_x", "05_y"]
    assert _names("Taught in chapter 8.") == ["8"]  # not a chapter name: the test below fails on it


def test_chapters_exist():
    assert len(CHAPTERS) >= 10, CHAPTERS


def test_every_taught_in_reference_names_an_existing_chapter():
    refs = _references()
    assert len(refs) > 150  # the package's public docstrings (a broken pattern must not pass silently)
    bad = [f"{path}:{line}: {name!r}" for path, line, name in refs if name not in CHAPTERS]
    assert not bad, "Unknown chapter names (expected one of notebooks/NN_name.py):\n" + "\n".join(bad)


def test_every_chapter_is_taught_by_some_module():
    # the reverse direction: a chapter renamed along with some of its references leaves none behind
    untaught = CHAPTERS - {name for _, _, name in _references()}
    assert not untaught, f"No 'Taught in chapter ...' in course_utils names {sorted(untaught)}: renamed?"

"""The workshop schedule (book/workshop.md) adds up from the chapters' own time estimates."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "book" / "workshop.md"
ROW = re.compile(r"^\|\s*([^|]+?)\s*\|\s*(\d\d:\d\d)\s*\|\s*(\d\d:\d\d)\s*\|\s*(\d+)\s*\|\s*([^|]*?)\s*\|$")


def chapter_minutes() -> dict[str, int]:
    """Each chapter's own estimate, from the ``**Time:** ~N min`` line near its top."""
    times = {}
    for path in sorted((REPO / "notebooks").glob("[0-9][0-9]_*.py")):
        found = re.search(r"\*\*Time:\*\*\s*~(\d+)\s*min", path.read_text()[:3000])
        assert found, f"{path.name}: state the time near the top, as '**Time:** ~N min'"
        times[path.stem] = int(found.group(1))
    return times


def schedules(text: str) -> list[list[tuple[str, str, str, int, str]]]:
    """The schedule tables of the page: consecutive rows of (block, start, end, minutes, chapters)."""
    tables, current = [], []
    for line in text.splitlines():
        match = ROW.match(line.strip())
        if match:
            block, start, end, minutes, chapters = match.groups()
            current.append((block, start, end, int(minutes), chapters))
        elif current:
            tables.append(current)
            current = []
    if current:
        tables.append(current)
    return tables


def _minutes(a: str, b: str) -> int:
    return int((datetime.strptime(b, "%H:%M") - datetime.strptime(a, "%H:%M")).total_seconds() // 60)


def test_blocks_add_up_from_the_chapters_times():
    times = chapter_minutes()
    tables = schedules(PAGE.read_text())
    assert len(tables) >= 4, "expected the three days and the one-day taster"
    taught = set()
    for table in tables:
        for block, start, end, minutes, chapters in table:
            assert _minutes(start, end) == minutes, f"block {block}: {start}-{end} is not {minutes} min"
            names = re.findall(r"notebooks/(\d\d_[a-z0-9_]+)", chapters)
            taught.update(names)
            if names:
                expected = sum(times[name] for name in names)
                assert minutes == expected, (
                    f"block {block} ({', '.join(names)}): {minutes} min, but the chapters state {expected} min"
                )
        for (_, _, end, _, _), (block, start, _, _, _) in zip(table, table[1:], strict=False):
            assert start == end, f"block {block} starts at {start}, the block before it ends at {end}"
    assert set(times) <= taught, f"chapters missing from every schedule: {sorted(set(times) - taught)}"


def test_schedules_have_breaks_and_the_three_days_teach_every_chapter_once():
    tables = schedules(PAGE.read_text())
    three_days = tables[:3]
    for table in tables:
        assert any(block in ("break", "lunch") for block, *_ in table), "every day needs a break"
    chapters = [name for table in three_days for *_, cells in table
                for name in re.findall(r"notebooks/(\d\d_[a-z0-9_]+)", cells)]
    assert sorted(chapters) == sorted(chapter_minutes()), "the three days teach every chapter exactly once"


def test_the_page_says_how_to_set_course_fast_in_colab():
    text = PAGE.read_text()
    assert 'os.environ["COURSE_FAST"] = "1"' in text
    assert "python -m course_utils sensorium score" in text

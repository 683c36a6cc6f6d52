"""The real-data check (the weekly GitHub job, `.github/workflows/real-data.yml`; needs the internet).

For every source with sample files it runs the learner's command, ``python -m course_utils data fetch SOURCE
--mode sample`` (download to a temporary name, sha256 checked where the manifest pins it, rename), then:

* verifies every file's size: exactly where the manifest gives ``size``; within the data layer's
  ``APPROX_TOLERANCE`` where it gives only ``approx_size`` (written down from the servers' listings);
* prints the exact size and sha256 of every file whose sha256 is still null in ``data_manifest.yaml``, as
  YAML lines to paste into the manifest;
* runs ``python -m course_utils data verify`` (every cached file against the manifest);

and exits non-zero on any failed download, size mismatch or checksum mismatch. The chapters are then
executed in sample mode by ``make real-data-chapters``. Usage::

    python .ci/real_data.py [--summary FILE]   # FILE: e.g. $GITHUB_STEP_SUMMARY (Markdown table appended)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from course_utils.data import data_dir, file_sha256, source_folder
from course_utils.data.remote import APPROX_TOLERANCE
from course_utils.manifest import load_manifest


def check_files(manifest: dict) -> tuple[list[dict], list[str]]:
    """One row per sample file (source, path, sizes, sha256, status) and the list of problems found."""
    rows, problems = [], []
    for name, info in manifest["sources"].items():
        for entry in info["modes"].get("sample", {}).get("files", []):
            path = source_folder(name, "sample") / entry["path"]
            exact = entry.get("size")
            row = {"source": name, "path": entry["path"], "expected_size": exact or entry.get("approx_size"),
                   "expected_sha256": entry.get("sha256"), "size": None, "sha256": None}
            rows.append(row)
            if not path.is_file():
                row["status"] = "missing"
                problems.append(f"{name}: {entry['path']} was not downloaded")
                continue
            row["size"], row["sha256"] = path.stat().st_size, file_sha256(path)
            expected = row["expected_size"]
            if row["expected_sha256"]:
                ok = row["sha256"] == row["expected_sha256"].lower() and (exact is None or row["size"] == exact)
                row["status"] = "ok" if ok else "MISMATCH"
            elif expected is None:
                row["status"] = "unpinned (no size on record)"
            elif exact is not None:
                row["status"] = "unpinned, size ok" if row["size"] == exact else "SIZE MISMATCH"
            else:
                ok = abs(row["size"] - expected) <= APPROX_TOLERANCE * expected
                row["status"] = "unpinned, size ok" if ok else "SIZE MISMATCH"
            if row["status"] in ("MISMATCH", "SIZE MISMATCH"):
                problems.append(
                    f"{name}: {entry['path']} has {row['size']} bytes, sha256 {row['sha256']}; the manifest says "
                    f"{expected} bytes, sha256 {row['expected_sha256']}"
                )
    return rows, problems


def to_pin(rows: list[dict]) -> str:
    """YAML lines to paste into data_manifest.yaml for every downloaded file whose sha256 is still null."""
    lines = []
    for row in rows:
        if row["sha256"] and not row["expected_sha256"]:
            lines += [f"# {row['source']}: {row['path']}", f"size: {row['size']}", f"sha256: {row['sha256']}"]
    return "\n".join(lines)


def markdown(rows: list[dict]) -> str:
    out = ["| source | file | size (manifest) | size (downloaded) | sha256 | status |", "|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['source']} | `{r['path']}` | {r['expected_size']} | {r['size']} | `{r['sha256']}` | {r['status']} |")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--summary", help="append a Markdown table to this file (e.g. $GITHUB_STEP_SUMMARY)")
    args = parser.parse_args(argv)
    manifest = load_manifest()
    print(f"data folder: {data_dir()}")
    failed = []
    for name, info in manifest["sources"].items():
        sample = info["modes"].get("sample")
        if sample is None or not sample.get("files"):
            why = "no sample mode" if sample is None else " ".join(sample["description"].split())
            print(f"\n== {name}: nothing to download ({why})")
            continue
        print(f"\n== {name}: python -m course_utils data fetch {name} --mode sample", flush=True)
        if subprocess.run([sys.executable, "-m", "course_utils", "data", "fetch", name, "--mode", "sample"]).returncode:
            failed.append(f"{name}: `data fetch --mode sample` failed (see above)")
    rows, problems = check_files(manifest)
    print("\n" + markdown(rows))
    pins = to_pin(rows)
    if pins:
        print("sha256 still null in data_manifest.yaml; the downloaded files have (paste after checking them):")
        print(pins)
    print("\n== python -m course_utils data verify", flush=True)
    if subprocess.run([sys.executable, "-m", "course_utils", "data", "verify"]).returncode:
        failed.append("`data verify` found a checksum mismatch (see above)")
    if args.summary:
        with open(args.summary, "a", encoding="utf-8") as fh:
            fh.write("## Sample files\n\n" + markdown(rows))
            if pins:
                fh.write("\nsha256 still null in data_manifest.yaml:\n\n```yaml\n" + pins + "\n```\n")
    failed += problems
    for problem in failed:
        print(f"FAILED: {problem}", file=sys.stderr)
    print("\nreal data: " + ("all sample files downloaded and verified" if not failed else f"{len(failed)} problem(s)"))
    return 1 if failed else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())

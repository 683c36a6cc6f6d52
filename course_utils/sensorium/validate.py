"""Command line: ``python -m course_utils.sensorium.validate SUBMISSION DATASET_ROOT [--skip-last 1]``.

A thin entry point (the package does not import it, so ``python -m`` runs it cleanly); the checks are in
:mod:`course_utils.sensorium.validation`. Exit status 0 when the submission is valid, 1 otherwise.

Taught in chapter 09_sensorium_encoding_and_submission.
"""

from __future__ import annotations

from .validation import main

__all__ = ["main"]

if __name__ == "__main__":
    raise SystemExit(main())

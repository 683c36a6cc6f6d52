"""Command line: ``python -m course_utils.sensorium.train --data DATA_ROOT ...`` (also under ``torchrun``).

A thin entry point (the package does not import it, so ``python -m`` runs it cleanly); the training code is in
:mod:`course_utils.sensorium.training`.

Taught in chapter 09_sensorium_encoding_and_submission.
"""

from __future__ import annotations

from .training import main

if __name__ == "__main__":
    raise SystemExit(main())

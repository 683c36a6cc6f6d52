"""Print the package version (``__version__`` in course_utils/__init__.py, the one place it is set)."""

import re
from pathlib import Path

text = (Path(__file__).resolve().parents[1] / "course_utils" / "__init__.py").read_text(encoding="utf-8")
print(re.search(r'^__version__ = "([^"]+)"', text, re.M).group(1))

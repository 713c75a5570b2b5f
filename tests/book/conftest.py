"""Fixtures of the book's tests: the book folder on sys.path, so that ``_lib`` imports."""

from __future__ import annotations

import sys
from pathlib import Path

BOOK = Path(__file__).resolve().parents[2] / "book"

if str(BOOK) not in sys.path:
    sys.path.insert(0, str(BOOK))

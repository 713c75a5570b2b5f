"""The errors raised for malformed or missing ratings input."""

from __future__ import annotations

from pathlib import Path


class DataFormatError(ValueError):
    """A ratings file or frame is malformed.

    The message always names the source (a file path or a description), the
    line when there is one, and what is wrong, for example::

        ratings.csv, line 7: rating 'abc' is not a number.

    Attributes:
        source: The file or description the bad input came from.
        line: 1-based line number in the file (``None`` when not applicable).
        problem: What is wrong, in words.
    """

    def __init__(self, source: str | Path, problem: str, line: int | None = None) -> None:
        self.source = str(source)
        self.line = line
        self.problem = problem
        where = self.source if line is None else f"{self.source}, line {line}"
        super().__init__(f"{where}: {problem}")


class DataFileNotFoundError(DataFormatError, FileNotFoundError):
    """A file the readers were asked to read does not exist.

    It is both a :class:`DataFormatError` (same message layout and attributes)
    and a :class:`FileNotFoundError`, so either ``except`` clause catches it.
    """

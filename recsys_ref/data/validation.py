"""Checks that turn raw text into a clean ratings frame, or fail loudly.

Every reader in :mod:`recsys_ref.data` reads its file with
:func:`read_text_table` (all fields as text, each row with its line number in
the file) and hands the columns to :func:`parse_ratings` or
:func:`parse_integer_column`, so every format reports bad input the same way:
the file, the line, and what is wrong. Nothing is dropped or guessed; only
blank lines, which hold no data, are skipped (line numbers still count them).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from recsys_ref.data.errors import DataFileNotFoundError, DataFormatError

RATING_COLUMNS = ("user_id", "item_id", "rating", "timestamp")

#: From here on, integers lose precision as float64; no id, rating or timestamp is that large.
_LARGEST_EXACT = 2**53

_SEPARATOR_NAMES = {",": "comma", "\t": "tab", "|": "'|'"}

Lines = int | Sequence[int] | np.ndarray


class TextTable(NamedTuple):
    """A delimited file read as text.

    Attributes:
        header: The header's field names (``None`` for a file without header).
        rows: One row per non-blank data line, every field a ``str``; columns
            are the header names, or ``0, 1, ...`` without a header.
        lines: int64 array: the 1-based file line number of each row.
    """

    header: list[str] | None
    rows: pd.DataFrame
    lines: np.ndarray


def read_text_table(
    path: str | Path,
    *,
    sep: str = ",",
    header: bool = True,
    width: int | None = None,
    encoding: str = "utf-8",
    quoting: int = csv.QUOTE_MINIMAL,
) -> TextTable:
    """Read a delimited text file as strings, keeping every row's line number.

    Blank lines are skipped. Every other line must have the same number of
    fields: ``width`` when given, else as many as the header (or, without a
    header, as the first line). A header-only file gives zero rows; the caller
    decides how to report that.

    Args:
        path: The file.
        sep: The field separator (one character).
        header: Whether the first non-blank line is a header.
        width: The required number of fields per line, or ``None``.
        encoding: The text encoding (a UTF-8 byte-order mark is ignored).
        quoting: A :mod:`csv` quoting constant; ``csv.QUOTE_NONE`` for the
            MovieLens files, whose titles may contain quote characters.

    Raises:
        DataFileNotFoundError: The file does not exist.
        DataFormatError: The file is empty, is not valid text in ``encoding``,
            cannot be split into fields, names a column twice, or has a line
            with the wrong number of fields (with its line number).
    """
    path = Path(path)
    if not path.is_file():
        problem = "is a folder, not a file." if path.is_dir() else "file not found."
        raise DataFileNotFoundError(path, problem)
    raw = path.read_bytes()
    if not raw.strip():
        raise DataFormatError(
            path, "the file is empty (zero bytes)." if not raw else "the file is empty (only blank lines)."
        )
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as error:
        raise DataFormatError(
            path,
            f"byte {raw[error.start]:#04x} is not valid {encoding} text ({error.reason}).",
            line=raw.count(b"\n", 0, error.start) + 1,
        ) from None
    text = text.removeprefix("\ufeff")

    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, quoting=quoting, strict=True)
    names: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    start = 1
    try:
        for fields in reader:
            line, start = start, reader.line_num + 1
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue  # a blank line
            if header and names is None:
                names = fields
                _check_header(names, path)
                width = width if width is not None else len(names)
                if len(names) != width:
                    _wrong_width(path, line, width, len(names), sep)
                continue
            if width is None:
                width = len(fields)
            if len(fields) != width:
                _wrong_width(path, line, width, len(fields), sep)
            rows.append(fields)
            lines.append(line)
    except csv.Error as error:
        raise DataFormatError(path, f"cannot be split into fields: {error}.", line=start) from None
    columns = names if header else list(range(width or 0))
    frame = pd.DataFrame(rows or None, columns=columns, dtype=object)
    return TextTable(names, frame, np.asarray(lines, dtype=np.int64))


def _check_header(names: list[str], path: Path) -> None:
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        if name in seen:
            raise DataFormatError(
                path, f"column {name!r} appears twice in the header (fields {seen[name]} and {position}).", line=1
            )
        seen[name] = position


def _wrong_width(path: Path, line: int, expected: int, found: int, sep: str) -> None:
    kind = _SEPARATOR_NAMES.get(sep, repr(sep))
    raise DataFormatError(
        path, f"expected {expected} {kind}-separated fields, found {found}.", line=line
    )


def _line_numbers(first_line: Lines, n_rows: int) -> np.ndarray:
    if np.ndim(first_line) == 0:
        return int(first_line) + np.arange(n_rows)
    lines = np.asarray(first_line, dtype=np.int64)
    if len(lines) != n_rows:
        raise ValueError(f"got {len(lines)} line numbers for {n_rows} rows.")
    return lines


def _first_bad(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def parse_integer_column(
    raw: pd.Series,
    *,
    name: str,
    source: str | Path,
    first_line: Lines,
    minimum: int | None = None,
    maximum: int | None = None,
) -> np.ndarray:
    """Parse a text column into ``int64``, naming the first bad line.

    Surrounding spaces are ignored, and a whole number written as a float
    (``"3.0"``) is accepted.

    Args:
        raw: The column as strings, in file order.
        name: What the column holds, for messages ("user id", "rating", ...).
        source: The file (or description) for messages.
        first_line: The file line number of ``raw``'s first row (following
            rows are on the following lines), or one line number per row.
        minimum, maximum: Inclusive bounds; ``None`` for no bound.

    Raises:
        DataFormatError: On an empty, non-numeric, fractional, too large or
            out-of-range value.
    """
    lines = _line_numbers(first_line, len(raw))
    text = raw.astype(str).str.strip()
    numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(numbers)
    if bad.any():
        row = _first_bad(bad)
        value = text.iloc[row]
        problem = f"{name} is empty" if value == "" else f"{name} {value!r} is not a number"
        raise DataFormatError(source, problem + ".", line=int(lines[row]))
    fractional = numbers != np.round(numbers)
    if fractional.any():
        row = _first_bad(fractional)
        raise DataFormatError(
            source, f"{name} {text.iloc[row]!r} is not a whole number.", line=int(lines[row])
        )
    too_large = np.abs(numbers) >= _LARGEST_EXACT
    if too_large.any():
        row = _first_bad(too_large)
        raise DataFormatError(source, f"{name} {text.iloc[row]!r} is too large.", line=int(lines[row]))
    too_low = numbers < minimum if minimum is not None else np.zeros(len(numbers), bool)
    too_high = numbers > maximum if maximum is not None else np.zeros(len(numbers), bool)
    out_of_range = too_low | too_high
    if out_of_range.any():
        row = _first_bad(out_of_range)
        if minimum is not None and maximum is not None:
            bounds = f"a whole number from {minimum} to {maximum}"
        elif minimum is not None:
            bounds = f">= {minimum}"
        else:
            bounds = f"<= {maximum}"
        raise DataFormatError(
            source,
            f"{name} {text.iloc[row]!r} is out of range: it must be {bounds}.",
            line=int(lines[row]),
        )
    return numbers.astype(np.int64)


def parse_ratings(
    columns: dict[str, pd.Series],
    *,
    source: str | Path,
    first_line: Lines,
    rating_range: tuple[int, int] = (1, 5),
) -> pd.DataFrame:
    """Validate raw rating columns and return a clean frame.

    Args:
        columns: ``user_id``, ``item_id`` and ``rating`` (and optionally
            ``timestamp``) as text series of equal length, in file order.
        source: The file for messages.
        first_line: File line number of the first data row, or one line
            number per row.
        rating_range: Inclusive range of valid (integer) ratings.

    Returns:
        A frame with int64 columns ``user_id``, ``item_id``, ``rating`` and,
        when given, ``timestamp``, in file order with a fresh index.

    Raises:
        DataFormatError: When there are no rows, on a bad value (with its
            line), or on a user-item pair rated twice (with both lines).
    """
    n_rows = len(columns["user_id"])
    if n_rows == 0:
        raise DataFormatError(source, "the file has no ratings.")
    lines = _line_numbers(first_line, n_rows)
    low, high = rating_range
    frame = pd.DataFrame(
        {
            "user_id": parse_integer_column(
                columns["user_id"], name="user id", source=source, first_line=lines, minimum=1
            ),
            "item_id": parse_integer_column(
                columns["item_id"], name="item id", source=source, first_line=lines, minimum=1
            ),
            "rating": parse_integer_column(
                columns["rating"],
                name="rating",
                source=source,
                first_line=lines,
                minimum=low,
                maximum=high,
            ),
        }
    )
    if "timestamp" in columns:
        frame["timestamp"] = parse_integer_column(
            columns["timestamp"], name="timestamp", source=source, first_line=lines, minimum=0
        )
    check_no_duplicate_pairs(frame, source=source, first_line=lines)
    return frame


def check_no_duplicate_pairs(frame: pd.DataFrame, *, source: str | Path, first_line: Lines) -> None:
    """Raise if any (user_id, item_id) pair occurs twice, naming every line it is on."""
    duplicated = frame.duplicated(["user_id", "item_id"], keep=False).to_numpy()
    if not duplicated.any():
        return
    lines = _line_numbers(first_line, len(frame))
    rows = np.flatnonzero(duplicated)
    user, item = frame["user_id"].to_numpy()[rows[0]], frame["item_id"].to_numpy()[rows[0]]
    same = rows[(frame["user_id"].to_numpy()[rows] == user) & (frame["item_id"].to_numpy()[rows] == item)]
    raise DataFormatError(
        source,
        f"user {user} rated item {item} more than once (lines "
        f"{', '.join(str(lines[r]) for r in same)}); keep one rating per user-item pair.",
        line=int(lines[same[1]]),
    )


def check_unique_ids(ids: np.ndarray, *, name: str, source: str | Path, first_line: Lines) -> None:
    """Raise if an id occurs twice, naming the id and both lines."""
    duplicated = pd.Series(ids).duplicated(keep=False).to_numpy()
    if not duplicated.any():
        return
    lines = _line_numbers(first_line, len(ids))
    rows = np.flatnonzero(duplicated)
    same = rows[ids[rows] == ids[rows[0]]]
    raise DataFormatError(
        source,
        f"{name} {ids[rows[0]]} appears more than once (lines {', '.join(str(lines[r]) for r in same)}).",
        line=int(lines[same[1]]),
    )


def require_columns(
    present: list[str], required: tuple[str, ...], *, source: str | Path
) -> None:
    """Raise if any required column is missing from a header, listing both."""
    missing = [c for c in required if c not in present]
    if missing:
        has = ", ".join(repr(c) for c in present) or "no columns"
        raise DataFormatError(
            source,
            f"missing column(s) {', '.join(missing)}; the header has {has} "
            f"but needs {', '.join(required)}.",
            line=1,
        )


def check_ids_in_matrix(
    ratings: pd.DataFrame, n_users: int, n_items: int, *, source: str = "ratings frame"
) -> None:
    """Raise if a ``user_id``/``item_id`` falls outside ``1..n_users``/``1..n_items``,
    or a user-item pair occurs twice (it would silently overwrite the other)."""
    for column, size, what in (("user_id", n_users, "n_users"), ("item_id", n_items, "n_items")):
        ids = ratings[column].to_numpy()
        outside = (ids < 1) | (ids > size)
        if outside.any():
            row = _first_bad(outside)
            raise DataFormatError(
                source,
                f"row {row} (index {ratings.index[row]!r}): {column} {ids[row]} is outside the "
                f"matrix; with {what}={size} the ids must be 1..{size}.",
            )
    duplicated = ratings.duplicated(["user_id", "item_id"], keep=False).to_numpy()
    if duplicated.any():
        rows = np.flatnonzero(duplicated)
        users, items = ratings["user_id"].to_numpy(), ratings["item_id"].to_numpy()
        same = rows[(users[rows] == users[rows[0]]) & (items[rows] == items[rows[0]])]
        raise DataFormatError(
            source,
            f"user {users[rows[0]]} rated item {items[rows[0]]} more than once (rows "
            f"{', '.join(str(r) for r in same)}); a matrix cell holds one rating.",
        )

"""Text tables: delimited files into clean columns, or an error naming the file, line and problem.

Every reader in :mod:`recsys_ref.data` goes through this module, so every
format reports bad input the same way (:class:`~recsys_ref.data.DataFormatError`
with the file, the line and what is wrong). Nothing is dropped or guessed;
only blank lines, which hold no data, are skipped (line numbers still count
them).

:func:`read_text_table` reads any delimited file as text with :mod:`csv`,
keeping every row's line number: the files with text (titles, tags, users)
and the original notebook's CSV files. The all-number files (ratings, genome
scores; up to 25 million lines) are read by
:func:`recsys_ref.data.numberfiles.read_number_table` with pandas' C parser
and vectorised checks, which give the same messages through
:class:`NumberColumn` and the helpers here.

Files may be plain paths or members of a zip (:class:`zipfile.Path`). Text
is decoded as the format says, with a UTF-8 byte-order mark ignored and a
UTF-16 one honoured (Excel's "Unicode Text"); a format may accept several
encodings, tried in order (the Latin-1 MovieLens files: UTF-8 first, since a
file re-saved as UTF-8 is valid UTF-8, and Latin-1 text with accents almost
never is). Windows (CRLF) and old Mac (CR) line endings are read as line ends.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from recsys_ref.data.errors import DataFileNotFoundError, DataFormatError
from recsys_ref.data.identify import describe_binary, describe_text, identify_line

#: A file on disk or inside a zip.
FileLike = Path | zipfile.Path

#: From here on, integers lose precision as float64; no id, rating or timestamp is that large.
_LARGEST_EXACT = 2**53

_SEPARATOR_NAMES = {",": "comma", "\t": "tab", "|": "'|'", "::": "'::'", ";": "';'"}
_PLURALS = {",": "commas", "\t": "tabs", "|": "'|' characters", "::": "'::'", ";": "semicolons"}

#: Stands in for the two-character separator "::" while csv splits a line.
_UNIT_SEPARATOR = "\x1f"

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


def as_file(path: str | os.PathLike | zipfile.Path) -> FileLike:
    """A :class:`pathlib.Path`, or the given :class:`zipfile.Path` unchanged."""
    return path if isinstance(path, zipfile.Path) else Path(path)


def read_file_bytes(path: str | os.PathLike | zipfile.Path) -> bytes:
    """The file's bytes, after checking that it exists, is not empty and is not binary.

    Raises:
        DataFileNotFoundError: The file does not exist (or is a folder).
        DataFormatError: The file is empty, or is binary (a zip, a workbook...),
            with what it is.
    """
    file = as_file(path)
    if not file.is_file():
        problem = "is a folder, not a file." if file.is_dir() else "file not found."
        raise DataFileNotFoundError(file, problem)
    raw = file.read_bytes()
    if not raw or raw.isspace():
        raise DataFormatError(
            file,
            "the file is empty (zero bytes)."
            if not raw
            else "the file is empty (only blank lines).",
        )
    binary = describe_binary(raw)
    if binary is not None:
        raise DataFormatError(file, binary)
    return raw


def decode_text(
    raw: bytes, source: str | os.PathLike | zipfile.Path, encoding: str | Sequence[str] = "utf-8"
) -> str:
    """Decode a file's bytes, trying each encoding in turn.

    A UTF-8 byte-order mark is dropped; a UTF-16 one means UTF-16, whatever
    ``encoding`` says (it cannot be anything else).

    Raises:
        DataFormatError: No encoding fits (naming the first bad byte and its
            line, and what to do), or the text is a notebook or a web page.
    """
    encodings = (encoding,) if isinstance(encoding, str) else tuple(encoding)
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError as error:
            raise DataFormatError(
                source,
                "the file starts with a UTF-16 byte-order mark but is not UTF-16 text "
                f"({error.reason}).",
            ) from None
    else:
        raw = raw.removeprefix(codecs.BOM_UTF8)
        text, failure = None, None
        for name in encodings:
            try:
                text = raw.decode(name)
                break
            except UnicodeDecodeError as error:
                failure = failure or (name, error)
        if text is None:
            name, error = failure
            hint = ""
            if codecs.lookup(name).name == "utf-8":
                hint = (
                    " The file is in another encoding (probably Latin-1 or Windows-1252, as "
                    "Excel and some editors save text): save it again as UTF-8 "
                    "(in Excel: 'CSV UTF-8')."
                )
            raise DataFormatError(
                source,
                f"byte {raw[error.start]:#04x} is not valid {name} text ({error.reason}).{hint}",
                line=raw.count(b"\n", 0, error.start) + 1,
            ) from None
    text = text.removeprefix("\ufeff")
    kind = describe_text(text)
    if kind is not None:
        raise DataFormatError(source, kind)
    return text


def read_text_table(
    path: str | os.PathLike | zipfile.Path,
    *,
    sep: str = ",",
    header: bool = True,
    width: int | None = None,
    encoding: str | Sequence[str] = "utf-8",
    quoting: int = csv.QUOTE_MINIMAL,
) -> TextTable:
    """Read a delimited text file as strings, keeping every row's line number.

    Blank lines are skipped. Every other line must have the same number of
    fields: ``width`` when given, else as many as the header (or, without a
    header, as the first line). A header-only file gives zero rows; the caller
    decides how to report that.

    Args:
        path: The file (a path, or a :class:`zipfile.Path` inside a zip).
        sep: The field separator: one character, or ``"::"`` (MovieLens' ``.dat`` files).
        header: Whether the first non-blank line is a header.
        width: The required number of fields per line, or ``None``.
        encoding: The text encoding, or several to try in order (see :func:`decode_text`).
        quoting: A :mod:`csv` quoting constant; ``csv.QUOTE_NONE`` for the
            MovieLens files, whose titles may contain quote characters.

    Raises:
        DataFileNotFoundError: The file does not exist.
        DataFormatError: The file is empty or binary, is not valid text in
            ``encoding``, cannot be split into fields, names a column twice,
            or has a line with the wrong number of fields (with its line
            number, and what the file looks like when its first line is wrong).
    """
    file = as_file(path)
    text = decode_text(read_file_bytes(file), file, encoding)
    delimiter = sep
    if sep == "::":
        if _UNIT_SEPARATOR in text:
            line = text.count("\n", 0, text.index(_UNIT_SEPARATOR)) + 1
            raise DataFormatError(
                file,
                "the control character 0x1f is not allowed in a '::'-separated file.",
                line=line,
            )
        text, delimiter = text.replace("::", _UNIT_SEPARATOR), _UNIT_SEPARATOR
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=delimiter, quoting=quoting, strict=True
    )
    names: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    start, seen_data = 1, False
    try:
        for fields in reader:
            line, start = start, reader.line_num + 1
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue  # a blank line
            first = not seen_data and names is None
            if header and names is None:
                names = fields
                check_header(names, file, line)
                width = width if width is not None else len(names)
                if len(names) != width:
                    raise_wrong_width(file, line, width, len(names), sep, fields, first=True)
                continue
            if width is None:
                width = len(fields)
            if len(fields) != width:
                raise_wrong_width(file, line, width, len(fields), sep, fields, first=first)
            seen_data = True
            rows.append(fields)
            lines.append(line)
    except csv.Error as error:
        raise DataFormatError(file, f"cannot be split into fields: {error}.", line=start) from None
    columns = names if header else list(range(width or 0))
    frame = pd.DataFrame(rows or None, columns=columns, dtype=object)
    return TextTable(names, frame, np.asarray(lines, dtype=np.int64))


def check_header(names: list[str], path: FileLike, line: int = 1) -> None:
    """Raise if a header (on file line ``line``) names a column twice, naming both fields."""
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        if name in seen:
            raise DataFormatError(
                path,
                f"column {name!r} appears twice in the header "
                f"(fields {seen[name]} and {position}).",
                line=line,
            )
        seen[name] = position


def raise_wrong_width(
    path: FileLike,
    line: int,
    expected: int,
    found: int,
    sep: str,
    fields: list[str],
    *,
    first: bool,
) -> None:
    """Raise "expected N <sep>-separated fields, found M" for a line; when the line splits
    rightly on another separator, or is a file's ``first`` line that looks like another
    known file, say so."""
    kind = _SEPARATOR_NAMES.get(sep, repr(sep))
    problem = f"expected {expected} {kind}-separated fields, found {found}."
    text = sep.join(fields)
    if found == 1 and sep in (",", "\t", "|"):
        for other in (";", "\t", ",", "|", "::"):
            if other != sep and len(text.split(other)) == expected:
                problem += f" The line is separated by {_PLURALS[other]}, not {_PLURALS[sep]}" + (
                    " (as Excel writes CSV in some languages: save it as 'CSV UTF-8')."
                    if other == ";"
                    else "."
                )
                break
    if first:
        hint = describe_first_line(text, path.name)
        if hint:
            problem += " " + hint
    raise DataFormatError(path, problem, line=line)


def describe_first_line(line: str, file_name: str | None = None) -> str | None:
    """A sentence saying what a file whose first line is ``line`` looks like, when that is
    a known file (``None`` when unknown, or when it has the name ``file_name``: then it is
    presumably a damaged copy of the expected file, not another file)."""
    kind = identify_line(line)
    if kind is None or kind.file_name == file_name:
        return None
    return kind.sentence()


# --- numbers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class NumberColumn:
    """What a numeric column may hold, and how to say what is wrong with it.

    Attributes:
        label: The column in words, for messages ("user id", "rating").
        minimum, maximum: Inclusive bounds (``None``: no bound).
        step: Values are multiples of ``step``: ``1`` whole numbers (parsed as
            int64), ``0.5`` half stars, ``None`` any real number (float64).
    """

    label: str
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = 1

    @property
    def whole(self) -> bool:
        return self.step == 1

    def _off_step(self, numbers: np.ndarray) -> np.ndarray:
        if self.step is None:
            return np.zeros(len(numbers), bool)
        scaled = numbers / self.step
        return scaled != np.round(scaled)

    def _out_of_range(self, numbers: np.ndarray) -> np.ndarray:
        low = numbers < self.minimum if self.minimum is not None else np.zeros(len(numbers), bool)
        high = numbers > self.maximum if self.maximum is not None else np.zeros(len(numbers), bool)
        return low | high

    def accepts(self, numbers: np.ndarray) -> bool:
        """Whether every value of a float array is valid (the fast path; no message)."""
        if (
            not np.isfinite(numbers).all()
            or self._off_step(numbers).any()
            or self._out_of_range(numbers).any()
        ):
            return False
        return not (self.whole and (np.abs(numbers) >= _LARGEST_EXACT).any())

    def convert(self, numbers: np.ndarray) -> np.ndarray:
        """Valid float values as int64 (whole numbers) or float64."""
        return numbers.astype(np.int64) if self.whole else numbers.astype(np.float64)

    def _bounds(self) -> str:
        low, high = self.minimum, self.maximum
        if low is not None and high is not None:
            if self.whole:
                return f"a whole number from {low:g} to {high:g}"
            if self.step is None:
                return f"from {low:g} to {high:g}"
            return f"from {low:g} to {high:g} in steps of {self.step:g}"
        return f">= {low:g}" if low is not None else f"<= {high:g}"

    def parse(
        self, raw: pd.Series, *, source: str | os.PathLike | zipfile.Path, first_line: Lines
    ) -> np.ndarray:
        """Parse a text column, naming the first bad line.

        Surrounding spaces are ignored, and a whole number written as a float
        (``"3.0"``) is accepted.

        Args:
            raw: The column as strings, in file order.
            source: The file (or description) for messages.
            first_line: The file line number of ``raw``'s first row (following
                rows are on the following lines), or one line number per row.

        Returns:
            int64 (whole numbers) or float64 values.

        Raises:
            DataFormatError: On an empty, non-numeric, off-step, too large or
                out-of-range value.
        """
        name = self.label
        lines = _line_numbers(first_line, len(raw))
        text = raw.astype(str).str.strip()
        numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(numbers)
        if bad.any():
            row = _first(bad)
            value = text.iloc[row]
            problem = f"{name} is empty" if value == "" else f"{name} {value!r} is not a number"
            raise DataFormatError(source, problem + ".", line=int(lines[row]))
        off_step = self._off_step(numbers)
        if off_step.any():
            row = _first(off_step)
            what = "a whole number" if self.whole else f"a multiple of {self.step:g}"
            raise DataFormatError(
                source, f"{name} {text.iloc[row]!r} is not {what}.", line=int(lines[row])
            )
        if self.whole:
            too_large = np.abs(numbers) >= _LARGEST_EXACT
            if too_large.any():
                row = _first(too_large)
                raise DataFormatError(
                    source, f"{name} {text.iloc[row]!r} is too large.", line=int(lines[row])
                )
        out_of_range = self._out_of_range(numbers)
        if out_of_range.any():
            row = _first(out_of_range)
            raise DataFormatError(
                source,
                f"{name} {text.iloc[row]!r} is out of range: it must be {self._bounds()}.",
                line=int(lines[row]),
            )
        return self.convert(numbers)


USER_ID = NumberColumn("user id", minimum=1)
ITEM_ID = NumberColumn("item id", minimum=1)
TIMESTAMP = NumberColumn("timestamp", minimum=0)
#: Whole-star ratings 1..5 (ML-100K, ML-1M, the original notebook's files).
WHOLE_STARS = NumberColumn("rating", minimum=1, maximum=5)
#: Half-star ratings 0.5..5 (ML-10M and later).
HALF_STARS = NumberColumn("rating", minimum=0.5, maximum=5, step=0.5)


def _line_numbers(first_line: Lines, n_rows: int) -> np.ndarray:
    if np.ndim(first_line) == 0:
        return int(first_line) + np.arange(n_rows)
    lines = np.asarray(first_line, dtype=np.int64)
    if len(lines) != n_rows:
        raise ValueError(f"got {len(lines)} line numbers for {n_rows} rows.")
    return lines


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def parse_integer_column(
    raw: pd.Series,
    *,
    name: str,
    source: str | os.PathLike | zipfile.Path,
    first_line: Lines,
    minimum: int | None = None,
    maximum: int | None = None,
) -> np.ndarray:
    """Parse a text column of whole numbers into ``int64``, naming the first bad line.

    See :meth:`NumberColumn.parse`; ``name`` is the column in words.
    """
    return NumberColumn(name, minimum, maximum).parse(raw, source=source, first_line=first_line)


def parse_ratings(
    columns: dict[str, pd.Series],
    *,
    source: str | os.PathLike | zipfile.Path,
    first_line: Lines,
    rating: NumberColumn = WHOLE_STARS,
) -> pd.DataFrame:
    """Validate raw rating columns and return a clean frame.

    Args:
        columns: ``user_id``, ``item_id`` and ``rating`` (and optionally
            ``timestamp``) as text series of equal length, in file order.
        source: The file for messages.
        first_line: File line number of the first data row, or one line
            number per row.
        rating: What a rating may be (:data:`WHOLE_STARS` or :data:`HALF_STARS`).

    Returns:
        A frame with int64 columns ``user_id``, ``item_id``, ``rating`` (float64
        for half stars) and, when given, ``timestamp``, in file order.

    Raises:
        DataFormatError: When there are no rows, on a bad value (with its
            line), or on a user-item pair rated twice (with both lines).
    """
    n_rows = len(columns["user_id"])
    if n_rows == 0:
        raise DataFormatError(source, "the file has no ratings.")
    lines = _line_numbers(first_line, n_rows)
    parts = [("user_id", USER_ID), ("item_id", ITEM_ID), ("rating", rating)]
    if "timestamp" in columns:
        parts.append(("timestamp", TIMESTAMP))
    frame = pd.DataFrame(
        {key: column.parse(columns[key], source=source, first_line=lines) for key, column in parts}
    )
    check_no_duplicate_pairs(frame, source=source, first_line=lines)
    return frame


# --- checks ------------------------------------------------------------------------------


def duplicate_pair_rows(users: np.ndarray, items: np.ndarray) -> np.ndarray | None:
    """The rows holding the first (user, item) pair that occurs more than once, or ``None``.

    Linear when the pairs are sorted (as in every MovieLens ratings file);
    otherwise one hash pass.
    """
    users = np.asarray(users, dtype=np.int64)
    items = np.asarray(items, dtype=np.int64)
    if len(users) < 2:
        return None
    low = int(min(users.min(), items.min()))
    span = int(items.max()) - low + 1
    if int(users.max()) - low < 2**62 // max(span, 1):
        keys = (users - low) * span + (items - low)
        if (np.diff(keys) > 0).all():
            return None
        duplicated = pd.Series(keys).duplicated(keep=False).to_numpy()
    else:
        duplicated = pd.DataFrame({"u": users, "i": items}).duplicated(keep=False).to_numpy()
    if not duplicated.any():
        return None
    rows = np.flatnonzero(duplicated)
    return rows[(users[rows] == users[rows[0]]) & (items[rows] == items[rows[0]])]


def check_no_duplicate_pairs(
    frame: pd.DataFrame, *, source: str | os.PathLike | zipfile.Path, first_line: Lines
) -> None:
    """Raise if any (user_id, item_id) pair occurs twice, naming every line it is on."""
    same = duplicate_pair_rows(frame["user_id"].to_numpy(), frame["item_id"].to_numpy())
    if same is None:
        return
    lines = _line_numbers(first_line, len(frame))
    user, item = frame["user_id"].iat[same[0]], frame["item_id"].iat[same[0]]
    raise DataFormatError(
        source,
        f"user {user} rated item {item} more than once (lines "
        f"{', '.join(str(lines[r]) for r in same)}); keep one rating per user-item pair.",
        line=int(lines[same[1]]),
    )


def check_unique_ids(
    ids: np.ndarray, *, name: str, source: str | os.PathLike | zipfile.Path, first_line: Lines
) -> None:
    """Raise if an id occurs twice, naming the id and both lines."""
    duplicated = pd.Series(ids).duplicated(keep=False).to_numpy()
    if not duplicated.any():
        return
    lines = _line_numbers(first_line, len(ids))
    rows = np.flatnonzero(duplicated)
    same = rows[ids[rows] == ids[rows[0]]]
    raise DataFormatError(
        source,
        f"{name} {ids[rows[0]]} appears more than once "
        f"(lines {', '.join(str(lines[r]) for r in same)}).",
        line=int(lines[same[1]]),
    )


def require_columns(
    present: list[str],
    required: tuple[str, ...],
    *,
    source: str | os.PathLike | zipfile.Path,
    sep: str = ",",
) -> None:
    """Raise if any required column is missing from a header, listing both.

    When the header is split by another separator than ``sep``, or is that of
    another known file (MovieLens', the original notebook's), the message says
    so and what to do.
    """
    missing = [c for c in required if c not in present]
    if missing:
        has = ", ".join(repr(c) for c in present) or "no columns"
        problem = (
            f"missing column(s) {', '.join(missing)}; the header has {has} "
            f"but needs {', '.join(required)}."
        )
        if len(present) == 1:
            for other in (";", "\t", ",", "|"):
                if other != sep and set(required) <= {
                    name.strip() for name in present[0].split(other)
                }:
                    problem += (
                        f" The header is separated by {_PLURALS[other]}, not {_PLURALS[sep]}"
                        + (
                            " (as Excel writes CSV in some languages: save it as 'CSV UTF-8')."
                            if other == ";"
                            else "."
                        )
                    )
        hint = describe_first_line(",".join(present))
        raise DataFormatError(source, problem + (" " + hint if hint else ""), line=1)


def check_ids_in_matrix(
    ratings: pd.DataFrame, n_users: int, n_items: int, *, source: str = "ratings frame"
) -> None:
    """Raise if a ``user_id``/``item_id`` falls outside ``1..n_users``/``1..n_items``,
    or a user-item pair occurs twice (it would silently overwrite the other)."""
    for column, size, what in (("user_id", n_users, "n_users"), ("item_id", n_items, "n_items")):
        ids = ratings[column].to_numpy()
        outside = (ids < 1) | (ids > size)
        if outside.any():
            row = _first(outside)
            raise DataFormatError(
                source,
                f"row {row} (index {ratings.index[row]!r}): {column} {ids[row]} is outside the "
                f"matrix; with {what}={size} the ids must be 1..{size}.",
            )
    same = duplicate_pair_rows(ratings["user_id"].to_numpy(), ratings["item_id"].to_numpy())
    if same is not None:
        raise DataFormatError(
            source,
            f"user {ratings['user_id'].iat[same[0]]} rated item {ratings['item_id'].iat[same[0]]} "
            f"more than once (rows {', '.join(str(r) for r in same)}); "
            "a matrix cell holds one rating.",
        )

"""All-number tables (ratings, genome scores) read fast, with the text reader's checks and messages.

MovieLens 25M has 25 million rating lines; reading them row by row in
Python takes minutes. :func:`read_number_table` parses the file with
pandas' C parser into float64 and checks each column with vectorised numpy.
When that first pass finds anything wrong (a bad value, a short or long
line, a blank line), a second pass reads the file as strings, still with the
C parser, in chunks of :data:`CHUNK_ROWS` rows, and names the first bad line
with the same message :func:`~recsys_ref.data.textfiles.read_text_table` and
:meth:`~recsys_ref.data.textfiles.NumberColumn.parse` would give. Both
passes take time linear in the file's size.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from recsys_ref.data.errors import DataFormatError
from recsys_ref.data.identify import describe_text
from recsys_ref.data.textfiles import (
    FileLike,
    NumberColumn,
    as_file,
    check_header,
    decode_text,
    raise_wrong_width,
    read_file_bytes,
    require_columns,
)

#: Rows per chunk of the second (diagnosing) pass.
CHUNK_ROWS = 200_000


class Field(NamedTuple):
    """One column to read with :func:`read_number_table`.

    Attributes:
        key: Its header name (files with a header) or 0-based position (without).
        name: Its name in the returned frame.
        column: What it may hold.
    """

    key: str | int
    name: str
    column: NumberColumn


@dataclass
class _Layout:
    """Where the data starts and how it is split."""

    body: bytes  # the data lines, as UTF-8, from the line after the header
    first_line: int  # the file line number of the body's first line
    sep: str  # one character ("::" stands in as the unit separator)
    width: int
    positions: list[int]
    _ends: np.ndarray | None = None  # offsets of the body's line breaks, found when first needed

    def line_text(self, line: int) -> str:
        """The text of file line ``line`` (a line of the body)."""
        index = line - self.first_line
        if self._ends is None:
            self._ends = np.flatnonzero(np.frombuffer(self.body, dtype=np.uint8) == 10)
        start = int(self._ends[index - 1]) + 1 if index > 0 else 0
        end = int(self._ends[index]) if index < len(self._ends) else len(self.body)
        return self.body[start:end].decode("utf-8", "replace").rstrip("\r")

    def split(self, line: int) -> list[str]:
        return next(csv.reader([self.line_text(line)], delimiter=self.sep), [])


class _Invalid(Exception):
    """The first pass cannot vouch for the file."""


def read_number_table(
    path: str | os.PathLike | zipfile.Path,
    fields: Sequence[Field],
    *,
    sep: str,
    header: bool,
    width: int | None = None,
    quoting: int = csv.QUOTE_MINIMAL,
    rename_header: Callable[[str], str] | None = None,
    no_rows: str = "the file has no rows.",
) -> tuple[pd.DataFrame, np.ndarray]:
    """Read an all-number delimited file, checking every value, in time linear in its size.

    Blank lines are skipped (line numbers still count them); every other line
    must have the same number of fields.

    Args:
        path: The file (a path, or a :class:`zipfile.Path` inside a zip), UTF-8
            (a byte-order mark is ignored; UTF-16 with a byte-order mark is read too).
        fields: The columns to read, by header name (``header=True``) or position.
        sep: The field separator (one character, or ``"::"``).
        header: Whether the first non-blank line is a header.
        width: Fields per line (required without a header; default: the header's).
        quoting: A :mod:`csv` quoting constant (``csv.QUOTE_NONE`` for the MovieLens
            ``.dat`` and ``u.data`` files).
        rename_header: Applied to each header name before lookup
            (RecBole's typed ``"user_id:token"`` -> ``"user_id"``).
        no_rows: The problem to report when the file holds no data line.

    Returns:
        ``(frame, lines)``: one column per field (int64 for whole numbers,
        float64 otherwise) in file order, and each row's 1-based line number.

    Raises:
        DataFileNotFoundError: The file does not exist.
        DataFormatError: The file is empty, binary or not UTF-8; a header
            column is missing or named twice; a line has the wrong number of
            fields; or a value is rejected by its :class:`NumberColumn`; with
            the line, and what the file looks like when its first line is wrong.
    """
    if not header and width is None:
        raise ValueError("width is required for a file without a header.")
    file = as_file(path)
    layout = _layout(
        file,
        fields,
        sep=sep,
        header=header,
        width=width,
        quoting=quoting,
        rename_header=rename_header,
    )
    if not layout.body.strip():
        raise DataFormatError(file, no_rows)
    try:
        return _first_pass(layout, fields, quoting)
    except _Invalid:
        return _second_pass(file, layout, fields, quoting, sep)


def _layout(file: FileLike, fields, *, sep, header, width, quoting, rename_header) -> _Layout:
    raw = read_file_bytes(file)
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or not raw.isascii():
        # decode_text raises on bytes that are not UTF-8, naming their line
        raw = decode_text(raw, file).encode("utf-8")
    raw = raw.removeprefix(codecs.BOM_UTF8)
    kind = describe_text(raw[:100_000].decode("utf-8", "replace"))
    if kind is not None:
        raise DataFormatError(file, kind)
    if b"\n" not in raw and b"\r" in raw:
        raw = raw.replace(b"\r", b"\n")  # old Mac line ends
    delimiter = sep
    if sep == "::":
        if b"\x1f" in raw:
            line = raw.count(b"\n", 0, raw.index(b"\x1f")) + 1
            raise DataFormatError(
                file,
                "the control character 0x1f is not allowed in a '::'-separated file.",
                line=line,
            )
        raw, delimiter = raw.replace(b"::", b"\x1f"), "\x1f"
    if not header:
        return _Layout(raw, 1, delimiter, width, [int(f.key) for f in fields])
    start, line = 0, 1
    while True:  # skip blank lines before the header
        end = raw.find(b"\n", start)
        end = len(raw) if end < 0 else end
        text = raw[start:end].decode("utf-8").rstrip("\r")
        if text.strip() or end == len(raw):
            break
        start, line = end + 1, line + 1
    names = next(csv.reader([text], delimiter=delimiter, quoting=quoting))
    names = [rename_header(n) for n in names] if rename_header else names
    check_header(names, file, line)
    if width is not None and len(names) != width:
        raise_wrong_width(file, line, width, len(names), sep, names, first=True)
    require_columns(names, tuple(str(f.key) for f in fields), source=file, sep=sep)
    return _Layout(
        raw[end + 1 :], line + 1, delimiter, len(names), [names.index(str(f.key)) for f in fields]
    )


def _read(body: bytes, layout: _Layout, quoting: int, **options):
    return pd.read_csv(
        io.BytesIO(body),
        sep=layout.sep,
        header=None,
        names=list(range(layout.width)),
        skip_blank_lines=False,
        quoting=quoting,
        engine="c",
        **options,
    )


def _first_pass(
    layout: _Layout, fields: Sequence[Field], quoting: int
) -> tuple[pd.DataFrame, np.ndarray]:
    """Parse everything as float64; any NaN (an empty value, a short or blank line) or invalid
    value sends the file to the second pass."""
    try:
        table = _read(layout.body, layout, quoting, dtype=np.float64)
    except (ValueError, pd.errors.ParserError):
        raise _Invalid from None
    unread = [c for c in table.columns if c not in layout.positions]
    if unread and table[unread].isna().to_numpy().any():
        raise _Invalid  # a short line (read columns are checked for NaN by accepts)
    frame = {}
    for f, position in zip(fields, layout.positions):
        values = table[position].to_numpy()
        if not f.column.accepts(values):
            raise _Invalid
        frame[f.name] = f.column.convert(values)
    return pd.DataFrame(frame), layout.first_line + np.arange(len(table))


def _second_pass(
    file: FileLike, layout: _Layout, fields: Sequence[Field], quoting: int, sep: str
) -> tuple[pd.DataFrame, np.ndarray]:
    """Read the body again in chunks: as numbers where a chunk is clean, as strings (to name the
    first bad line exactly, and to skip blank lines) where it is not."""
    parts: dict[str, list[np.ndarray]] = {f.name: [] for f in fields}
    kept: list[np.ndarray] = []
    state = {"first_data_line": None}
    row = 0  # body lines done
    while True:
        reader = _read(
            layout.body, layout, quoting, dtype=np.float64, chunksize=CHUNK_ROWS, skiprows=row
        )
        try:
            for chunk in reader:
                lines = layout.first_line + row + np.arange(len(chunk))
                values = {f.name: chunk[p].to_numpy() for f, p in zip(fields, layout.positions)}
                if not chunk.isna().to_numpy().any() and all(
                    f.column.accepts(values[f.name]) for f in fields
                ):
                    if len(chunk) and state["first_data_line"] is None:
                        state["first_data_line"] = int(lines[0])
                    for f in fields:
                        parts[f.name].append(f.column.convert(values[f.name]))
                    kept.append(lines)
                else:
                    _check_text_rows(
                        file, layout, fields, quoting, sep, row, len(chunk), parts, kept, state
                    )
                row += len(chunk)
            break
        except (ValueError, pd.errors.ParserError):
            # This chunk holds a value that is not a number, or a line that is too long:
            # read it as text, which raises the exact error (or, if it is fine, move on).
            done = _check_text_rows(
                file, layout, fields, quoting, sep, row, CHUNK_ROWS, parts, kept, state
            )
            if done == 0:
                break
            row += done
    lines = np.concatenate(kept) if kept else np.zeros(0, np.int64)
    frame = pd.DataFrame(
        {name: np.concatenate(arrays) if arrays else np.zeros(0) for name, arrays in parts.items()}
    )
    return frame, lines


def _check_text_rows(file, layout, fields, quoting, sep, row, n_rows, parts, kept, state) -> int:
    """Read body lines ``row .. row + n_rows - 1`` as text and check them; return how many
    were read."""
    try:
        chunk = _read(
            layout.body, layout, quoting, dtype=str, na_filter=False, skiprows=row, nrows=n_rows
        )
    except pd.errors.ParserError as error:
        found = re.search(r"line (\d+)", str(error))
        if found is None:
            raise DataFormatError(file, f"cannot be split into fields: {error}.") from None
        bad = int(found.group(1))  # the 1-based body line with too many fields
        before = _read(
            layout.body,
            layout,
            quoting,
            dtype=str,
            na_filter=False,
            skiprows=row,
            nrows=bad - 1 - row,
        )
        _check_chunk(file, layout, fields, before, row, parts, kept, state, sep)
        _raise_width(file, layout, layout.first_line + bad - 1, sep, state)
    _check_chunk(file, layout, fields, chunk, row, parts, kept, state, sep)
    return len(chunk)


def _check_chunk(file, layout, fields, chunk, row, parts, kept, state, sep) -> None:
    values = chunk.to_numpy(dtype=object)
    lines = layout.first_line + row + np.arange(len(chunk))
    blank = np.zeros(len(chunk), bool)
    if values.size:
        blank = (values[:, 1:] == "").all(axis=1) & (
            pd.Series(values[:, 0]).str.strip() == ""
        ).to_numpy()
    if blank.any():  # a line of empty fields ("\t\t\t") is not blank: find and flag it
        for i in np.flatnonzero(blank):
            if layout.line_text(int(lines[i])).strip():
                blank[i] = False
    rows, lines = chunk[~blank], lines[~blank]
    if len(rows) and state["first_data_line"] is None:
        state["first_data_line"] = int(lines[0])
    # A short line is padded with "" by pandas: name it by its field count, as the text reader does.
    short = (rows.to_numpy(dtype=object) == "").any(axis=1) if len(rows) else np.zeros(0, bool)
    converted = {}
    for f, position in zip(fields, layout.positions):
        try:
            converted[f.name] = f.column.parse(rows[position], source=file, first_line=lines)
        except DataFormatError as error:
            earlier = short & (lines < error.line) if error.line is not None else short
            for line in list(lines[earlier]) + [error.line]:
                if line is not None and len(layout.split(int(line))) != layout.width:
                    _raise_width(file, layout, int(line), sep, state)
            raise
    for line in lines[short]:
        if len(layout.split(int(line))) != layout.width:
            _raise_width(file, layout, int(line), sep, state)
    for name, array in converted.items():
        parts[name].append(array)
    kept.append(lines)


def _raise_width(file: FileLike, layout: _Layout, line: int, sep: str, state: dict) -> None:
    fields = layout.split(line)
    first = state["first_data_line"] in (None, line) and layout.first_line == 1
    raise_wrong_width(file, line, layout.width, len(fields), sep, fields, first=first)

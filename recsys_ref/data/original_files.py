"""Readers and writers for the original notebook's two files.

- ``ratings.csv``: one rating a row, columns ``UserID``, ``MovieID``, ``Rating``
  (the notebook reads it with ``pd.read_csv('ratings.csv')``).
- ``ratings_mat.csv``: a dense users x movies matrix written by pandas, one
  column per movie id; a missing rating is an empty cell or ``-1``. The
  notebook reads it with ``pd.read_csv('ratings_mat.csv')`` and deletes the
  first, unnamed column (``del ratings['Unnamed: 0']``): row ``i`` of the
  matrix is user ``i + 1`` whatever that column says.

Both readers accept these files as pandas writes them, whatever the index
(pandas' default 0-based one, user ids, a ``UserID`` column from
``DataFrame.pivot``), skip blank lines and reject everything else that is not
a well-formed rating, naming the file, the line and the problem, and what the
file looks like when it is another known file.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from recsys_ref.data.errors import DataFormatError
from recsys_ref.data.textfiles import (
    check_ids_in_matrix,
    check_unique_ids,
    describe_first_line,
    parse_integer_column,
    parse_ratings,
    read_text_table,
    require_columns,
)

#: The original notebook's ``ratings.csv`` header.
ORIGINAL_RATING_COLUMNS = ("UserID", "MovieID", "Rating")

#: The same columns as recsys_ref's frames name them (a frame saved with ``to_csv``).
_FRAME_RATING_COLUMNS = ("user_id", "item_id", "rating")

#: Names of a ``ratings_mat.csv`` first column that holds user ids.
USER_ID_COLUMNS = ("UserID", "user_id", "userId")


def read_ratings_csv(path: str | os.PathLike) -> pd.DataFrame:
    """Read the original notebook's ``ratings.csv``.

    Args:
        path: A CSV file with header ``UserID,MovieID,Rating`` (or recsys_ref's
            own names ``user_id,item_id,rating``, as ``ratings.to_csv`` writes
            them). Extra columns, such as pandas' unnamed index, are ignored;
            a ``Timestamp`` (or ``timestamp``) column is kept. Ratings are
            whole numbers 1..5 (``3.0`` is accepted as 3).

    Returns:
        A frame with int64 columns ``user_id``, ``item_id``, ``rating`` (and
        ``timestamp`` when the file has one), in file order.

    Raises:
        DataFileNotFoundError: The file does not exist (also a ``FileNotFoundError``).
        DataFormatError: Empty file, header without ratings, missing columns
            (saying what the file looks like when it is another known file, such
            as MovieLens' ``ratings.csv`` or the notebook's ``ratings_mat.csv``),
            a line with the wrong number of fields, an empty, non-numeric,
            fractional or out-of-range value, or a duplicate user-movie pair;
            the message names the file and the line.
    """
    table = read_text_table(path, sep=",", header=True)
    names = ORIGINAL_RATING_COLUMNS
    if not set(names) <= set(table.header) and set(_FRAME_RATING_COLUMNS) <= set(table.header):
        names = _FRAME_RATING_COLUMNS
    require_columns(table.header, names, source=path)
    if table.rows.empty:
        raise DataFormatError(path, "the file has a header but no ratings.")
    rows = table.rows
    columns = {"user_id": rows[names[0]], "item_id": rows[names[1]], "rating": rows[names[2]]}
    for timestamp in ("Timestamp", "timestamp"):
        if timestamp in rows.columns:
            columns["timestamp"] = rows[timestamp]
            break
    return parse_ratings(columns, source=path, first_line=table.lines)


def write_ratings_csv(ratings: pd.DataFrame, path: str | Path) -> None:
    """Write a ratings frame as the original notebook's ``ratings.csv``.

    Only ``user_id``, ``item_id`` and ``rating`` are written (as ``UserID``,
    ``MovieID``, ``Rating``); other columns, such as ``timestamp``, are not.
    """
    out = ratings[["user_id", "item_id", "rating"]].rename(
        columns={"user_id": "UserID", "item_id": "MovieID", "rating": "Rating"}
    )
    out.to_csv(path, index=False)


def _is_movie_id(name: str) -> bool:
    text = name.strip()
    return text.isascii() and text.isdigit() and int(text) >= 1


def _is_unnamed(name: str) -> bool:
    return name.strip() == "" or name.startswith("Unnamed")


def read_ratings_matrix_csv(path: str | os.PathLike) -> pd.DataFrame:
    """Read the original notebook's dense ``ratings_mat.csv``.

    The first column holds the users, as pandas writes the index:

    - unnamed and counting ``0, 1, ..., n-1`` (pandas' default index, the file
      the notebook reads): row ``i`` is user ``i + 1``, as in the notebook,
      which deletes that column;
    - unnamed (or ``Unnamed: 0``) with ids ``>= 1``, or named ``UserID``
      (``ratings.pivot(index='UserID', ...)``), ``user_id`` or ``userId``:
      the user ids;
    - absent (every header cell a movie id; ``to_csv(index=False)``): row ``i``
      is user ``i + 1``.

    Args:
        path: The CSV file; columns after the first are movie ids; cells are
            ratings 1..5 (``4.0`` is 4), or empty / ``-1`` for "not rated".

    Returns:
        A float frame of shape ``(n_users, n_movies)``, index = user ids,
        columns = movie ids (int), ``NaN`` where not rated.

    Raises:
        DataFileNotFoundError: The file does not exist (also a ``FileNotFoundError``).
        DataFormatError: Empty file, header without users, a first column named
            otherwise, two index columns, a movie column that is not an integer
            id >= 1 or occurs twice, a line with the wrong number of cells, a
            bad or repeated user id, or a cell that is not a rating; the message
            names the file, the line and (for a cell) the movie column.
    """
    table = read_text_table(path, sep=",", header=True)
    header, rows = table.header, table.rows
    n_index = next((k for k, name in enumerate(header) if _is_movie_id(name)), len(header))
    if n_index > 1:
        index_names = header[:n_index]
        if all(_is_unnamed(name) or name in USER_ID_COLUMNS for name in index_names):
            raise DataFormatError(
                path,
                f"the first {n_index} columns ({', '.join(repr(n) for n in index_names)}) are all "
                "index columns: pandas added one each time the file was read and written again "
                "without index=False. Write the matrix once with to_csv() "
                "(or write_ratings_matrix_csv).",
                line=1,
            )
    hint = describe_first_line(",".join(header))
    hint = f" {hint}" if hint else ""
    if n_index == 1 and not (_is_unnamed(header[0]) or header[0] in USER_ID_COLUMNS):
        raise DataFormatError(
            path,
            "the first column should be the unnamed user id column "
            f"(or {', '.join(USER_ID_COLUMNS)}), found {header[0]!r}.{hint}",
            line=1,
        )
    field_of: dict[int, int] = {}  # movie id -> its field number in the header
    for field, name in enumerate(header[min(n_index, 1) :], start=min(n_index, 1) + 1):
        if not _is_movie_id(name):
            raise DataFormatError(
                path, f"column {name!r} is not a movie id (expected an integer >= 1).{hint}", line=1
            )
        movie = int(name.strip())
        if movie in field_of:
            raise DataFormatError(
                path,
                f"movie {movie} has two columns (fields {field_of[movie]} and {field}).",
                line=1,
            )
        field_of[movie] = field
    movie_ids = list(field_of)
    if rows.empty:
        raise DataFormatError(path, "the file has a header but no users.")
    user_ids = _matrix_user_ids(rows, header, n_index, path, table.lines)
    cells = rows.iloc[:, n_index:].apply(lambda column: column.str.strip())
    values = cells.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float, copy=True)
    empty = (cells == "").to_numpy()
    missing = empty | (values == -1)
    valid = np.isin(values, [1, 2, 3, 4, 5])
    bad = ~(missing | valid)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        problem = (
            f"movie column {header[n_index + col]!r}: {cells.iat[row, col]!r} is not a rating "
            "(expected 1, 2, 3, 4 or 5; empty or -1 for not rated)."
        )
        finite = np.isfinite(values)
        if not missing.any() and finite.all() and (values != np.round(values)).mean() > 0.5:
            problem += (
                " Every cell is filled, mostly with fractions: this looks like a matrix of "
                "predicted ratings (such as the notebook's answer_ratings.csv), not of observed "
                "ones."
            )
        raise DataFormatError(path, problem, line=int(table.lines[row]))
    values[missing] = np.nan
    return pd.DataFrame(values, index=pd.Index(user_ids), columns=movie_ids)


def _matrix_user_ids(
    rows: pd.DataFrame, header: list[str], n_index: int, path, lines: np.ndarray
) -> np.ndarray:
    """The user id of each row of a ``ratings_mat.csv`` (see :func:`read_ratings_matrix_csv`)."""
    positions = np.arange(1, len(rows) + 1, dtype=np.int64)
    if n_index == 0:
        return positions
    raw = rows.iloc[:, 0]
    if _is_unnamed(header[0]):
        numbers = parse_integer_column(
            raw, name="user id", source=path, first_line=lines, minimum=0
        )
        if np.array_equal(numbers, positions - 1):
            return positions  # pandas' default index: row numbers, which the notebook deletes
        if (numbers == 0).any():
            row = int(np.flatnonzero(numbers == 0)[0])
            raise DataFormatError(
                path,
                "user id '0' is out of range: it must be >= 1. A 0-based first column is read as "
                "pandas' row numbers only when it counts 0, 1, 2, ... down the file.",
                line=int(lines[row]),
            )
        user_ids = numbers
    else:
        user_ids = parse_integer_column(
            raw, name="user id", source=path, first_line=lines, minimum=1
        )
    check_unique_ids(user_ids, name="user id", source=path, first_line=lines)
    return user_ids


def write_ratings_matrix_csv(matrix: pd.DataFrame, path: str | Path) -> None:
    """Write a users x movies frame (``NaN`` = not rated) as the notebook's ``ratings_mat.csv``.

    The index (user ids) is written as the first, unnamed column, whatever
    its name; missing ratings are written as ``-1``, the original notebook's marker.
    """
    matrix.to_csv(path, na_rep="-1", float_format="%g", index_label="")


def ratings_to_matrix(ratings: pd.DataFrame, n_users: int, n_items: int) -> pd.DataFrame:
    """Pivot a ratings frame into the notebook's dense users x movies frame (``NaN`` = not rated).

    Rows are user ids ``1..n_users``, columns item ids ``1..n_items``.

    Raises:
        DataFormatError: When an id falls outside the matrix, or a user-item
            pair occurs twice.
    """
    check_ids_in_matrix(ratings, n_users, n_items)
    values = np.full((n_users, n_items), np.nan)
    values[ratings["user_id"].to_numpy() - 1, ratings["item_id"].to_numpy() - 1] = ratings["rating"]
    return pd.DataFrame(values, index=range(1, n_users + 1), columns=range(1, n_items + 1))

"""Readers and writers for the seed notebook's two files.

- ``ratings.csv``: one rating a row, columns ``UserID``, ``MovieID``, ``Rating``.
- ``ratings_mat.csv``: a dense users x movies matrix written by pandas, with
  an unnamed index column (user ids) and one column per movie id; a missing
  rating is an empty cell or ``-1``.

Both readers skip blank lines and reject everything else that is not a
well-formed rating, naming the file, the line and the problem.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from recsys_ref.data.errors import DataFormatError
from recsys_ref.data.validation import (
    check_ids_in_matrix,
    check_unique_ids,
    parse_integer_column,
    parse_ratings,
    read_text_table,
    require_columns,
)

SEED_RATING_COLUMNS = ("UserID", "MovieID", "Rating")


def read_ratings_csv(path: str | Path) -> pd.DataFrame:
    """Read the seed's ``ratings.csv``.

    Args:
        path: A CSV file with header ``UserID,MovieID,Rating`` (extra columns
            are ignored; a ``Timestamp`` column is kept). Ratings are whole
            numbers 1..5 (``3.0`` is accepted as 3).

    Returns:
        A frame with int64 columns ``user_id``, ``item_id``, ``rating`` (and
        ``timestamp`` when the file has one), in file order.

    Raises:
        DataFileNotFoundError: The file does not exist (also a ``FileNotFoundError``).
        DataFormatError: Empty file, header without ratings, missing columns,
            a line with the wrong number of fields, an empty, non-numeric,
            fractional or out-of-range value, or a duplicate user-movie pair;
            the message names the file and the line.
    """
    table = read_text_table(path, sep=",", header=True)
    require_columns(table.header, SEED_RATING_COLUMNS, source=path)
    if table.rows.empty:
        raise DataFormatError(path, "the file has a header but no ratings.")
    rows = table.rows
    columns = {"user_id": rows["UserID"], "item_id": rows["MovieID"], "rating": rows["Rating"]}
    if "Timestamp" in rows.columns:
        columns["timestamp"] = rows["Timestamp"]
    return parse_ratings(columns, source=path, first_line=table.lines)


def write_ratings_csv(ratings: pd.DataFrame, path: str | Path) -> None:
    """Write a ratings frame as the seed's ``ratings.csv``.

    Only ``user_id``, ``item_id`` and ``rating`` are written (as ``UserID``,
    ``MovieID``, ``Rating``); other columns, such as ``timestamp``, are not.
    """
    out = ratings[["user_id", "item_id", "rating"]].rename(
        columns={"user_id": "UserID", "item_id": "MovieID", "rating": "Rating"}
    )
    out.to_csv(path, index=False)


def read_ratings_matrix_csv(path: str | Path) -> pd.DataFrame:
    """Read the seed's dense ``ratings_mat.csv``.

    Args:
        path: A CSV whose first, unnamed column holds user ids and whose other
            columns are movie ids; cells are ratings 1..5, or empty / ``-1``
            for "not rated".

    Returns:
        A float frame of shape ``(n_users, n_movies)``, index = user ids,
        columns = movie ids (int), ``NaN`` where not rated.

    Raises:
        DataFileNotFoundError: The file does not exist (also a ``FileNotFoundError``).
        DataFormatError: Empty file, header without users, a named first
            column, a movie column that is not an integer id >= 1 or occurs
            twice, a line with the wrong number of cells, a bad or repeated
            user id, or a cell that is not a rating; the message names the
            file, the line and (for a cell) the movie column.
    """
    table = read_text_table(path, sep=",", header=True)
    header, rows = table.header, table.rows
    index_column = header[0]
    if index_column != "" and not index_column.startswith("Unnamed"):
        raise DataFormatError(
            path,
            f"the first column should be the unnamed user id column, found {index_column!r}.",
            line=1,
        )
    field_of: dict[int, int] = {}  # movie id -> its field number in the header
    for field, name in enumerate(header[1:], start=2):
        text = name.strip()
        if not (text.isascii() and text.isdigit()) or int(text) < 1:
            raise DataFormatError(
                path, f"column {name!r} is not a movie id (expected an integer >= 1).", line=1
            )
        movie = int(text)
        if movie in field_of:
            raise DataFormatError(
                path, f"movie {movie} has two columns (fields {field_of[movie]} and {field}).", line=1
            )
        field_of[movie] = field
    movie_ids = list(field_of)
    if rows.empty:
        raise DataFormatError(path, "the file has a header but no users.")
    user_ids = parse_integer_column(
        rows[index_column], name="user id", source=path, first_line=table.lines, minimum=1
    )
    check_unique_ids(user_ids, name="user id", source=path, first_line=table.lines)
    cells = rows.iloc[:, 1:].apply(lambda column: column.str.strip())
    values = cells.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float, copy=True)
    empty = (cells == "").to_numpy()
    missing = empty | (values == -1)
    valid = np.isin(values, [1, 2, 3, 4, 5])
    bad = ~(missing | valid)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise DataFormatError(
            path,
            f"movie column {header[1 + col]!r}: {cells.iat[row, col]!r} is not a rating "
            "(expected 1, 2, 3, 4 or 5; empty or -1 for not rated).",
            line=int(table.lines[row]),
        )
    values[missing] = np.nan
    return pd.DataFrame(values, index=pd.Index(user_ids), columns=movie_ids)


def write_ratings_matrix_csv(matrix: pd.DataFrame, path: str | Path) -> None:
    """Write a users x movies frame (``NaN`` = not rated) as the seed's ``ratings_mat.csv``.

    The index (user ids) is written as the first, unnamed column, whatever
    its name; missing ratings are written as ``-1``, the seed's marker.
    """
    matrix.to_csv(path, na_rep="-1", float_format="%g", index_label="")


def ratings_to_matrix(ratings: pd.DataFrame, n_users: int, n_items: int) -> pd.DataFrame:
    """Pivot a ratings frame into the seed's dense users x movies frame (``NaN`` = not rated).

    Rows are user ids ``1..n_users``, columns item ids ``1..n_items``.

    Raises:
        DataFormatError: When an id falls outside the matrix, or a user-item
            pair occurs twice.
    """
    check_ids_in_matrix(ratings, n_users, n_items)
    values = np.full((n_users, n_items), np.nan)
    values[ratings["user_id"].to_numpy() - 1, ratings["item_id"].to_numpy() - 1] = ratings["rating"]
    return pd.DataFrame(values, index=range(1, n_users + 1), columns=range(1, n_items + 1))

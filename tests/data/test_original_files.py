"""The seed notebook's files (``ratings.csv``, ``ratings_mat.csv``) and the dense tensors.

Every fixture is a tiny hand-made file written into ``tmp_path``. Each bad
input has its own test, which checks the whole message: the file, the line
(where there is one) and the problem.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from recsys_ref.data import (
    MISSING_RATING,
    DataFormatError,
    ratings_to_matrix,
    read_ratings_csv,
    read_ratings_matrix_csv,
    to_dense,
    write_ratings_csv,
    write_ratings_matrix_csv,
)

HEADER = "UserID,MovieID,Rating\n"


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    return path


def assert_message(
    error: pytest.ExceptionInfo, source: Path | str, problem: str, line: int | None
) -> None:
    """The message is exactly ``<source>[, line <n>]: <problem>``, and the attributes agree."""
    where = str(source) if line is None else f"{source}, line {line}"
    assert str(error.value) == f"{where}: {problem}"
    assert error.value.source == str(source)
    assert error.value.line == line
    assert error.value.problem == problem


# --- ratings.csv: good input ---------------------------------------------------


def test_read_ratings_csv_gives_int64_columns_in_file_order(tmp_path):
    path = write(tmp_path, "ratings.csv", HEADER + "3,10,4\n1,2,5\n2,10,1\n")

    ratings = read_ratings_csv(path)

    assert list(ratings.columns) == ["user_id", "item_id", "rating"]
    assert all(dtype == np.int64 for dtype in ratings.dtypes)
    assert ratings.to_numpy().tolist() == [[3, 10, 4], [1, 2, 5], [2, 10, 1]]
    assert list(ratings.index) == [0, 1, 2]


def test_read_ratings_csv_keeps_a_timestamp_and_ignores_other_extra_columns(tmp_path):
    path = write(
        tmp_path, "ratings.csv", "Title,UserID,MovieID,Rating,Timestamp\nx,1,2,3,881250949\n"
    )

    ratings = read_ratings_csv(path)

    assert list(ratings.columns) == ["user_id", "item_id", "rating", "timestamp"]
    assert ratings.iloc[0].tolist() == [1, 2, 3, 881250949]


def test_read_ratings_csv_accepts_whole_floats_spaces_crlf_a_bom_and_blank_lines(tmp_path):
    path = write(
        tmp_path, "ratings.csv", "\ufeffUserID,MovieID,Rating\r\n1,2, 3.0 \r\n\r\n2,2,5\r\n\r\n"
    )

    ratings = read_ratings_csv(path)

    assert ratings.to_numpy().tolist() == [[1, 2, 3], [2, 2, 5]]


def test_ratings_csv_round_trip(tmp_path, tiny_ratings):
    path = tmp_path / "ratings.csv"

    write_ratings_csv(tiny_ratings, path)

    assert path.read_text().splitlines()[0] == "UserID,MovieID,Rating"
    back = read_ratings_csv(path)
    pd.testing.assert_frame_equal(back, tiny_ratings[["user_id", "item_id", "rating"]])


def test_written_ratings_csv_reads_the_seed_way(tmp_path, tiny_ratings):
    path = tmp_path / "ratings.csv"
    write_ratings_csv(tiny_ratings, path)

    seed = pd.read_csv(path)  # as the seed notebook reads it

    assert seed["UserID"].tolist() == tiny_ratings["user_id"].tolist()
    assert seed["MovieID"].tolist() == tiny_ratings["item_id"].tolist()
    assert seed["Rating"].tolist() == tiny_ratings["rating"].tolist()


# --- ratings.csv: one test per bad input -------------------------------------


def test_ratings_csv_missing_file(tmp_path):
    path = tmp_path / "ratings.csv"

    with pytest.raises(DataFormatError) as error:
        read_ratings_csv(path)

    assert isinstance(error.value, FileNotFoundError)
    assert_message(error, path, "file not found.", line=None)


def test_ratings_csv_empty_file_zero_bytes(tmp_path):
    path = write(tmp_path, "ratings.csv", "")

    with pytest.raises(DataFormatError) as error:
        read_ratings_csv(path)

    assert_message(error, path, "the file is empty (zero bytes).", line=None)


def test_ratings_csv_only_blank_lines(tmp_path):
    path = write(tmp_path, "ratings.csv", "\n  \n")

    with pytest.raises(DataFormatError) as error:
        read_ratings_csv(path)

    assert_message(error, path, "the file is empty (only blank lines).", line=None)


def test_ratings_csv_header_only(tmp_path):
    path = write(tmp_path, "ratings.csv", HEADER)

    with pytest.raises(DataFormatError) as error:
        read_ratings_csv(path)

    assert_message(error, path, "the file has a header but no ratings.", line=None)


def test_ratings_csv_missing_column(tmp_path):
    path = write(tmp_path, "ratings.csv", "UserID,MovieID,Score\n1,2,3\n")

    with pytest.raises(DataFormatError) as error:
        read_ratings_csv(path)

    assert_message(
        error,
        path,
        "missing column(s) Rating; the header has 'UserID', 'MovieID', 'Score' "
        "but needs UserID, MovieID, Rating.",
        line=1,
    )


def test_ratings_csv_wrong_columns_no_header(tmp_path):
    path = write(tmp_path, "ratings.csv", "1,2,3\n2,2,4\n")

    with pytest.raises(DataFormatError) as error:
        read_ratings_csv(path)

    assert_message(
        error,
        path,
        "missing column(s) UserID, MovieID, Rating; the header has '1', '2', '3' "
        "but needs UserID, MovieID, Rating.",
        line=1,
    )


def test_ratings_csv_wrong_separator(tmp_path):
    path = write(tmp_path, "ratings.csv", "UserID;MovieID;Rating\n1;2;3\n")

    with pytest.raises(DataFormatError) as error:
        read_ratings_csv(path)

    assert error.value.line == 1
    assert "the header has 'UserID;MovieID;Rating'" in str(error.value)


def test_ratings_csv_column_named_twice(tmp_path):
    path = write(tmp_path, "ratings.csv", "UserID,MovieID,Rating,Rating\n1,2,3,4\n")

    with pytest.raises(DataFormatError) as error:
        read_ratings_csv(path)

    assert_message(
        error, path, "column 'Rating' appears twice in the header (fields 3 and 4).", line=1
    )


def test_ratings_csv_line_with_too_few_fields(tmp_path):
    path = write(tmp_path, "ratings.csv", HEADER + "1,2,3\n2,3\n")

    with pytest.raises(DataFormatError) as error:
        read_ratings_csv(path)

    assert_message(error, path, "expected 3 comma-separated fields, found 2.", line=3)


def test_ratings_csv_line_with_too_many_fields(tmp_path):
    path = write(tmp_path, "ratings.csv", HEADER + "1,2,3\n2,3,4,5\n")

    with pytest.raises(DataFormatError) as error:
        read_ratings_csv(path)

    assert_message(error, path, "expected 3 comma-separated fields, found 4.", line=3)


def test_ratings_csv_non_numeric_rating(tmp_path):
    path = write(tmp_path, "ratings.csv", HEADER + "1,2,3\n2,3,abc\n")

    with pytest.raises(DataFormatError) as error:
        read_ratings_csv(path)

    assert_message(error, path, "rating 'abc' is not a number.", line=3)


def test_ratings_csv_nan_rating(tmp_path):
    path = write(tmp_path, "ratings.csv", HEADER + "1,2,3\n2,3,NaN\n")

    with pytest.raises(DataFormatError) as error:
        read_ratings_csv(path)

    assert_message(error, path, "rating 'NaN' is not a number.", line=3)


def test_ratings_csv_empty_rating(tmp_path):
    path = write(tmp_path, "ratings.csv", HEADER + "1,2,3\n2,3,\n")

    with pytest.raises(DataFormatError) as error:
        read_ratings_csv(path)

    assert_message(error, path, "rating is empty.", line=3)


@pytest.mark.parametrize("rating", ["0", "6", "-1"])
def test_ratings_csv_out_of_range_rating(tmp_path, rating):
    path = write(tmp_path, "ratings.csv", HEADER + f"1,2,3\n1,3,4\n2,3,{rating}\n")

    with pytest.raises(DataFormatError) as error:
        read_ratings_csv(path)

    assert_message(
        error,
        path,
        f"rating '{rating}' is out of range: it must be a whole number from 1 to 5.",
        line=4,
    )


def test_ratings_csv_fractional_rating(tmp_path):
    path = write(tmp_path, "ratings.csv", HEADER + "1,2,3\n2,3,3.5\n")

    with pytest.raises(DataFormatError) as error:
        read_ratings_csv(path)

    assert_message(error, path, "rating '3.5' is not a whole number.", line=3)


def test_ratings_csv_non_numeric_user_id(tmp_path):
    path = write(tmp_path, "ratings.csv", HEADER + "u1,2,3\n")

    with pytest.raises(DataFormatError) as error:
        read_ratings_csv(path)

    assert_message(error, path, "user id 'u1' is not a number.", line=2)


def test_ratings_csv_item_id_zero(tmp_path):
    path = write(tmp_path, "ratings.csv", HEADER + "1,2,3\n1,0,3\n")

    with pytest.raises(DataFormatError) as error:
        read_ratings_csv(path)

    assert_message(error, path, "item id '0' is out of range: it must be >= 1.", line=3)


def test_ratings_csv_id_too_large_for_exact_integers(tmp_path):
    path = write(tmp_path, "ratings.csv", HEADER + "9007199254740993,2,3\n")

    with pytest.raises(DataFormatError) as error:
        read_ratings_csv(path)

    assert_message(error, path, "user id '9007199254740993' is too large.", line=2)


def test_ratings_csv_duplicate_user_item_pair_names_both_lines(tmp_path):
    path = write(tmp_path, "ratings.csv", HEADER + "1,2,3\n2,2,4\n1,2,5\n")

    with pytest.raises(DataFormatError) as error:
        read_ratings_csv(path)

    assert_message(
        error,
        path,
        "user 1 rated item 2 more than once (lines 2, 4); keep one rating per user-item pair.",
        line=4,
    )


def test_ratings_csv_bad_line_after_blank_lines_is_counted_right(tmp_path):
    path = write(tmp_path, "ratings.csv", "\n" + HEADER + "1,2,3\n\n\n2,3,x\n")

    with pytest.raises(DataFormatError) as error:
        read_ratings_csv(path)

    assert_message(error, path, "rating 'x' is not a number.", line=6)


def test_ratings_csv_not_utf8(tmp_path):
    path = write(tmp_path, "ratings.csv", HEADER.encode() + b"1,2,3\n2,3,\xe9\n")

    with pytest.raises(DataFormatError) as error:
        read_ratings_csv(path)

    assert_message(
        error,
        path,
        "byte 0xe9 is not valid utf-8 text (invalid continuation byte). The file is in another encoding "
        "(probably Latin-1 or Windows-1252, as Excel and some editors save text): save it again as UTF-8 "
        "(in Excel: 'CSV UTF-8').",
        line=3,
    )


# --- ratings_mat.csv: good input -----------------------------------------------

MATRIX = ",1,2,3\n1,5,,-1\n2,-1,3,4\n4,1.0,-1,2\n"


def test_read_ratings_matrix_csv_missing_is_empty_or_minus_one(tmp_path):
    path = write(tmp_path, "ratings_mat.csv", MATRIX)

    matrix = read_ratings_matrix_csv(path)

    assert list(matrix.index) == [1, 2, 4]
    assert list(matrix.columns) == [1, 2, 3]
    assert all(dtype == np.float64 for dtype in matrix.dtypes)
    expected = np.array([[5, np.nan, np.nan], [np.nan, 3, 4], [1, np.nan, 2]])
    np.testing.assert_array_equal(matrix.to_numpy(), expected)


def test_read_ratings_matrix_csv_accepts_pandas_unnamed_index_header(tmp_path):
    path = write(tmp_path, "ratings_mat.csv", "Unnamed: 0,7,9\n1,5,\n")

    matrix = read_ratings_matrix_csv(path)

    assert list(matrix.columns) == [7, 9]
    assert matrix.loc[1, 7] == 5 and np.isnan(matrix.loc[1, 9])


def test_ratings_matrix_round_trip(tmp_path, tiny_ratings):
    matrix = ratings_to_matrix(tiny_ratings, n_users=4, n_items=5)
    path = tmp_path / "ratings_mat.csv"

    write_ratings_matrix_csv(matrix, path)

    assert path.read_text().splitlines()[0] == ",1,2,3,4,5"
    back = read_ratings_matrix_csv(path)
    pd.testing.assert_frame_equal(back, matrix, check_index_type=False, check_column_type=False)


def test_ratings_matrix_writer_leaves_the_index_column_unnamed(tmp_path):
    matrix = pd.DataFrame([[5.0, np.nan]], index=pd.Index([3], name="user_id"), columns=[1, 2])
    path = tmp_path / "ratings_mat.csv"

    write_ratings_matrix_csv(matrix, path)

    assert path.read_text().splitlines() == [",1,2", "3,5,-1"]
    back = read_ratings_matrix_csv(path)
    assert back.loc[3, 1] == 5 and np.isnan(back.loc[3, 2])


def test_written_ratings_matrix_reads_the_seed_way(tmp_path, tiny_ratings):
    matrix = ratings_to_matrix(tiny_ratings, n_users=4, n_items=5)
    path = tmp_path / "ratings_mat.csv"
    write_ratings_matrix_csv(matrix, path)

    seed = pd.read_csv(path)  # the seed notebook's three lines
    del seed["Unnamed: 0"]
    values = seed.values

    np.testing.assert_array_equal(values, matrix.fillna(-1).to_numpy())
    assert (values != -1).sum() == len(tiny_ratings)


# --- ratings_mat.csv: one test per bad input -----------------------------------


def test_ratings_matrix_missing_file(tmp_path):
    path = tmp_path / "ratings_mat.csv"

    with pytest.raises(FileNotFoundError) as error:
        read_ratings_matrix_csv(path)

    assert_message(error, path, "file not found.", line=None)


def test_ratings_matrix_empty_file_zero_bytes(tmp_path):
    path = write(tmp_path, "ratings_mat.csv", "")

    with pytest.raises(DataFormatError) as error:
        read_ratings_matrix_csv(path)

    assert_message(error, path, "the file is empty (zero bytes).", line=None)


def test_ratings_matrix_header_only(tmp_path):
    path = write(tmp_path, "ratings_mat.csv", ",1,2,3\n")

    with pytest.raises(DataFormatError) as error:
        read_ratings_matrix_csv(path)

    assert_message(error, path, "the file has a header but no users.", line=None)


def test_ratings_matrix_named_first_column(tmp_path):
    path = write(tmp_path, "ratings_mat.csv", "user,1,2\n1,5,4\n")

    with pytest.raises(DataFormatError) as error:
        read_ratings_matrix_csv(path)

    assert_message(
        error,
        path,
        "the first column should be the unnamed user id column (or UserID, user_id, userId), found 'user'.",
        line=1,
    )


@pytest.mark.parametrize("column", ["b", "0", "-3", "2.5"])
def test_ratings_matrix_column_that_is_not_a_movie_id(tmp_path, column):
    path = write(tmp_path, "ratings_mat.csv", f",1,{column}\n1,5,4\n")

    with pytest.raises(DataFormatError) as error:
        read_ratings_matrix_csv(path)

    assert_message(
        error, path, f"column '{column}' is not a movie id (expected an integer >= 1).", line=1
    )


def test_ratings_matrix_movie_column_twice(tmp_path):
    path = write(tmp_path, "ratings_mat.csv", ",1,2,02\n1,5,4,3\n")

    with pytest.raises(DataFormatError) as error:
        read_ratings_matrix_csv(path)

    assert_message(error, path, "movie 2 has two columns (fields 3 and 4).", line=1)


@pytest.mark.parametrize("cell", ["x", "0", "6", "3.5", "NaN"])
def test_ratings_matrix_bad_cell_names_line_and_movie_column(tmp_path, cell):
    path = write(tmp_path, "ratings_mat.csv", f",10,20,30\n1,5,,-1\n2,-1,{cell},4\n")

    with pytest.raises(DataFormatError) as error:
        read_ratings_matrix_csv(path)

    assert_message(
        error,
        path,
        f"movie column '20': '{cell}' is not a rating (expected 1, 2, 3, 4 or 5; empty or -1 for not rated).",
        line=3,
    )


def test_ratings_matrix_short_line(tmp_path):
    path = write(tmp_path, "ratings_mat.csv", ",1,2,3\n1,5,,-1\n2,-1,3\n")

    with pytest.raises(DataFormatError) as error:
        read_ratings_matrix_csv(path)

    assert_message(error, path, "expected 4 comma-separated fields, found 3.", line=3)


def test_ratings_matrix_empty_user_id(tmp_path):
    path = write(tmp_path, "ratings_mat.csv", ",1,2\n1,5,4\n,3,2\n")

    with pytest.raises(DataFormatError) as error:
        read_ratings_matrix_csv(path)

    assert_message(error, path, "user id is empty.", line=3)


def test_ratings_matrix_user_twice_names_both_lines(tmp_path):
    path = write(tmp_path, "ratings_mat.csv", ",1,2\n1,5,4\n2,3,\n1,-1,2\n")

    with pytest.raises(DataFormatError) as error:
        read_ratings_matrix_csv(path)

    assert_message(error, path, "user id 1 appears more than once (lines 2, 4).", line=4)


def test_ratings_matrix_bad_cell_after_a_blank_line_is_counted_right(tmp_path):
    path = write(tmp_path, "ratings_mat.csv", ",1,2\n1,5,4\n\n2,3,x\n")

    with pytest.raises(DataFormatError) as error:
        read_ratings_matrix_csv(path)

    assert error.value.line == 4


# --- dense tensors and the pivot ------------------------------------------------


def test_to_dense_scatters_ratings_and_mask(tiny_ratings):
    dense = to_dense(tiny_ratings, n_users=5, n_items=6)

    assert dense.ratings.shape == dense.exist.shape == (5, 6)
    assert dense.ratings.dtype == dense.exist.dtype == torch.float32
    for user, item, rating in tiny_ratings[["user_id", "item_id", "rating"]].itertuples(
        index=False
    ):
        assert dense.ratings[user - 1, item - 1] == rating
        assert dense.exist[user - 1, item - 1] == 1
    assert dense.exist.sum() == len(tiny_ratings)
    assert torch.all(dense.ratings[dense.exist == 0] == MISSING_RATING)
    assert torch.all(dense.ratings[4] == MISSING_RATING)  # user 5 rated nothing


def test_to_dense_agrees_with_ratings_to_matrix(tiny_ratings):
    dense = to_dense(tiny_ratings, n_users=4, n_items=5)
    matrix = ratings_to_matrix(tiny_ratings, n_users=4, n_items=5)

    np.testing.assert_array_equal(dense.ratings.numpy(), matrix.fillna(MISSING_RATING).to_numpy())
    np.testing.assert_array_equal(dense.exist.numpy(), matrix.notna().to_numpy())


@pytest.mark.parametrize(
    ("column", "bad_id", "size_name", "size"),
    [("user_id", 0, "n_users", 4), ("user_id", 5, "n_users", 4), ("item_id", 6, "n_items", 5)],
)
def test_to_dense_id_outside_the_matrix(tiny_ratings, column, bad_id, size_name, size):
    ratings = tiny_ratings.set_index(pd.Index(range(100, 109)))
    ratings.loc[103, column] = bad_id

    with pytest.raises(DataFormatError) as error:
        to_dense(ratings, n_users=4, n_items=5)

    assert_message(
        error,
        "ratings frame",
        f"row 3 (index 103): {column} {bad_id} is outside the matrix; "
        f"with {size_name}={size} the ids must be 1..{size}.",
        line=None,
    )


def test_to_dense_duplicate_pair(tiny_ratings):
    ratings = pd.concat([tiny_ratings, tiny_ratings.iloc[[2]]], ignore_index=True)

    with pytest.raises(DataFormatError) as error:
        to_dense(ratings, n_users=4, n_items=5)

    assert_message(
        error,
        "ratings frame",
        "user 1 rated item 3 more than once (rows 2, 9); a matrix cell holds one rating.",
        line=None,
    )


def test_ratings_to_matrix_id_outside_the_matrix(tiny_ratings):
    # Before the check, user 0 silently landed in the last row (numpy index -1).
    ratings = tiny_ratings.assign(user_id=tiny_ratings["user_id"] - 1)

    with pytest.raises(DataFormatError, match=r"user_id 0 is outside the matrix; with n_users=4"):
        ratings_to_matrix(ratings, n_users=4, n_items=5)


# --- the files as the original notebook and its readers really hold them ---------------------------
#
# The notebook reads ratings_mat.csv with pd.read_csv and deletes the 'Unnamed: 0' column that
# pandas' default to_csv() writes (case 19 of 2026-11-30: these were refused with "user id '0'
# is out of range"). The files below are written at test time the way pandas writes them.

#: 6 users x 8 films, 17 ratings: (user, film, rating)
CASE_19 = [(1, 1, 3), (1, 5, 1), (2, 1, 2), (2, 3, 1), (2, 4, 5), (2, 7, 4), (2, 8, 1), (3, 3, 3), (3, 8, 4),
           (4, 8, 5), (5, 1, 4), (5, 6, 1), (5, 7, 3), (5, 8, 4), (6, 1, 3), (6, 2, 4), (6, 4, 3)]  # fmt: skip


def case_19_matrix() -> pd.DataFrame:
    """The users x films matrix (index 'UserID' 1..6, columns 'MovieID' 1..8, NaN = not rated)."""
    ratings = pd.DataFrame(CASE_19, columns=["UserID", "MovieID", "Rating"])
    return ratings.pivot(index="UserID", columns="MovieID", values="Rating").astype(float)


NOTEBOOK_LAYOUTS = {
    # DataFrame.to_csv() of a frame with the default RangeIndex: first column unnamed, 0..5
    "default index": lambda m: pd.DataFrame(m.to_numpy(), columns=list(m.columns)).to_csv(),
    # the same after fillna(-1)
    "default index, -1 for missing": lambda m: pd.DataFrame(m.to_numpy(), columns=list(m.columns))
    .fillna(-1)
    .to_csv(),
    # ratings.pivot(index='UserID', columns='MovieID', values='Rating').to_csv()
    "pivot with UserID": lambda m: m.to_csv(),
    # to_csv(index=False): no user column at all
    "no index": lambda m: m.to_csv(index=False),
}


@pytest.mark.parametrize("layout", list(NOTEBOOK_LAYOUTS))
def test_ratings_mat_as_pandas_writes_it_reads_like_the_notebook(tmp_path, layout):
    matrix = case_19_matrix()
    path = write(tmp_path, "ratings_mat.csv", NOTEBOOK_LAYOUTS[layout](matrix))

    read = read_ratings_matrix_csv(path)

    assert read.shape == (6, 8)
    assert list(read.index) == [1, 2, 3, 4, 5, 6] and list(read.columns) == list(range(1, 9))
    assert int(read.notna().to_numpy().sum()) == 17
    np.testing.assert_array_equal(read.to_numpy(), matrix.to_numpy())


def test_ratings_mat_default_index_is_what_the_notebook_reads(tmp_path):
    path = write(
        tmp_path,
        "ratings_mat.csv",
        NOTEBOOK_LAYOUTS["default index, -1 for missing"](case_19_matrix()),
    )
    notebook = pd.read_csv(path)  # the notebook's own two lines
    del notebook["Unnamed: 0"]

    read = read_ratings_matrix_csv(path)

    np.testing.assert_array_equal(read.fillna(-1).to_numpy(), notebook.to_numpy())


def test_ratings_mat_zero_based_index_that_is_not_row_numbers(tmp_path):
    path = write(tmp_path, "ratings_mat.csv", ",1,2\n0,5,\n2,,3\n")

    with pytest.raises(DataFormatError) as error:
        read_ratings_matrix_csv(path)

    assert_message(
        error,
        path,
        "user id '0' is out of range: it must be >= 1. A 0-based first column is read as pandas' row "
        "numbers only when it counts 0, 1, 2, ... down the file.",
        line=2,
    )


def test_ratings_mat_read_and_written_again_has_two_index_columns(tmp_path):
    first = write(tmp_path, "first.csv", NOTEBOOK_LAYOUTS["default index"](case_19_matrix()))
    path = tmp_path / "ratings_mat.csv"
    pd.read_csv(first).to_csv(path)  # header ",Unnamed: 0,1,2,..."

    with pytest.raises(DataFormatError) as error:
        read_ratings_matrix_csv(path)

    assert_message(
        error,
        path,
        "the first 2 columns ('', 'Unnamed: 0') are all index columns: pandas added one each time the file "
        "was read and written again without index=False. Write the matrix once with to_csv() "
        "(or write_ratings_matrix_csv).",
        line=1,
    )


def test_matrix_reader_given_the_long_ratings_csv(tmp_path):
    path = write(tmp_path, "ratings.csv", HEADER + "1,2,3\n")

    with pytest.raises(DataFormatError) as error:
        read_ratings_matrix_csv(path)

    assert_message(
        error,
        path,
        "column 'MovieID' is not a movie id (expected an integer >= 1). It looks like the original notebook's "
        "ratings.csv (UserID,MovieID,Rating): read it with read_ratings_csv.",
        line=1,
    )


def test_matrix_reader_given_predicted_ratings(tmp_path):
    # The notebook's answer_ratings.csv: every cell a fractional estimate, index 1..n.
    estimated = pd.DataFrame([[1.25, 4.5], [3.75, 2.125]], columns=[1, 2], index=[1, 2])
    path = tmp_path / "answer_ratings.csv"
    estimated.to_csv(path)

    with pytest.raises(DataFormatError) as error:
        read_ratings_matrix_csv(path)

    assert_message(
        error,
        path,
        "movie column '1': '1.25' is not a rating (expected 1, 2, 3, 4 or 5; empty or -1 for not rated). "
        "Every cell is filled, mostly with fractions: this looks like a matrix of predicted ratings (such as "
        "the notebook's answer_ratings.csv), not of observed ones.",
        line=2,
    )


def test_ratings_csv_with_pandas_default_index_column(tmp_path, tiny_ratings):
    path = tmp_path / "ratings.csv"
    tiny_ratings.rename(
        columns={"user_id": "UserID", "item_id": "MovieID", "rating": "Rating"}
    ).drop(columns="timestamp").to_csv(path)  # index=True: a first, unnamed 0..n-1 column
    assert path.read_text().startswith(",UserID,MovieID,Rating\n0,")

    pd.testing.assert_frame_equal(
        read_ratings_csv(path), tiny_ratings[["user_id", "item_id", "rating"]]
    )


def test_ratings_csv_saved_from_a_recsys_ref_frame(tmp_path, tiny_ratings):
    path = tmp_path / "ratings.csv"
    tiny_ratings.to_csv(path, index=False)  # user_id,item_id,rating,timestamp

    pd.testing.assert_frame_equal(read_ratings_csv(path), tiny_ratings)


def test_ratings_csv_of_a_movielens_release(tmp_path):
    path = write(tmp_path, "ratings.csv", "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n")

    with pytest.raises(DataFormatError) as error:
        read_ratings_csv(path)

    assert_message(
        error,
        path,
        "missing column(s) UserID, MovieID, Rating; the header has 'userId', 'movieId', 'rating', 'timestamp' "
        "but needs UserID, MovieID, Rating. It looks like the ratings.csv of MovieLens ml-latest-small, ml-20m "
        "or ml-25m: load its folder with load_movielens(release, data_dir=<the folder>), release "
        "being 'ml-latest-small', 'ml-20m' or 'ml-25m'.",
        line=1,
    )


def test_ratings_csv_given_the_dense_matrix(tmp_path):
    path = write(tmp_path, "ratings.csv", MATRIX)

    with pytest.raises(DataFormatError) as error:
        read_ratings_csv(path)

    assert error.value.line == 1
    assert str(error.value).endswith(
        "It looks like the original notebook's dense ratings_mat.csv (a row per user, a column per film): "
        "read it with read_ratings_matrix_csv."
    )


def test_ratings_csv_saved_by_excel_with_semicolons(tmp_path):
    path = write(tmp_path, "ratings.csv", "UserID;MovieID;Rating\r\n1;2;3\r\n")

    with pytest.raises(DataFormatError) as error:
        read_ratings_csv(path)

    assert_message(
        error,
        path,
        "missing column(s) UserID, MovieID, Rating; the header has 'UserID;MovieID;Rating' but needs UserID, "
        "MovieID, Rating. The header is separated by semicolons, not commas (as Excel writes CSV in some "
        "languages: save it as 'CSV UTF-8').",
        line=1,
    )


def test_ratings_csv_in_utf16_as_excel_unicode_text_writes_it(tmp_path):
    path = write(tmp_path, "ratings.csv", (HEADER + "1,2,3\n2,2,5\n").encode("utf-16"))

    assert read_ratings_csv(path).to_numpy().tolist() == [[1, 2, 3], [2, 2, 5]]


def test_ratings_csv_that_is_an_excel_workbook(tmp_path):
    import zipfile

    path = tmp_path / "ratings.csv"
    with zipfile.ZipFile(path, "w") as book:
        book.writestr("[Content_Types].xml", "<Types/>")
        book.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")

    with pytest.raises(DataFormatError) as error:
        read_ratings_csv(path)

    assert_message(
        error,
        path,
        "It is an Excel workbook (.xlsx), not a text file: save it from Excel as 'CSV UTF-8 (comma delimited)'.",
        line=None,
    )

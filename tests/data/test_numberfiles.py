"""The fast reader of all-number files: same data and same messages as the text reader, at any size.

The second pass (which names the first bad line) reads in chunks; the chunk size is set to a
few rows here so that bad lines fall in later chunks, after blank lines, and on chunk edges.
"""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest

import recsys_ref.data.numberfiles as numberfiles
from recsys_ref.data import DataFormatError
from recsys_ref.data.numberfiles import Field, read_number_table
from recsys_ref.data.textfiles import HALF_STARS, ITEM_ID, TIMESTAMP, USER_ID

FIELDS = [
    Field("userId", "user_id", USER_ID),
    Field("movieId", "item_id", ITEM_ID),
    Field("rating", "rating", HALF_STARS),
    Field("timestamp", "timestamp", TIMESTAMP),
]
HEADER = "userId,movieId,rating,timestamp\n"


def rows(n: int, start: int = 1) -> str:
    return "".join(
        f"{u},{u % 7 + 1},{(u % 10 + 1) / 2:.1f},{900000000 + u}\n" for u in range(start, start + n)
    )


def read(tmp_path, text: str, **options):
    path = tmp_path / "ratings.csv"
    path.write_bytes(text.encode())
    return path, read_number_table(path, FIELDS, sep=",", header=True, **options)


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(numberfiles, "CHUNK_ROWS", 3)


def test_clean_file_gives_typed_columns_and_line_numbers(tmp_path):
    _, (frame, lines) = read(tmp_path, HEADER + rows(5))

    assert list(frame.columns) == ["user_id", "item_id", "rating", "timestamp"]
    assert [frame[c].dtype for c in frame] == [np.int64, np.int64, np.float64, np.int64]
    assert frame["user_id"].tolist() == [1, 2, 3, 4, 5] and frame["rating"].tolist() == [
        1.0,
        1.5,
        2.0,
        2.5,
        3.0,
    ]
    assert lines.tolist() == [2, 3, 4, 5, 6]


@pytest.mark.parametrize("chunked", [False, True])
def test_blank_lines_are_skipped_and_counted(tmp_path, monkeypatch, chunked):
    if chunked:
        monkeypatch.setattr(numberfiles, "CHUNK_ROWS", 3)
    text = "\n" + HEADER + rows(4) + "\n  \n" + rows(4, start=5) + "\n\n"

    _, (frame, lines) = read(tmp_path, text)

    assert frame["user_id"].tolist() == list(range(1, 9))
    assert lines.tolist() == [3, 4, 5, 6, 9, 10, 11, 12]


@pytest.mark.usefixtures("small_chunks")
@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ("7,3,x,900000007", "rating 'x' is not a number."),
        ("7,3,,900000007", "rating is empty."),
        ("7,3,4.0", "expected 4 comma-separated fields, found 3."),
        ("7,3,4.0,900000007,9", "expected 4 comma-separated fields, found 5."),
        ("7,3,4.25,900000007", "rating '4.25' is not a multiple of 0.5."),
        ("7,0,4.0,900000007", "item id '0' is out of range: it must be >= 1."),
        ("7,3,4.0,-1", "timestamp '-1' is out of range: it must be >= 0."),
        ("7,3,NaN,900000007", "rating 'NaN' is not a number."),
        (",,,", "user id is empty."),
    ],
)
def test_first_bad_line_in_a_later_chunk_after_blank_lines(tmp_path, bad, problem):
    # line 1 header, lines 2-7 good, 8 blank, 9 bad, then more good lines
    path = tmp_path / "ratings.csv"
    path.write_text(HEADER + rows(6) + "\n" + bad + "\n" + rows(5, start=8))

    with pytest.raises(DataFormatError) as error:
        read_number_table(path, FIELDS, sep=",", header=True)

    assert str(error.value) == f"{path}, line 9: {problem}"


@pytest.mark.usefixtures("small_chunks")
def test_an_earlier_bad_value_wins_over_a_later_long_line(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_text(HEADER + rows(4) + "5,1,9.0,900000005\n" + "6,1,1.0,900000006,extra\n")

    with pytest.raises(DataFormatError) as error:
        read_number_table(path, FIELDS, sep=",", header=True)

    assert (
        str(error.value)
        == f"{path}, line 6: rating '9.0' is out of range: it must be from 0.5 to 5 in steps of 0.5."
    )


def test_same_data_from_the_fast_and_the_chunked_pass(tmp_path, monkeypatch):
    text = HEADER + rows(50)
    _, (fast, fast_lines) = read(tmp_path, text)
    monkeypatch.setattr(numberfiles, "CHUNK_ROWS", 7)
    _, (slow, slow_lines) = read(tmp_path, text + "\n")  # the blank line forces the chunked pass

    pd.testing.assert_frame_equal(fast, slow)
    assert fast_lines.tolist() == slow_lines.tolist()


def test_columns_are_found_by_header_name_in_any_order(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_text("timestamp,rating,movieId,userId\n7,4.5,2,1\n")

    frame, _ = read_number_table(path, FIELDS, sep=",", header=True)

    assert frame.iloc[0].tolist() == [1, 2, 4.5, 7]


def test_double_colon_separator_and_no_header(tmp_path):
    path = tmp_path / "ratings.dat"
    path.write_text("1::10::4.5::978300760\n2::20::3::978300761\n")
    fields = [
        Field(k, n, c)
        for k, n, c in zip(
            range(4),
            ("user_id", "item_id", "rating", "timestamp"),
            (USER_ID, ITEM_ID, HALF_STARS, TIMESTAMP),
        )
    ]

    frame, lines = read_number_table(
        path, fields, sep="::", header=False, width=4, quoting=csv.QUOTE_NONE
    )

    assert frame.to_numpy().tolist() == [[1, 10, 4.5, 978300760], [2, 20, 3.0, 978300761]]
    assert lines.tolist() == [1, 2]


def test_header_only(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_text(HEADER)

    with pytest.raises(DataFormatError) as error:
        read_number_table(
            path, FIELDS, sep=",", header=True, no_rows="the file has a header but no ratings."
        )

    assert str(error.value) == f"{path}: the file has a header but no ratings."


def test_utf16_with_a_byte_order_mark(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_bytes((HEADER + rows(2)).encode("utf-16"))

    frame, _ = read_number_table(path, FIELDS, sep=",", header=True)

    assert frame["user_id"].tolist() == [1, 2]

"""MovieLens 100K: the official and RecBole readers, the source order, and the real data.

The reader and loader tests use tiny hand-made folders written into
``tmp_path`` (never copies of the real files, whose licence forbids
redistribution) and never touch the network: every load that could fetch is
given ``sources=`` whose fetchers fail the test if called, unless the test
supplies its own. The tests marked ``movielens`` load the real data set (from
the local cache, fetching it on first use), once per module.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import recsys_ref.data.movielens as ml
import recsys_ref.data.movielens_files as files
from recsys_ref.data import (
    GENRES,
    RELEASES,
    SOURCES,
    Counts,
    DataFormatError,
    MovieLens100K,
    Source,
    default_data_home,
    fetch_grouplens,
    fetch_recbole_wheel,
    load_movielens,
    load_movielens_100k,
    ratings_checksum,
    verify_movielens_100k,
)

ML100K = RELEASES["ml-100k"]

# --- tiny fixtures: 3 users, 3 items, 5 ratings ----------------------------------


def flags(*genres: str) -> str:
    assert set(genres) <= set(GENRES)
    return "|".join("1" if g in genres else "0" for g in GENRES)


U_DATA = "1\t1\t5\t881250949\n1\t2\t3\t881250950\n2\t1\t4\t881250951\n3\t3\t1\t881250952\n2\t3\t2\t881250953\n"
U_USER = "1|24|M|technician|85711\n2|53|F|other|94043\n3|23|M|writer|T8H1N\n"
TOY_STORY_GENRES = ("Animation", "Children's", "Comedy")
U_ITEM = (
    "1|Toy Story (1995)|01-Jan-1995||http://us.imdb.com/M/title-exact?Toy%20Story%20(1995)|"
    + flags(*TOY_STORY_GENRES)
    + "\n2|Café au lait (1993)|01-Jan-1993||http://us.imdb.com/M/title-exact?Cafe|"
    + flags("Comedy")
    + "\n3|unknown||||"
    + flags("unknown")
    + "\n"
)  # written in Latin-1, like the real u.item

INTER = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n" + U_DATA
RB_USER = (
    "user_id:token\tage:token\tgender:token\toccupation:token\tzip_code:token\n"
    + U_USER.replace("|", "\t")
)
RB_ITEM = (
    "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n"
    "1\tToy Story\t1995\tAnimation Children's Comedy\n"
    "2\tCafé au lait\t1993\tComedy\n"
    "3\tunknown\tunknown\tunknown\n"
)  # written in UTF-8, like RecBole's copy


def make_official(
    folder: Path, *, data: str = U_DATA, user: str = U_USER, item: str = U_ITEM
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "u.data").write_text(data, encoding="utf-8", newline="")
    (folder / "u.user").write_text(user, encoding="utf-8", newline="")
    (folder / "u.item").write_bytes(item.encode("latin-1"))
    return folder


def make_recbole(
    folder: Path, *, inter: str = INTER, user: str = RB_USER, item: str = RB_ITEM
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ml-100k.inter").write_text(inter, encoding="utf-8", newline="")
    (folder / "ml-100k.user").write_text(user, encoding="utf-8", newline="")
    (folder / "ml-100k.item").write_text(item, encoding="utf-8", newline="")
    return folder


def assert_message(
    error: pytest.ExceptionInfo, source: Path | str, problem: str, line: int | None
) -> None:
    """The message is exactly ``<source>[, line <n>]: <problem>``."""
    where = str(source) if line is None else f"{source}, line {line}"
    assert str(error.value) == f"{where}: {problem}"
    assert error.value.line == line


TINY_COUNT_PROBLEM = "expected 100,000 ratings in MovieLens 100K, found 5."


def no_fetch(release, home, say):
    pytest.fail("a fetch function was called, but the test should not need the network")


#: Sources that fail the test if the loader tries them.
NO_NETWORK = (
    Source("GroupLens (must not be called)", no_fetch),
    Source("RecBole (must not be called)", no_fetch),
)


@pytest.fixture(autouse=True)
def no_user_environment(monkeypatch, tmp_path):
    """No user environment: no data folder, and the cache is an empty folder."""
    monkeypatch.delenv(ml.DATA_DIR_ENV, raising=False)
    monkeypatch.setenv(ml.DATA_HOME_ENV, str(tmp_path / "empty-home"))


# --- the official files: good input -----------------------------------------------


def test_read_official_files(tmp_path):
    folder = make_official(tmp_path / "ml-100k")

    ratings = files.read_official_ratings(folder / "u.data")
    users = files.read_official_users(folder / "u.user")
    items = files.read_official_items(folder / "u.item")

    assert list(ratings.columns) == ["user_id", "item_id", "rating", "timestamp"]
    assert all(dtype == np.int64 for dtype in ratings.dtypes)
    assert ratings.iloc[0].tolist() == [1, 1, 5, 881250949]
    assert len(ratings) == 5

    assert users.index.name == "user_id" and list(users.index) == [1, 2, 3]
    assert users.loc[2].tolist() == [53, "F", "other", "94043"]
    assert users.loc[3, "zip_code"] == "T8H1N"
    assert users["age"].dtype == np.int64

    assert items.index.name == "item_id" and list(items.index) == [1, 2, 3]
    assert items["title"].tolist() == ["Toy Story", "Café au lait", "unknown"]  # Latin-1 decoded
    assert items["release_year"].dtype == "Int64"
    assert items.loc[1, "release_year"] == 1995 and items.loc[2, "release_year"] == 1993
    assert pd.isna(items.loc[3, "release_year"])  # empty release date, as for item 267
    assert items.loc[1, "genres"] == ("Animation", "Children's", "Comedy")
    assert items.loc[3, "genres"] == ("unknown",)
    assert list(items.columns[3:]) == list(GENRES)
    assert items.loc[1, ["Animation", "Children's", "Comedy", "Drama"]].tolist() == [1, 1, 1, 0]


def test_official_reader_sorts_users_and_items_by_id(tmp_path):
    folder = make_official(
        tmp_path / "ml-100k",
        user="".join(reversed(U_USER.splitlines(keepends=True))),
        item="".join(reversed(U_ITEM.splitlines(keepends=True))),
    )

    assert list(files.read_official_users(folder / "u.user").index) == [1, 2, 3]
    assert list(files.read_official_items(folder / "u.item").index) == [1, 2, 3]


def test_official_and_recbole_tiny_folders_read_the_same(tmp_path):
    official = make_official(tmp_path / "official")
    recbole = make_recbole(tmp_path / "recbole")

    pd.testing.assert_frame_equal(
        files.read_official_ratings(official / "u.data"),
        files.read_recbole_ratings(recbole / "ml-100k.inter"),
    )
    pd.testing.assert_frame_equal(
        files.read_official_users(official / "u.user"),
        files.read_recbole_users(recbole / "ml-100k.user"),
    )
    pd.testing.assert_frame_equal(
        files.read_official_items(official / "u.item"),
        files.read_recbole_items(recbole / "ml-100k.item"),
    )


def test_recbole_reader_finds_columns_by_name(tmp_path):
    inter = (
        "timestamp:float\textra:token\titem_id:token\tuser_id:token\trating:float\n7\tz\t2\t1\t4\n"
    )
    folder = make_recbole(tmp_path, inter=inter)

    ratings = files.read_recbole_ratings(folder / "ml-100k.inter")

    assert ratings.iloc[0].tolist() == [1, 2, 4, 7]


def test_recbole_non_numeric_release_year_is_missing(tmp_path):
    # RecBole's own copy has "unkonwn" (item 267) and "V" (item 1412) as years.
    item = "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n1\tA (1995)\tV\tDrama\n"
    folder = make_recbole(tmp_path, item=item)

    items = files.read_recbole_items(folder / "ml-100k.item")

    assert pd.isna(items.loc[1, "release_year"])
    assert items.loc[1, "title"] == "A (1995)"


# --- the official files: one test per bad input ------------------------------------


def test_official_missing_file(tmp_path):
    path = tmp_path / "u.data"

    with pytest.raises(FileNotFoundError) as error:
        files.read_official_ratings(path)

    assert isinstance(error.value, DataFormatError)
    assert_message(error, path, "file not found.", line=None)


def test_official_empty_u_data(tmp_path):
    folder = make_official(tmp_path, data="")

    with pytest.raises(DataFormatError) as error:
        files.read_official_ratings(folder / "u.data")

    assert_message(error, folder / "u.data", "the file is empty (zero bytes).", line=None)


def test_official_u_data_comma_separated(tmp_path):
    folder = make_official(tmp_path, data="1,1,5,881250949\n")

    with pytest.raises(DataFormatError) as error:
        files.read_official_ratings(folder / "u.data")

    assert_message(
        error,
        folder / "u.data",
        "expected 4 tab-separated fields, found 1. The line is separated by commas, not tabs.",
        line=1,
    )


def test_official_u_data_line_without_timestamp(tmp_path):
    folder = make_official(tmp_path, data=U_DATA + "3\t1\t4\n")

    with pytest.raises(DataFormatError) as error:
        files.read_official_ratings(folder / "u.data")

    assert_message(error, folder / "u.data", "expected 4 tab-separated fields, found 3.", line=6)


def test_official_u_data_non_numeric_rating(tmp_path):
    folder = make_official(tmp_path, data=U_DATA.replace("\t3\t881250950", "\tthree\t881250950"))

    with pytest.raises(DataFormatError) as error:
        files.read_official_ratings(folder / "u.data")

    assert_message(error, folder / "u.data", "rating 'three' is not a number.", line=2)


@pytest.mark.parametrize(
    ("rating", "problem"),
    [
        ("0", "rating '0' is out of range: it must be a whole number from 1 to 5."),
        ("6", "rating '6' is out of range: it must be a whole number from 1 to 5."),
        ("3.5", "rating '3.5' is not a whole number."),
    ],
)
def test_official_u_data_bad_rating_value(tmp_path, rating, problem):
    folder = make_official(
        tmp_path, data=U_DATA.replace("\t1\t881250952", f"\t{rating}\t881250952")
    )

    with pytest.raises(DataFormatError) as error:
        files.read_official_ratings(folder / "u.data")

    assert_message(error, folder / "u.data", problem, line=4)


def test_official_u_data_negative_timestamp(tmp_path):
    folder = make_official(tmp_path, data=U_DATA.replace("881250953", "-5"))

    with pytest.raises(DataFormatError) as error:
        files.read_official_ratings(folder / "u.data")

    assert_message(
        error, folder / "u.data", "timestamp '-5' is out of range: it must be >= 0.", line=5
    )


def test_official_u_data_duplicate_pair_names_both_lines(tmp_path):
    folder = make_official(tmp_path, data=U_DATA + "2\t1\t5\t881250999\n")

    with pytest.raises(DataFormatError) as error:
        files.read_official_ratings(folder / "u.data")

    assert_message(
        error,
        folder / "u.data",
        "user 2 rated item 1 more than once (lines 3, 6); keep one rating per user-item pair.",
        line=6,
    )


def test_official_u_data_blank_line_keeps_line_numbers(tmp_path):
    folder = make_official(tmp_path, data="1\t1\t5\t1\n\n1\t2\tx\t2\n")

    with pytest.raises(DataFormatError) as error:
        files.read_official_ratings(folder / "u.data")

    assert_message(error, folder / "u.data", "rating 'x' is not a number.", line=3)


def test_official_bad_gender(tmp_path):
    folder = make_official(tmp_path, user=U_USER.replace("|F|", "|female|"))

    with pytest.raises(DataFormatError) as error:
        files.read_official_users(folder / "u.user")

    assert_message(error, folder / "u.user", "gender 'female' must be 'M' or 'F'.", line=2)


def test_official_non_numeric_age(tmp_path):
    folder = make_official(tmp_path, user=U_USER.replace("|23|", "|twenty|"))

    with pytest.raises(DataFormatError) as error:
        files.read_official_users(folder / "u.user")

    assert_message(error, folder / "u.user", "age 'twenty' is not a number.", line=3)


def test_official_user_listed_twice(tmp_path):
    folder = make_official(tmp_path, user=U_USER + "2|30|M|other|12345\n")

    with pytest.raises(DataFormatError) as error:
        files.read_official_users(folder / "u.user")

    assert_message(
        error, folder / "u.user", "user id 2 appears more than once (lines 2, 4).", line=4
    )


def test_official_u_user_wrong_number_of_fields(tmp_path):
    folder = make_official(tmp_path, user=U_USER + "4|30|M|other\n")

    with pytest.raises(DataFormatError) as error:
        files.read_official_users(folder / "u.user")

    assert_message(error, folder / "u.user", "expected 5 '|'-separated fields, found 4.", line=4)


@pytest.mark.parametrize("flag", ["2", "yes", ""])
def test_official_bad_genre_flag(tmp_path, flag):
    values = ["0"] * len(GENRES)
    values[GENRES.index("Comedy")] = flag  # GENRES[5]: field 6 + 5 = 11 of the line
    line = "4|Heat (1995)|01-Jan-1995||http://x|" + "|".join(values)
    folder = make_official(tmp_path, item=U_ITEM + line + "\n")

    with pytest.raises(DataFormatError) as error:
        files.read_official_items(folder / "u.item")

    assert_message(
        error,
        folder / "u.item",
        f"genre flag 'Comedy' (field 11) is '{flag}'; it must be 0 or 1.",
        line=4,
    )


def test_official_u_item_missing_a_genre_flag(tmp_path):
    line = "4|Heat (1995)|01-Jan-1995||http://x|" + "|".join(["0"] * (len(GENRES) - 1))
    folder = make_official(tmp_path, item=U_ITEM + line + "\n")

    with pytest.raises(DataFormatError) as error:
        files.read_official_items(folder / "u.item")

    assert_message(error, folder / "u.item", "expected 24 '|'-separated fields, found 23.", line=4)


def test_official_bad_release_date(tmp_path):
    folder = make_official(tmp_path, item=U_ITEM.replace("01-Jan-1993", "1993-01-01"))

    with pytest.raises(DataFormatError) as error:
        files.read_official_items(folder / "u.item")

    assert_message(
        error,
        folder / "u.item",
        "release date '1993-01-01' is not a date like '01-Jan-1995' (or empty).",
        line=2,
    )


def test_official_item_listed_twice(tmp_path):
    folder = make_official(tmp_path, item=U_ITEM + U_ITEM.splitlines(keepends=True)[0])

    with pytest.raises(DataFormatError) as error:
        files.read_official_items(folder / "u.item")

    assert_message(
        error, folder / "u.item", "item id 1 appears more than once (lines 1, 4).", line=4
    )


# --- RecBole's atomic files: one test per bad input -------------------------------


def test_recbole_missing_column(tmp_path):
    folder = make_recbole(tmp_path, inter=INTER.replace("rating:float", "score:float"))

    with pytest.raises(DataFormatError) as error:
        files.read_recbole_ratings(folder / "ml-100k.inter")

    assert_message(
        error,
        folder / "ml-100k.inter",
        "missing column(s) rating; the header has 'user_id', 'item_id', 'score', 'timestamp' "
        "but needs user_id, item_id, rating, timestamp.",
        line=1,
    )


def test_recbole_empty_file(tmp_path):
    folder = make_recbole(tmp_path, inter="")

    with pytest.raises(DataFormatError) as error:
        files.read_recbole_ratings(folder / "ml-100k.inter")

    assert_message(error, folder / "ml-100k.inter", "the file is empty (zero bytes).", line=None)


@pytest.mark.parametrize(
    ("name", "reader", "what"),
    [
        ("ml-100k.inter", files.read_recbole_ratings, "ratings"),
        ("ml-100k.user", files.read_recbole_users, "users"),
        ("ml-100k.item", files.read_recbole_items, "items"),
    ],
)
def test_recbole_header_only(tmp_path, name, reader, what):
    folder = make_recbole(tmp_path)
    path = folder / name
    path.write_text(path.read_text().splitlines(keepends=True)[0])

    with pytest.raises(DataFormatError) as error:
        reader(path)

    assert_message(error, path, f"the file has a header but no {what}.", line=None)


def test_recbole_out_of_range_rating_counts_the_header_line(tmp_path):
    folder = make_recbole(tmp_path, inter=INTER.replace("\t4\t881250951", "\t9\t881250951"))

    with pytest.raises(DataFormatError) as error:
        files.read_recbole_ratings(folder / "ml-100k.inter")

    assert_message(
        error,
        folder / "ml-100k.inter",
        "rating '9' is out of range: it must be a whole number from 1 to 5.",
        line=4,
    )


def test_recbole_duplicate_pair_names_both_lines(tmp_path):
    folder = make_recbole(tmp_path, inter=INTER + "1\t2\t4\t881250960\n")

    with pytest.raises(DataFormatError) as error:
        files.read_recbole_ratings(folder / "ml-100k.inter")

    assert_message(
        error,
        folder / "ml-100k.inter",
        "user 1 rated item 2 more than once (lines 3, 7); keep one rating per user-item pair.",
        line=7,
    )


def test_recbole_unknown_genre(tmp_path):
    folder = make_recbole(tmp_path, item=RB_ITEM.replace("\tComedy\n", "\tComedy Cartoon\n"))

    with pytest.raises(DataFormatError) as error:
        files.read_recbole_items(folder / "ml-100k.item")

    assert_message(
        error,
        folder / "ml-100k.item",
        f"unknown genre 'Cartoon'; the genres are {', '.join(GENRES)}.",
        line=3,
    )


def test_recbole_bad_gender(tmp_path):
    folder = make_recbole(tmp_path, user=RB_USER.replace("\tM\twriter", "\tX\twriter"))

    with pytest.raises(DataFormatError) as error:
        files.read_recbole_users(folder / "ml-100k.user")

    assert_message(error, folder / "ml-100k.user", "gender 'X' must be 'M' or 'F'.", line=4)


# --- load_movielens_100k: where it looks, in which order -----------------------------


def test_data_dir_with_tiny_official_files_fails_verification_on_counts(tmp_path):
    folder = make_official(tmp_path / "mine")

    with pytest.raises(DataFormatError) as error:
        load_movielens_100k(data_dir=folder, report=None)

    assert_message(error, folder, TINY_COUNT_PROBLEM, line=None)


def test_data_dir_with_tiny_recbole_files_fails_verification_on_counts(tmp_path):
    folder = make_recbole(tmp_path / "mine")

    with pytest.raises(DataFormatError) as error:
        load_movielens_100k(data_dir=str(folder), report=None)

    assert_message(error, folder, TINY_COUNT_PROBLEM, line=None)


def test_environment_variable_names_the_data_folder(tmp_path, monkeypatch):
    folder = make_recbole(tmp_path / "from-env")
    monkeypatch.setenv("RECSYS_DATA_DIR", str(folder))

    with pytest.raises(DataFormatError) as error:
        load_movielens_100k(report=None)

    assert_message(error, folder, TINY_COUNT_PROBLEM, line=None)


def test_data_dir_argument_wins_over_environment_and_cache(tmp_path, monkeypatch):
    make_official(tmp_path / "home" / "ml-100k")
    monkeypatch.setenv("RECSYS_DATA_DIR", str(make_official(tmp_path / "from-env")))
    argument = make_recbole(tmp_path / "argument")

    with pytest.raises(DataFormatError) as error:
        load_movielens_100k(data_dir=argument, data_home=tmp_path / "home", report=None)

    assert error.value.source == str(argument)


def test_data_dir_is_the_only_source_when_given(tmp_path):
    make_official(tmp_path / "home" / "ml-100k")
    empty = tmp_path / "empty"
    empty.mkdir()

    with pytest.raises(FileNotFoundError) as error:
        load_movielens_100k(
            data_dir=empty, data_home=tmp_path / "home", sources=NO_NETWORK, report=None
        )

    assert isinstance(error.value, DataFormatError)
    assert_message(
        error,
        empty,
        "MovieLens 100K (ml-100k) is not here: it needs u.data, u.user, u.item; or RecBole's "
        "ml-100k.inter, ml-100k.user, ml-100k.item. The folder is empty.",
        line=None,
    )


def test_data_dir_that_does_not_exist(tmp_path):
    missing = tmp_path / "nowhere"

    with pytest.raises(FileNotFoundError) as error:
        load_movielens_100k(data_dir=missing, report=None)

    assert_message(
        error,
        missing,
        "is not a folder; it should hold MovieLens 100K's files (u.data, u.user, u.item; "
        "or RecBole's ml-100k.inter, ml-100k.user, ml-100k.item).",
        line=None,
    )


def test_data_dir_with_a_malformed_file_reports_that_file(tmp_path):
    folder = make_official(tmp_path / "mine", user=U_USER.replace("|F|", "|?|"))

    with pytest.raises(DataFormatError) as error:
        load_movielens_100k(data_dir=folder, report=None)

    assert_message(error, folder / "u.user", "gender '?' must be 'M' or 'F'.", line=2)


@pytest.mark.parametrize(
    ("subfolder", "make"), [("ml-100k", make_official), ("recbole-ml-100k", make_recbole)]
)
def test_cache_is_found_before_any_download(tmp_path, subfolder, make):
    cached = make(tmp_path / "home" / subfolder)

    with pytest.raises(DataFormatError) as error:
        load_movielens_100k(data_home=tmp_path / "home", sources=NO_NETWORK, report=None)

    assert_message(error, cached, TINY_COUNT_PROBLEM, line=None)


def test_cache_prefers_the_official_files_to_recboles(tmp_path):
    make_recbole(tmp_path / "home" / "recbole-ml-100k")
    official = make_official(tmp_path / "home" / "ml-100k")

    with pytest.raises(DataFormatError) as error:
        load_movielens_100k(data_home=tmp_path / "home", sources=NO_NETWORK, report=None)

    assert error.value.source == str(official)


def test_cache_folder_from_environment_variable(tmp_path, monkeypatch):
    cached = make_official(tmp_path / "env-home" / "ml-100k")
    monkeypatch.setenv("RECSYS_DATA_HOME", str(tmp_path / "env-home"))

    assert default_data_home() == tmp_path / "env-home"
    with pytest.raises(DataFormatError) as error:
        load_movielens_100k(sources=NO_NETWORK, report=None)
    assert error.value.source == str(cached)


def test_no_download_and_empty_cache_says_where_to_put_the_files(tmp_path):
    home = tmp_path / "home"

    with pytest.raises(FileNotFoundError) as error:
        load_movielens_100k(
            data_home=home, download_if_missing=False, sources=NO_NETWORK, report=None
        )

    message = str(error.value)
    assert message.startswith("MovieLens 100K could not be found or fetched. Tried:\n")
    assert (
        f"the cache: {home} holds no ml-100k (download_if_missing=False, so nothing was downloaded)"
        in message
    )
    assert message.endswith(
        f"Download {ML100K.url}, unzip it, and either put the folder 'ml-100k' "
        f"(with u.data, u.user, u.item) into {home}, or pass data_dir=<that folder or the zip> "
        "(or set RECSYS_DATA_DIR)."
    )


#: ML-100K with the tiny folders' counts: what the loader verifies a fetched tiny folder against.
TINY_100K = dataclasses.replace(
    ML100K, counts=Counts(ratings=5, users=3, items=3), ratings_sha256=None
)


def test_download_order_grouplens_then_recbole_wheel(tmp_path):
    calls, said = [], []

    def grouplens_down(release, home, say):
        calls.append("grouplens")
        raise OSError("no route to files.grouplens.org")

    def recbole_wheel(release, home, say):
        calls.append("recbole")
        return make_recbole(home / "recbole-ml-100k")

    sources = (
        Source("Downloading the official {zip_name} from GroupLens", grouplens_down),
        Source(
            "Fetching the copy inside the RecBole 1.2.1 wheel with pip",
            recbole_wheel,
            frozenset({"ml-100k"}),
        ),
    )
    data = load_movielens(
        TINY_100K, data_home=tmp_path / "home", sources=sources, report=said.append
    )

    assert calls == ["grouplens", "recbole"]
    assert isinstance(data, MovieLens100K)
    assert data.source == str(tmp_path / "home" / "recbole-ml-100k")
    assert len(data.ratings) == 5 and data.n_users == 3 and data.n_items == 3
    assert said == [
        "Downloading the official ml-100k.zip from GroupLens failed: no route to files.grouplens.org",
        f"MovieLens 100K verified and cached in {tmp_path / 'home' / 'recbole-ml-100k'}",
    ]


def test_default_sources_are_grouplens_then_the_recbole_wheel_for_ml_100k_only():
    assert [source.fetch for source in SOURCES] == [fetch_grouplens, fetch_recbole_wheel]
    assert [source.has(ML100K) for source in SOURCES] == [True, True]
    assert [source.has(RELEASES["ml-1m"]) for source in SOURCES] == [True, False]


def test_fetched_data_is_verified(tmp_path):
    sources = (
        Source("a fake GroupLens", lambda release, home, say: make_official(home / "ml-100k")),
    )

    with pytest.raises(DataFormatError) as error:
        load_movielens_100k(data_home=tmp_path / "home", sources=sources, report=None)

    assert_message(error, tmp_path / "home" / "ml-100k", TINY_COUNT_PROBLEM, line=None)


def test_every_source_failing_lists_the_failures_and_where_to_put_the_files(tmp_path):
    def down(release, home, say):
        raise OSError("offline")

    sources = (
        Source("Downloading the official {zip_name} from GroupLens", down),
        Source("Fetching from a mirror", down),
    )
    home = tmp_path / "home"

    with pytest.raises(FileNotFoundError) as error:
        load_movielens_100k(data_home=home, sources=sources, report=None)

    message = str(error.value)
    assert "  - Downloading the official ml-100k.zip from GroupLens failed: offline\n" in message
    assert "  - Fetching from a mirror failed: offline\n" in message
    assert (
        f"into {home}, or pass data_dir=<that folder or the zip> (or set RECSYS_DATA_DIR)."
        in message
    )


# --- the real MovieLens 100K ---------------------------------------------------------


@pytest.fixture(scope="module")
def ml100k() -> MovieLens100K:
    return load_movielens_100k(report=None)


@pytest.mark.movielens
def test_real_counts_and_density(ml100k):
    assert len(ml100k.ratings) == 100_000
    assert ml100k.n_users == 943
    assert ml100k.n_items == 1_682
    assert ml100k.ratings["user_id"].nunique() == 943
    assert ml100k.ratings["item_id"].nunique() == 1_682
    assert len(ml100k.ratings) / (943 * 1682) == pytest.approx(0.06305, abs=1e-5)


@pytest.mark.movielens
def test_real_checksum(ml100k):
    assert (
        ratings_checksum(ml100k.ratings)
        == "d0366dc73dcd6c6620782fc3436fc07a4a003fe17c863aee0829c53db6a8f574"
    )


@pytest.mark.movielens
def test_real_ratings_are_integers_1_to_5(ml100k):
    ratings = ml100k.ratings
    assert list(ratings.columns) == ["user_id", "item_id", "rating", "timestamp"]
    assert all(dtype == np.int64 for dtype in ratings.dtypes)
    assert set(ratings["rating"].unique()) == {1, 2, 3, 4, 5}
    assert not ratings.duplicated(["user_id", "item_id"]).any()


@pytest.mark.movielens
def test_real_every_user_rated_at_least_20(ml100k):
    assert ml100k.ratings.groupby("user_id").size().min() == 20


@pytest.mark.movielens
def test_real_users_and_items(ml100k):
    assert list(ml100k.users.index) == list(range(1, 944))
    assert set(ml100k.users["gender"]) == {"M", "F"}
    assert list(ml100k.items.index) == list(range(1, 1683))
    toy_story = ml100k.items.loc[1]
    assert toy_story["title"] == "Toy Story"
    assert toy_story["release_year"] == 1995
    assert toy_story["genres"] == ("Animation", "Children's", "Comedy")


@pytest.mark.movielens
def test_real_verification_catches_an_edited_rating(ml100k):
    ratings = ml100k.ratings.copy()
    ratings.loc[0, "rating"] = 5 if ratings.loc[0, "rating"] != 5 else 4
    edited = dataclasses.replace(ml100k, ratings=ratings, source="edited")

    with pytest.raises(DataFormatError) as error:
        verify_movielens_100k(edited)

    assert_message(
        error,
        "edited",
        f"the ratings' SHA-256 is {ratings_checksum(ratings)}, expected {ML100K.ratings_sha256}: "
        "the files are not the original MovieLens 100K (edited, reordered or truncated).",
        line=None,
    )


@pytest.mark.movielens
def test_real_verification_catches_reordered_ratings(ml100k):
    reordered = dataclasses.replace(
        ml100k, ratings=ml100k.ratings.iloc[::-1].reset_index(drop=True)
    )

    with pytest.raises(DataFormatError, match="the ratings' SHA-256 is"):
        verify_movielens_100k(reordered)


@pytest.mark.movielens
def test_real_verification_catches_a_missing_user(ml100k):
    fewer = dataclasses.replace(ml100k, users=ml100k.users.iloc[:-1], source="fewer")

    with pytest.raises(DataFormatError) as error:
        verify_movielens_100k(fewer)

    assert_message(error, "fewer", "expected 943 users in MovieLens 100K, found 942.", line=None)


def _write_official(data: MovieLens100K, folder: Path) -> None:
    folder.mkdir(parents=True)
    data.ratings.to_csv(folder / "u.data", sep="\t", header=False, index=False)
    data.users.to_csv(folder / "u.user", sep="|", header=False)
    items = data.items
    year = items["release_year"]
    title = np.where(year.isna(), items["title"], items["title"] + " (" + year.astype(str) + ")")
    date = np.where(year.isna(), "", "01-Jan-" + year.astype(str))
    lines = [
        "|".join([str(item_id), t, d, "", ""] + [str(v) for v in items.loc[item_id, list(GENRES)]])
        for item_id, t, d in zip(items.index, title, date)
    ]
    (folder / "u.item").write_bytes(("\n".join(lines) + "\n").encode("latin-1"))


def _write_recbole(data: MovieLens100K, folder: Path) -> None:
    folder.mkdir(parents=True)
    data.ratings.set_axis(
        ["user_id:token", "item_id:token", "rating:float", "timestamp:float"], axis=1
    ).to_csv(folder / "ml-100k.inter", sep="\t", index=False)
    users = data.users.reset_index()
    users.columns = [f"{c}:token" for c in users.columns]
    users.to_csv(folder / "ml-100k.user", sep="\t", index=False)
    items = pd.DataFrame(
        {
            "item_id:token": data.items.index,
            "movie_title:token_seq": data.items["title"],
            "release_year:token": data.items["release_year"].astype(str).replace("<NA>", "unknown"),
            "class:token_seq": [" ".join(g) for g in data.items["genres"]],
        }
    )
    items.to_csv(folder / "ml-100k.item", sep="\t", index=False)


@pytest.mark.movielens
def test_real_official_and_recbole_layouts_give_identical_data(ml100k, tmp_path):
    # Rewrite the loaded data in both layouts, as caches, and load each back.
    _write_official(ml100k, tmp_path / "official" / "ml-100k")
    _write_recbole(ml100k, tmp_path / "recbole" / "recbole-ml-100k")

    official = load_movielens_100k(data_home=tmp_path / "official", report=None)
    recbole = load_movielens_100k(data_home=tmp_path / "recbole", report=None)

    assert official.source == str(tmp_path / "official" / "ml-100k")
    assert recbole.source == str(tmp_path / "recbole" / "recbole-ml-100k")
    for data in (official, recbole):
        assert ratings_checksum(data.ratings) == ML100K.ratings_sha256
        pd.testing.assert_frame_equal(data.ratings, ml100k.ratings)
        pd.testing.assert_frame_equal(data.users, ml100k.users)
        assert data.items["genres"].tolist() == ml100k.items["genres"].tolist()
        pd.testing.assert_series_equal(data.items["release_year"], ml100k.items["release_year"])
        pd.testing.assert_frame_equal(data.items[list(GENRES)], ml100k.items[list(GENRES)])
    # A title that itself ends in "(YYYY)" (item 1412 in RecBole's copy) loses it
    # in the official layout; every other title survives the trip.
    ends_in_year = ml100k.items["title"].str.contains(r"\(\d{4}\)$")
    assert (official.items["title"] == ml100k.items["title"])[~ends_in_year].all()
    assert (recbole.items["title"] == ml100k.items["title"]).all()

"""MovieLens files as people really hold them: each kind either loads the same tables or is refused
with a message that says what the file is and what to do.

Kinds: where the files are (a folder one level up, unzipped twice, a zip, a folder holding the
zip, macOS' __MACOSX, a file's path), how they are written (Windows and old Mac line ends, a
UTF-8 byte-order mark, a Latin-1 file re-saved as UTF-8 and the other way round), and what
they are (another release, a file of another release, something that is not a data file).
All fixtures are written at test time (movielens_fixtures.py).
"""

from __future__ import annotations

import gzip
import json
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from movielens_fixtures import write_release, zip_release

from recsys_ref.data import (
    RELEASES,
    DataFileNotFoundError,
    DataFormatError,
    load_movielens,
    load_movielens_100k,
)

ALL = list(RELEASES)


@pytest.fixture(autouse=True)
def no_user_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("RECSYS_DATA_DIR", raising=False)
    monkeypatch.setenv("RECSYS_DATA_HOME", str(tmp_path / "empty-home"))


def load(fixture, data_dir, **options):
    return load_movielens(fixture.release, data_dir=data_dir, sources=(), report=None, **options)


def assert_same_tables(data, fixture) -> None:
    pd.testing.assert_frame_equal(data.ratings, fixture.ratings)
    assert data.items["title"].to_dict() == fixture.titles
    assert data.items["genres"].to_dict() == fixture.genres


# --- where the files are ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL)
def test_folder_given_one_level_up(tmp_path, name):
    fixture = write_release(name, tmp_path / "Downloads")

    data = load(fixture, tmp_path / "Downloads")

    assert data.source == str(fixture.folder)
    assert_same_tables(data, fixture)


@pytest.mark.parametrize("given", ["outer", "parent"])
def test_folder_unzipped_twice(tmp_path, given):
    # Windows' "Extract all" and some unzip tools leave ml-1m/ml-1m/...
    fixture = write_release("ml-1m", tmp_path / "Downloads" / "ml-1m")
    where = tmp_path / "Downloads" / "ml-1m" if given == "outer" else tmp_path / "Downloads"

    data = load(fixture, where)

    assert data.source == str(tmp_path / "Downloads" / "ml-1m" / "ml-1m")
    assert_same_tables(data, fixture)


def test_folder_renamed_by_the_user_one_level_down(tmp_path):
    fixture = write_release("ml-25m", tmp_path / "made")
    renamed = tmp_path / "datasets" / "MovieLens 25M (copy)"
    shutil.move(fixture.folder, renamed)

    data = load(fixture, tmp_path / "datasets")

    assert data.source == str(renamed)


@pytest.mark.parametrize("name", ALL)
def test_zip_given_instead_of_a_folder(tmp_path, name):
    fixture = write_release(name, tmp_path / "made")
    archive = zip_release(fixture, tmp_path / RELEASES[name].zip_name)

    data = load(fixture, archive)

    assert data.source == f"{archive}/{RELEASES[name].folder}/"
    assert_same_tables(data, fixture)
    assert not (tmp_path / RELEASES[name].folder).exists()  # read in place, nothing extracted


def test_zip_made_from_inside_the_folder(tmp_path):
    fixture = write_release("ml-latest-small", tmp_path / "made")
    archive = tmp_path / "my-ratings.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for file in fixture.folder.iterdir():
            zipped.write(file, file.name)

    assert_same_tables(load(fixture, archive), fixture)


def test_folder_holding_the_zip_not_yet_unzipped(tmp_path):
    fixture = write_release("ml-10m", tmp_path / "made")
    (tmp_path / "Downloads").mkdir()
    zip_release(fixture, tmp_path / "Downloads" / "ml-10m.zip")

    data = load(fixture, tmp_path / "Downloads")

    assert data.source == f"{tmp_path / 'Downloads' / 'ml-10m.zip'}/ml-10M100K/"


def test_macos_resource_forks_are_ignored(tmp_path):
    # A zip made by macOS' Finder unzips to the folder and a __MACOSX folder of "._" files.
    fixture = write_release("ml-1m", tmp_path / "made")
    where = tmp_path / "unzipped"
    shutil.copytree(fixture.folder, where / "MovieLens-1M")
    junk = where / "__MACOSX" / "MovieLens-1M"
    junk.mkdir(parents=True)
    for file in fixture.folder.iterdir():
        (junk / f"._{file.name}").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X")

    data = load(fixture, where)

    assert data.source == str(where / "MovieLens-1M")


def test_path_of_one_of_the_files_means_its_folder(tmp_path):
    fixture = write_release("ml-1m", tmp_path)

    assert load(fixture, fixture.folder / "ratings.dat").source == str(fixture.folder)


def test_a_file_that_is_neither_a_folder_nor_a_zip(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("ratings are in ~/data")

    with pytest.raises(FileNotFoundError) as error:
        load_movielens("ml-1m", data_dir=notes, report=None)

    assert str(error.value) == (
        f"{notes}: is a file, not a folder or a zip; give the folder holding MovieLens 1M's files "
        "(ratings.dat, users.dat, movies.dat) or its zip."
    )


def test_a_folder_without_movielens_lists_what_it_holds(tmp_path):
    (tmp_path / "homework.ipynb").write_text("{}")
    (tmp_path / "ratings.csv").write_text("UserID,MovieID,Rating\n1,1,5\n")

    with pytest.raises(DataFileNotFoundError) as error:
        load_movielens("ml-20m", data_dir=tmp_path, report=None)

    assert str(error.value) == (
        f"{tmp_path}: MovieLens 20M (ml-20m) is not here: it needs ratings.csv, movies.csv, tags.csv, links.csv. "
        "The folder holds homework.ipynb, ratings.csv."
    )


def test_a_web_page_saved_as_u_data_next_to_other_files_is_named(tmp_path):
    # A fresh user's folder: a failed download saved as u.data, next to two CSVs of their own.
    # The message said only "it needs u.data, u.user, u.item" although u.data is there.
    (tmp_path / "u.data").write_text("<html><body>Not found</body></html>\n")
    (tmp_path / "dup_pair.csv").write_text("userId,movieId,rating,timestamp\n1,1,5,1\n")
    (tmp_path / "wrong_columns.csv").write_text("user,movie,stars\n1,1,5\n")

    with pytest.raises(DataFileNotFoundError) as error:
        load_movielens_100k(data_dir=tmp_path, sources=(), report=None)

    assert str(error.value) == (
        f"{tmp_path}: MovieLens 100K (ml-100k) is not here: it needs u.data, u.user, u.item; or RecBole's "
        f"ml-100k.inter, ml-100k.user, ml-100k.item. {tmp_path / 'u.data'} is there but is not MovieLens "
        "100K's ratings: It is a web page (HTML), not a data file: the download probably saved an error or "
        "a landing page; download the file again. u.user, u.item are missing too: download "
        "https://files.grouplens.org/datasets/movielens/ml-100k.zip, unzip it and pass "
        "data_dir=<the unzipped folder> (or the zip itself). The folder holds dup_pair.csv, u.data, "
        "wrong_columns.csv."
    )


@pytest.mark.parametrize("kind", ["a zip", "a gzip", "a notebook"])
def test_a_release_file_that_is_not_a_data_file_is_named_when_others_are_missing(tmp_path, kind):
    fixture = write_release("ml-100k", tmp_path)
    (fixture.folder / "u.item").unlink()
    write, problem = NOT_DATA[kind]
    write(fixture.folder / "u.user")

    with pytest.raises(DataFileNotFoundError) as error:
        load(fixture, fixture.folder)

    assert (
        f"{fixture.folder / 'u.user'} is there but is not MovieLens 100K's u.user: {problem} "
        "u.item is missing too: download https://files.grouplens.org/datasets/movielens/ml-100k.zip"
    ) in str(error.value)


# --- another release where one was expected --------------------------------------------------------


@pytest.mark.parametrize("other", ["ml-1m", "ml-10m", "ml-latest-small"])
def test_another_release_where_ml_100k_is_expected(tmp_path, other):
    fixture = write_release(other, tmp_path)
    title = RELEASES[other].title

    with pytest.raises(DataFileNotFoundError) as error:
        load_movielens_100k(data_dir=fixture.folder, report=None)

    assert str(error.value) == (
        f"{fixture.folder}: MovieLens 100K (ml-100k) is not here: it needs u.data, u.user, u.item; or RecBole's "
        f"ml-100k.inter, ml-100k.user, ml-100k.item. {fixture.folder} holds {title} ({other}). "
        f"Load it with load_movielens('{other}', data_dir='{fixture.folder}')."
    )


def test_ml_10m_where_ml_1m_is_expected(tmp_path):
    fixture = write_release("ml-10m", tmp_path / "Downloads")

    with pytest.raises(
        DataFileNotFoundError, match=r"ml-10M100K holds MovieLens 10M \(ml-10m\)\. Load it with "
    ):
        load_movielens("ml-1m", data_dir=tmp_path / "Downloads", report=None)
    assert fixture.folder.is_dir()


def test_a_folder_holding_several_releases_gives_the_one_asked_for(tmp_path):
    fixtures = {
        name: write_release(name, tmp_path / "datasets")
        for name in ("ml-100k", "ml-20m", "ml-25m", "ml-latest-small")
    }

    for name, fixture in fixtures.items():
        assert load(fixture, tmp_path / "datasets").source == str(fixture.folder)


def test_ml_1m_ratings_dat_renamed_to_u_data(tmp_path):
    ml1m = write_release("ml-1m", tmp_path / "a")
    fixture = write_release("ml-100k", tmp_path / "b")
    shutil.copyfile(ml1m.folder / "ratings.dat", fixture.folder / "u.data")

    with pytest.raises(DataFormatError) as error:
        load(fixture, fixture.folder)

    assert str(error.value) == (
        f"{fixture.folder / 'u.data'}, line 1: expected 4 tab-separated fields, found 1. The line is separated "
        "by '::', not tabs. It looks like the "
        "ratings.dat of MovieLens 1M or 10M: load its folder with load_movielens(release, "
        "data_dir=<the folder>), release being 'ml-1m' or 'ml-10m'."
    )


def test_whole_stars_expected_but_half_stars_found(tmp_path):
    ml10m = write_release("ml-10m", tmp_path / "a")
    fixture = write_release("ml-1m", tmp_path / "b")
    shutil.copyfile(ml10m.folder / "ratings.dat", fixture.folder / "ratings.dat")

    with pytest.raises(DataFormatError) as error:
        load(fixture, fixture.folder)

    assert (
        str(error.value)
        == f"{fixture.folder / 'ratings.dat'}, line 2: rating '3.5' is not a whole number."
    )


def test_half_star_rating_out_of_range(tmp_path):
    fixture = write_release("ml-latest-small", tmp_path)
    path = fixture.folder / "ratings.csv"
    path.write_text(path.read_text().replace(",0.5,", ",0.0,"))

    with pytest.raises(DataFormatError) as error:
        load(fixture, fixture.folder)

    assert (
        str(error.value)
        == f"{path}, line 5: rating '0.0' is out of range: it must be from 0.5 to 5 in steps of 0.5."
    )


def test_quarter_star_rating(tmp_path):
    fixture = write_release("ml-10m", tmp_path)
    path = fixture.folder / "ratings.dat"
    path.write_text(path.read_text().replace("::2.5::", "::2.25::"))

    with pytest.raises(DataFormatError) as error:
        load(fixture, fixture.folder)

    assert str(error.value) == f"{path}, line 6: rating '2.25' is not a multiple of 0.5."


# --- how the files are written -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL)
def test_windows_line_endings(tmp_path, name):
    fixture = write_release(name, tmp_path, crlf=True)
    assert b"\r\n" in (fixture.folder / RELEASES[name].files[0]).read_bytes()

    assert_same_tables(
        load(fixture, fixture.folder, genome=bool(RELEASES[name].genome_files)), fixture
    )


@pytest.mark.parametrize("name", ["ml-100k", "ml-1m", "ml-latest-small"])
def test_old_mac_line_endings(tmp_path, name):
    fixture = write_release(name, tmp_path)
    for file in fixture.folder.iterdir():
        file.write_bytes(file.read_bytes().replace(b"\n", b"\r"))

    assert_same_tables(load(fixture, fixture.folder), fixture)


@pytest.mark.parametrize("name", ALL)
def test_utf8_byte_order_mark_at_the_start_of_every_file(tmp_path, name):
    fixture = write_release(name, tmp_path, bom=True, encoding="utf-8")
    assert (fixture.folder / RELEASES[name].files[0]).read_bytes().startswith(b"\xef\xbb\xbf")

    assert_same_tables(
        load(fixture, fixture.folder, genome=bool(RELEASES[name].genome_files)), fixture
    )


@pytest.mark.parametrize(("name", "file"), [("ml-100k", "u.item"), ("ml-1m", "movies.dat")])
def test_latin_1_file_resaved_as_utf_8(tmp_path, name, file):
    fixture = write_release(name, tmp_path, encoding="utf-8")
    assert "Café".encode() in (fixture.folder / file).read_bytes()

    data = load(fixture, fixture.folder)

    assert data.items.loc[2, "title"] == "Café au lait"


def test_ml_10m_movies_in_latin_1(tmp_path):
    fixture = write_release("ml-10m", tmp_path, encoding="latin-1")
    assert "Café".encode("latin-1") in (fixture.folder / "movies.dat").read_bytes()

    assert load(fixture, fixture.folder).items.loc[2, "title"] == "Café au lait"


def test_csv_release_resaved_in_latin_1_is_refused_with_what_to_do(tmp_path):
    fixture = write_release("ml-25m", tmp_path, encoding="latin-1")

    with pytest.raises(DataFormatError) as error:
        load(fixture, fixture.folder)

    assert str(error.value) == (
        f"{fixture.folder / 'movies.csv'}, line 3: byte 0xe9 is not valid utf-8 text (invalid continuation byte). "
        "The file is in another encoding (probably Latin-1 or Windows-1252, as Excel and some editors save text): "
        "save it again as UTF-8 (in Excel: 'CSV UTF-8')."
    )


# --- files that are not what they should be -----------------------------------------------------------


def _xlsx(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as book:
        book.writestr("[Content_Types].xml", "<Types/>")
        book.writestr("xl/workbook.xml", "<workbook/>")


NOT_DATA = {
    "an Excel workbook": (
        _xlsx,
        "It is an Excel workbook (.xlsx), not a text file: save it from Excel as 'CSV UTF-8 (comma delimited)'.",
    ),
    "a zip": (
        lambda path: zipfile.ZipFile(path, "w").writestr("u.data", "1\t1\t5\t1\n"),
        "It is a zip archive, not a text file: unzip it first, or give a MovieLens zip itself to "
        "load_movielens(data_dir=...).",
    ),
    "a gzip": (
        lambda path: path.write_bytes(gzip.compress(b"1\t1\t5\t1\n")),
        "It is a gzip archive, not a text file: decompress it first.",
    ),
    "a web page": (
        lambda path: path.write_text(
            "<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head></html>\n"
        ),
        "It is a web page (HTML), not a data file: the download probably saved an error or a landing page; "
        "download the file again.",
    ),
    "a notebook": (
        lambda path: path.write_text(
            json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
        ),
        "It is a Jupyter notebook (JSON), not a data file.",
    ),
    "binary data": (
        lambda path: path.write_bytes(b"\x01\x02\x00\x03" * 10),
        "It holds NUL bytes, so it is binary data, not a text file.",
    ),
}


@pytest.mark.parametrize("kind", list(NOT_DATA))
def test_a_file_that_is_not_a_data_file_at_all(tmp_path, kind):
    fixture = write_release("ml-100k", tmp_path)
    write, problem = NOT_DATA[kind]
    write(fixture.folder / "u.data")

    with pytest.raises(DataFormatError) as error:
        load(fixture, fixture.folder)

    assert str(error.value) == f"{fixture.folder / 'u.data'}: {problem}"


def test_movies_file_in_place_of_the_ratings_file(tmp_path):
    fixture = write_release("ml-20m", tmp_path)
    shutil.copyfile(fixture.folder / "movies.csv", fixture.folder / "ratings.csv")

    with pytest.raises(DataFormatError) as error:
        load(fixture, fixture.folder)

    assert str(error.value) == (
        f"{fixture.folder / 'ratings.csv'}, line 1: missing column(s) userId, rating, timestamp; the header has "
        "'movieId', 'title', 'genres' but needs userId, movieId, rating, timestamp. It looks like the movies.csv "
        "of MovieLens ml-latest-small, ml-20m or ml-25m: load its folder with load_movielens(release, "
        "data_dir=<the folder>), release being 'ml-latest-small', 'ml-20m' or 'ml-25m'."
    )


def test_a_tag_with_the_separator_inside_is_kept_whole(tmp_path):
    fixture = write_release("ml-10m", tmp_path)
    path = fixture.folder / "tags.dat"
    path.write_text(path.read_text().replace("::Pixar::", "::Pixar::Disney::"))

    data = load(fixture, fixture.folder)

    assert data.tags["tag"].iloc[-1] == "Pixar::Disney"


def test_a_dat_line_with_a_missing_field(tmp_path):
    fixture = write_release("ml-1m", tmp_path)
    path = fixture.folder / "movies.dat"
    path.write_bytes(path.read_bytes().replace(b"32::Babylon 5::Sci-Fi", b"32::Babylon 5"))

    with pytest.raises(DataFormatError) as error:
        load(fixture, fixture.folder)

    assert (
        str(error.value)
        == f"{path}, line 4: expected 'MovieID::Title::Genres', found '32::Babylon 5'."
    )


def test_a_folder_given_with_a_tilde(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    fixture = write_release("ml-1m", tmp_path / "Downloads")

    assert load(fixture, "~/Downloads").source == str(fixture.folder)

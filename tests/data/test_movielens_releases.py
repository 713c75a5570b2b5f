"""Every MovieLens release's loader, on tiny fixtures in the official layouts (see movielens_fixtures.py).

No test touches the network: a load that may fetch is given ``sources=``,
and the download path runs pooch on a fixture zip served by a fake downloader,
checked against the fixture zip's MD5 like the official zips against theirs.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib

import numpy as np
import pandas as pd
import pytest
from movielens_fixtures import (
    GENOME_FILMS,
    GENOME_TAGS,
    LINKS,
    ML1M_USERS,
    TAGS,
    serve,
    with_zip_checksum,
    write_release,
    zip_release,
)

from recsys_ref.data import (
    RELEASES,
    DataFormatError,
    MovieLens,
    MovieLens100K,
    Source,
    fetch_grouplens,
    get_release,
    load_movielens,
    verify_movielens,
)
from recsys_ref.data.movielens_files import ML1M_OCCUPATIONS

ALL = list(RELEASES)


def never(release, home, say):
    pytest.fail("a source was tried, but the release should have been found without fetching")


NO_NETWORK = (Source("nothing", never),)


@pytest.fixture(autouse=True)
def no_user_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("RECSYS_DATA_DIR", raising=False)
    monkeypatch.setenv("RECSYS_DATA_HOME", str(tmp_path / "empty-home"))


def assert_tables(data: MovieLens, fixture) -> None:
    """The loaded tables are the fixture's, column for column."""
    pd.testing.assert_frame_equal(data.ratings, fixture.ratings)
    assert data.release == fixture.release.name
    assert data.items.index.name == "item_id"
    assert data.items["title"].to_dict() == fixture.titles
    assert data.items["release_year"].dtype == "Int64"
    years = {i: (None if pd.isna(y) else int(y)) for i, y in data.items["release_year"].items()}
    assert years == fixture.years
    assert data.items["genres"].to_dict() == fixture.genres


@pytest.mark.parametrize("name", ALL)
def test_each_release_loads_from_its_official_folder(tmp_path, name):
    fixture = write_release(name, tmp_path)

    data = load_movielens(fixture.release, data_dir=fixture.folder, report=None)

    assert type(data) is (MovieLens100K if name == "ml-100k" else MovieLens)
    assert data.source == str(fixture.folder)
    assert_tables(data, fixture)
    assert data.n_ratings == 9 and data.n_users == 4


def test_ml_100k_stays_the_default_release(tmp_path):
    fixture = write_release("ml-100k", tmp_path)
    tiny = fixture.release

    # load_movielens() without a release name loads ML-100K: with the published counts,
    # the tiny fixture fails verification as ML-100K.
    with pytest.raises(
        DataFormatError, match="expected 100,000 ratings in MovieLens 100K, found 9"
    ):
        load_movielens(data_dir=fixture.folder, report=None)
    assert isinstance(load_movielens(tiny, data_dir=fixture.folder, report=None), MovieLens100K)


def test_ml_1m_users_decode_the_age_group_and_occupation_codes(tmp_path):
    fixture = write_release("ml-1m", tmp_path)

    users = load_movielens(fixture.release, data_dir=fixture.folder, report=None).users

    assert list(users.index) == [1, 2, 3, 4] and users.index.name == "user_id"
    assert users["gender"].tolist() == [g for _, g, *_ in ML1M_USERS]
    assert users["age"].tolist() == [1, 56, 25, 45]
    assert users["occupation"].tolist() == [ML1M_OCCUPATIONS[c] for *_, c, _ in ML1M_USERS]
    assert users.loc[1, "occupation"] == "K-12 student" and users.loc[4, "zip_code"] == "02460"


def test_ml_1m_reads_the_latin_1_titles_and_keeps_unrated_films(tmp_path):
    fixture = write_release("ml-1m", tmp_path)
    assert "Café".encode("latin-1") in (fixture.folder / "movies.dat").read_bytes()

    data = load_movielens(fixture.release, data_dir=fixture.folder, report=None)

    assert data.items.loc[2, "title"] == "Café au lait"
    assert 999 in data.items.index and 999 not in set(data.ratings["item_id"])
    assert data.ratings["rating"].dtype == np.int64


@pytest.mark.parametrize("name", ["ml-10m", "ml-20m", "ml-25m", "ml-latest-small"])
def test_half_star_releases_have_float_ratings_and_tags(tmp_path, name):
    fixture = write_release(name, tmp_path)

    data = load_movielens(fixture.release, data_dir=fixture.folder, report=None)

    assert data.ratings["rating"].dtype == np.float64
    assert sorted(set(data.ratings["rating"])) == [0.5, 1.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0]
    assert data.users is None
    assert data.tags.to_numpy().tolist() == [
        list(row) for row in TAGS
    ]  # "funny, sad" and "sci-fi: ..." intact
    assert data.items.loc[999, "genres"] == ()  # "(no genres listed)"
    assert (
        data.items.loc[260, "title"] == "Star Wars: Episode IV - A New Hope"
    )  # a colon in a '::' file
    assert (
        pd.isna(data.items.loc[32, "release_year"]) and data.items.loc[32, "title"] == "Babylon 5"
    )


@pytest.mark.parametrize("name", ["ml-20m", "ml-25m", "ml-latest-small"])
def test_csv_releases_have_links_with_missing_tmdb_ids(tmp_path, name):
    fixture = write_release(name, tmp_path)

    links = load_movielens(fixture.release, data_dir=fixture.folder, report=None).links

    assert links.index.name == "item_id" and list(links.index) == sorted(LINKS)
    assert links["imdb_id"].dtype == "Int64" and links.loc[1, "imdb_id"] == 114709
    assert links.loc[1, "tmdb_id"] == 862 and pd.isna(links.loc[2, "tmdb_id"])


@pytest.mark.parametrize("name", ["ml-20m", "ml-25m"])
def test_genome_is_read_on_request(tmp_path, name):
    fixture = write_release(name, tmp_path)

    without = load_movielens(fixture.release, data_dir=fixture.folder, report=None)
    data = load_movielens(fixture.release, data_dir=fixture.folder, genome=True, report=None)

    assert without.genome_scores is None and without.genome_tags is None
    assert data.genome_tags["tag"].to_dict() == dict(GENOME_TAGS)
    scores = data.genome_scores
    assert list(scores.columns) == ["item_id", "tag_id", "relevance"]
    assert len(scores) == len(GENOME_FILMS) * len(GENOME_TAGS)
    assert scores["relevance"].between(0, 1).all() and scores["relevance"].dtype == np.float64


def test_genome_for_a_release_without_one_is_refused(tmp_path):
    with pytest.raises(
        ValueError, match="MovieLens 1M has no tag genome; genome=True needs ml-20m or ml-25m"
    ):
        load_movielens("ml-1m", data_dir=tmp_path, genome=True, report=None)


def test_genome_missing_from_an_old_ml_20m_edition_says_so(tmp_path):
    fixture = write_release("ml-20m", tmp_path)
    (fixture.folder / "genome-scores.csv").unlink()
    (fixture.folder / "genome-tags.csv").unlink()

    assert len(load_movielens(fixture.release, data_dir=fixture.folder, report=None).ratings) == 9
    with pytest.raises(FileNotFoundError) as error:
        load_movielens(fixture.release, data_dir=fixture.folder, genome=True, report=None)
    assert str(error.value).startswith(
        f"{fixture.folder / 'genome-scores.csv'}: file not found. The April 2015"
    )


def test_genome_that_is_not_a_complete_matrix(tmp_path):
    fixture = write_release("ml-25m", tmp_path)
    path = fixture.folder / "genome-scores.csv"
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:-1]))

    with pytest.raises(DataFormatError) as error:
        load_movielens(fixture.release, data_dir=fixture.folder, genome=True, report=None)

    assert str(error.value) == (
        f"{path}: the scores are not a complete matrix: 2 films x 2 tags would be 4 rows, found 3."
    )


@pytest.mark.parametrize("name", ALL)
def test_each_release_downloads_checks_its_md5_and_caches(tmp_path, name):
    fixture = write_release(name, tmp_path / "made")
    archive = zip_release(fixture, tmp_path / RELEASES[name].zip_name)
    release = with_zip_checksum(fixture, archive)
    source = Source(
        "the fixture zip",
        functools.partial(fetch_grouplens, downloader=serve({release.url: archive})),
    )
    said: list[str] = []

    data = load_movielens(
        release, data_home=tmp_path / "home", sources=(source,), report=said.append
    )

    cached = tmp_path / "home" / RELEASES[name].folder
    assert data.source == str(cached)
    assert_tables(data, fixture)
    assert said == [
        f"downloading {release.url} into {tmp_path / 'home'} ...",
        f"{release.title} verified and cached in {cached}",
    ]
    again = load_movielens(release, data_home=tmp_path / "home", sources=NO_NETWORK, report=None)
    pd.testing.assert_frame_equal(again.ratings, data.ratings)


def test_a_download_with_the_wrong_md5_is_rejected_and_not_cached(tmp_path):
    fixture = write_release("ml-1m", tmp_path / "made")
    archive = zip_release(fixture, tmp_path / "ml-1m.zip")
    release = dataclasses.replace(fixture.release, known_hash="md5:" + "0" * 32)
    source = Source(
        "Downloading the official {zip_name} from GroupLens",
        functools.partial(fetch_grouplens, downloader=serve({release.url: archive})),
    )

    with pytest.raises(FileNotFoundError) as error:
        load_movielens(release, data_home=tmp_path / "home", sources=(source,), report=None)

    message = str(error.value)
    assert (
        "  - Downloading the official ml-1m.zip from GroupLens failed: MD5 hash of downloaded file"
        in message
    )
    assert (
        not (tmp_path / "home" / "ml-1m.zip").exists()
        and not (tmp_path / "home" / "ml-1m").exists()
    )


def test_ml_latest_small_is_checked_against_the_md5_published_beside_the_zip(tmp_path):
    fixture = write_release("ml-latest-small", tmp_path / "made")
    archive = zip_release(fixture, tmp_path / "ml-latest-small.zip")
    assert fixture.release.known_hash is None  # no fixed checksum: GroupLens regenerates it
    published = tmp_path / "ml-latest-small.zip.md5"
    url = fixture.release.url

    def load(md5: str):
        published.write_text(f"MD5 (ml-latest-small.zip) = {md5}\n")
        download = serve({url: archive, url + ".md5": published})
        source = Source("GroupLens", functools.partial(fetch_grouplens, downloader=download))
        return load_movielens(
            fixture.release, data_home=tmp_path / md5[:4], sources=(source,), report=None
        )

    assert len(load(hashlib.md5(archive.read_bytes()).hexdigest()).ratings) == 9
    with pytest.raises(FileNotFoundError, match="GroupLens failed: MD5 hash of downloaded file"):
        load("f" * 32)


def test_unzipped_cache_is_used_without_the_zip(tmp_path):
    fixture = write_release("ml-10m", tmp_path / "home")

    data = load_movielens(
        fixture.release, data_home=tmp_path / "home", sources=NO_NETWORK, report=None
    )

    assert data.source == str(tmp_path / "home" / "ml-10M100K")


def test_the_cache_never_takes_another_release_with_the_same_file_names(tmp_path):
    write_release("ml-20m", tmp_path / "home")
    fixture = write_release("ml-25m", tmp_path / "made")

    with pytest.raises(FileNotFoundError, match="MovieLens 25M could not be found or fetched"):
        load_movielens(
            fixture.release, data_home=tmp_path / "home", download_if_missing=False, report=None
        )


def test_release_names_are_forgiving_and_unknown_ones_listed():
    assert get_release("ML-1M") is RELEASES["ml-1m"]
    assert get_release("1m") is RELEASES["ml-1m"]
    assert get_release("ml-10M100K") is RELEASES["ml-10m"]
    with pytest.raises(
        ValueError, match=r"unknown MovieLens release 'ml-2m'; the releases are ml-100k, ml-1m, "
    ):
        get_release("ml-2m")


def test_registry_holds_official_urls_and_md5s():
    from recsys_ref.data import REGISTRY
    from recsys_ref.data.releases import URLS

    assert set(REGISTRY) == {f"{name}.zip" for name in RELEASES}
    for zip_name, known_hash in REGISTRY.items():
        assert URLS[zip_name] == f"https://files.grouplens.org/datasets/movielens/{zip_name}"
        assert known_hash is None or (known_hash.startswith("md5:") and len(known_hash) == 36)
    assert REGISTRY["ml-100k.zip"] == "md5:0e33842e24a9c977be4e0107933c0723"
    assert [name for name, h in REGISTRY.items() if h is None] == ["ml-latest-small.zip"]


# --- verification: counts, ids, and which release the data looks like ---------------------------


def frame_of(n_ratings: int, n_users: int, n_items: int) -> MovieLens:
    user = np.arange(n_ratings) % n_users + 1
    item = np.arange(n_ratings) // n_users + 1
    ratings = pd.DataFrame(
        {
            "user_id": user,
            "item_id": item,
            "rating": np.full(n_ratings, 4.0),
            "timestamp": np.zeros(n_ratings, np.int64),
        }
    )
    items = pd.DataFrame(
        {"title": ["x"] * n_items}, index=pd.Index(np.arange(1, n_items + 1), name="item_id")
    )
    return MovieLens(release="ml-20m", ratings=ratings, users=None, items=items, source="mine")


def test_counts_of_another_release_say_which_and_how_to_load_it():
    data = frame_of(100_836, 610, 9_742)  # ml-latest-small's counts, loaded as ML-20M

    with pytest.raises(DataFormatError) as error:
        verify_movielens(data, "ml-20m")

    assert str(error.value) == (
        "mine: expected 20,000,263 ratings in MovieLens 20M, found 100,836. These are the counts of "
        "MovieLens Latest Small (September 2018) (ml-latest-small): load it with "
        "load_movielens('ml-latest-small', data_dir=...)."
    )


def test_counts_of_an_older_edition_of_ml_latest_small_say_so():
    data = frame_of(100_004, 671, 9_125)

    with pytest.raises(DataFormatError) as error:
        verify_movielens(data, "ml-latest-small")

    assert str(error.value).endswith(
        "found 100,004. These are the counts of the October 2016 edition of ml-latest-small: it cannot be loaded."
    )


def test_ratings_of_films_missing_from_the_films_file(tmp_path):
    fixture = write_release("ml-1m", tmp_path)
    movies = fixture.folder / "movies.dat"
    lines = movies.read_bytes().splitlines(keepends=True)
    movies.write_bytes(
        b"".join(line for line in lines if not line.startswith(b"260::"))
        + b"998::Extra (2000)::Drama\n"
    )

    with pytest.raises(DataFormatError) as error:
        load_movielens(fixture.release, data_dir=fixture.folder, report=None)

    assert (
        str(error.value)
        == f"{fixture.folder}: 2 ratings refer to films missing from the films file (the first: item_id 260)."
    )


def test_user_ids_must_be_one_to_n_where_there_is_a_users_file(tmp_path):
    fixture = write_release("ml-1m", tmp_path)
    users = fixture.folder / "users.dat"
    users.write_text(users.read_text().replace("4::F::45", "7::F::45"))

    with pytest.raises(DataFormatError) as error:
        load_movielens(fixture.release, data_dir=fixture.folder, report=None)

    assert str(error.value) == f"{fixture.folder}: user ids are not exactly 1..4."


def test_command_line_summarises_or_says_what_is_wrong(tmp_path, capsys):
    from recsys_ref.data.__main__ import main

    fixture = write_release("ml-1m", tmp_path)

    with pytest.raises(SystemExit) as exit_:
        main(["ml-1m", "--data-dir", str(tmp_path)])

    assert exit_.value.code == 1
    assert capsys.readouterr().err == (
        f"python -m recsys_ref.data: {fixture.folder}: expected 1,000,209 ratings in MovieLens 1M, found 9.\n"
    )

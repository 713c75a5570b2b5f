"""MovieLens 100K: find, fetch, verify and load it.

=============  =========================================================
Ratings        100,000 integer ratings 1..5, with Unix timestamps
Users          943 (age, gender, occupation, zip code); each rated >= 20
Items          1,682 films (title, release year, 19 genre flags)
Density        6.3 % of the 943 x 1,682 matrix is observed
Source         GroupLens, University of Minnesota (Harper & Konstan, 2016)
=============  =========================================================

The licence of MovieLens forbids redistribution, so this project never ships
the files: :func:`load_movielens_100k` looks for them, in this order,

1. in the folder given as ``data_dir`` or by the environment variable
   ``RECSYS_DATA_DIR`` (official ``u.data``/``u.user``/``u.item`` or RecBole's
   ``ml-100k.inter``/``.user``/``.item``). That folder is then the only
   source: if it lacks the files or they fail verification, that is an error,
   with no fallback to the cache or the network;
2. in the local cache, the sub-folder ``ml-100k`` (official files) or
   ``recbole-ml-100k`` (RecBole's) of ``data_home``, ``RECSYS_DATA_HOME``, or
   the user cache folder chosen by pooch;
3. by downloading the official ``ml-100k.zip`` from GroupLens (pooch checks
   its MD5 and caches it);
4. inside the RecBole 1.2.1 wheel on PyPI, fetched with
   ``pip download --no-deps`` and read as data only (RecBole is neither
   installed nor imported). Its ratings are the official ones, row for row.

Whatever the source, the loaded data is verified (counts, id ranges, rating
values, and a SHA-256 of the ratings) before it is returned.
"""

from __future__ import annotations

import csv
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from recsys_ref.data.errors import DataFormatError
from recsys_ref.data.validation import (
    TextTable,
    check_unique_ids,
    parse_integer_column,
    parse_ratings,
    read_text_table,
    require_columns,
)

N_RATINGS = 100_000
N_USERS = 943
N_ITEMS = 1_682

GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
    "Romance", "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip

GROUPLENS_URL = "https://files.grouplens.org/datasets/movielens/ml-100k.zip"
GROUPLENS_MD5 = "md5:0e33842e24a9c977be4e0107933c0723"
RECBOLE_REQUIREMENT = "recbole==1.2.1"
RECBOLE_WHEEL_SHA256 = "9c9948202011f37eb0a7c6768129313f00d6403ad221ec940d5e2d5d5f33a407"
RECBOLE_FOLDER = "recbole/dataset_example/ml-100k/"

#: SHA-256 of the ratings as int64 (user_id, item_id, rating, timestamp) rows
#: in the official ``u.data`` order; see :func:`ratings_checksum`.
RATINGS_SHA256 = "d0366dc73dcd6c6620782fc3436fc07a4a003fe17c863aee0829c53db6a8f574"

OFFICIAL_FILES = ("u.data", "u.user", "u.item")
RECBOLE_FILES = ("ml-100k.inter", "ml-100k.user", "ml-100k.item")

DATA_DIR_ENV = "RECSYS_DATA_DIR"
DATA_HOME_ENV = "RECSYS_DATA_HOME"

Reporter = Callable[[str], None]


@dataclass(frozen=True)
class MovieLens100K:
    """The three tables of MovieLens 100K.

    Attributes:
        ratings: ``user_id``, ``item_id``, ``rating`` (1..5), ``timestamp``
            (Unix seconds), all int64, one row per rating, in ``u.data`` order.
        users: Indexed by ``user_id`` (1..943): ``age`` (int), ``gender``
            ("M"/"F"), ``occupation``, ``zip_code`` (str).
        items: Indexed by ``item_id`` (1..1682): ``title`` (a trailing
            ``" (YYYY)"`` removed), ``release_year`` (nullable Int64: from the
            release date in the official files, where item 267 has none; from
            RecBole's year column, missing for items 267 and 1412), ``genres``
            (tuple of genre names) and one 0/1 column per name in :data:`GENRES`.
            The ratings are the same from either source (same checksum); item
            titles and years differ slightly between the two.
        source: Where the files were read from.
    """

    ratings: pd.DataFrame
    users: pd.DataFrame
    items: pd.DataFrame
    source: str

    @property
    def n_users(self) -> int:
        return len(self.users)

    @property
    def n_items(self) -> int:
        return len(self.items)


def _print_to_stderr(message: str) -> None:
    print(f"[recsys_ref] {message}", file=sys.stderr, flush=True)


def default_data_home() -> Path:
    """The cache folder: ``$RECSYS_DATA_HOME`` or the per-user cache chosen by pooch."""
    import pooch

    return Path(os.environ.get(DATA_HOME_ENV) or pooch.os_cache("recsys_ref"))


def load_movielens_100k(
    *,
    data_dir: str | Path | None = None,
    data_home: str | Path | None = None,
    download_if_missing: bool = True,
    report: Reporter | None = _print_to_stderr,
) -> MovieLens100K:
    """Load MovieLens 100K, fetching and caching it on first use.

    Args:
        data_dir: A folder holding the official files (``u.data``, ``u.user``,
            ``u.item``) or RecBole's (``ml-100k.inter``, ``.user``, ``.item``).
            Defaults to ``$RECSYS_DATA_DIR``; when neither is set, the cache is used.
            When set, it is the only source tried.
        data_home: The cache folder (default: :func:`default_data_home`); the
            files live in its sub-folder ``ml-100k`` or ``recbole-ml-100k``.
        download_if_missing: When the cache is empty, try GroupLens and then
            the RecBole wheel. With ``False``, a missing cache is an error.
        report: Called with a line of text for each step while fetching
            (default: print to stderr); ``None`` for silence.

    Returns:
        The verified :class:`MovieLens100K` tables.

    Raises:
        FileNotFoundError: No source had the data (or ``data_dir`` holds
            neither file set); the message says where to put the files.
        DataFormatError: A file is malformed or the data is not MovieLens 100K.
    """
    say = report or (lambda message: None)
    data_dir = data_dir if data_dir is not None else os.environ.get(DATA_DIR_ENV) or None
    if data_dir is not None:
        return _load_folder(Path(data_dir))

    home = Path(data_home) if data_home is not None else default_data_home()
    cached = _find_cached(home)
    if cached is not None:
        return _load_folder(cached)
    if not download_if_missing:
        raise FileNotFoundError(
            _where_to_put_files(
                home,
                tried=[
                    f"the cache: neither {home / 'ml-100k'} nor {home / 'recbole-ml-100k'} holds "
                    "the files (download_if_missing=False, so nothing was downloaded)"
                ],
            )
        )

    failures = []
    sources = (
        ("Downloading the official ml-100k.zip from GroupLens", _fetch_grouplens),
        ("Fetching the copy inside the RecBole 1.2.1 wheel with pip", _fetch_recbole_wheel),
    )
    for label, fetch in sources:
        try:
            folder = fetch(home, say)
        except Exception as error:  # any failure moves on to the next source
            failures.append(f"{label} failed: {error}")
            say(failures[-1])
            continue
        data = _load_folder(folder)
        say(f"MovieLens 100K verified and cached in {folder}")
        return data
    raise FileNotFoundError(_where_to_put_files(home, tried=failures))


def _where_to_put_files(home: Path, tried: list[str]) -> str:
    lines = "\n".join(f"  - {t}" for t in tried)
    return (
        "MovieLens 100K could not be found or fetched. Tried:\n"
        f"{lines}\n"
        f"Download {GROUPLENS_URL}, unzip it, and either put the folder 'ml-100k' "
        f"(with u.data, u.user, u.item) into {home}, or set {DATA_DIR_ENV} to that folder."
    )


def _find_cached(home: Path) -> Path | None:
    for name, files in (("ml-100k", OFFICIAL_FILES), ("recbole-ml-100k", RECBOLE_FILES)):
        folder = home / name
        if all((folder / f).is_file() for f in files):
            return folder
    return None


def _fetch_grouplens(home: Path, say: Reporter) -> Path:
    """Download and unzip the official ``ml-100k.zip`` into ``home`` (pooch checks its MD5); return ``home/ml-100k``."""
    import pooch

    say(f"downloading {GROUPLENS_URL} into {home} ...")
    pooch.retrieve(
        GROUPLENS_URL,
        known_hash=GROUPLENS_MD5,
        fname="ml-100k.zip",
        path=home,
        processor=pooch.Unzip(extract_dir="."),
        downloader=pooch.HTTPDownloader(timeout=30, progressbar=False),
    )
    return home / "ml-100k"


def _fetch_recbole_wheel(home: Path, say: Reporter) -> Path:
    """Fetch the RecBole 1.2.1 wheel with pip, check its SHA-256, extract its ml-100k files into
    ``home/recbole-ml-100k`` and return that folder. Nothing is installed or imported."""
    import pooch

    say(f"fetching {RECBOLE_REQUIREMENT} with 'pip download --no-deps' (data only) ...")
    with tempfile.TemporaryDirectory() as scratch:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
             RECBOLE_REQUIREMENT, "--dest", scratch],
            check=True, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        wheel = next(Path(scratch).glob("recbole-*.whl"))
        digest = pooch.file_hash(str(wheel), alg="sha256")
        if digest != RECBOLE_WHEEL_SHA256:
            raise DataFormatError(
                wheel.name, f"SHA-256 {digest} does not match the expected {RECBOLE_WHEEL_SHA256}."
            )
        target = home / "recbole-ml-100k"
        target.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(wheel) as archive:
            for name in RECBOLE_FILES:
                (target / name).write_bytes(archive.read(RECBOLE_FOLDER + name))
    say(f"extracted {', '.join(RECBOLE_FILES)} into {target}")
    return target


def _load_folder(folder: Path) -> MovieLens100K:
    if not folder.is_dir():
        raise FileNotFoundError(
            f"{folder} is not a folder; it should hold the official files "
            f"({', '.join(OFFICIAL_FILES)}) or RecBole's ({', '.join(RECBOLE_FILES)})."
        )
    if all((folder / f).is_file() for f in OFFICIAL_FILES):
        data = MovieLens100K(
            ratings=read_official_ratings(folder / "u.data"),
            users=read_official_users(folder / "u.user"),
            items=read_official_items(folder / "u.item"),
            source=str(folder),
        )
    elif all((folder / f).is_file() for f in RECBOLE_FILES):
        data = MovieLens100K(
            ratings=read_recbole_ratings(folder / "ml-100k.inter"),
            users=read_recbole_users(folder / "ml-100k.user"),
            items=read_recbole_items(folder / "ml-100k.item"),
            source=str(folder),
        )
    else:
        raise FileNotFoundError(
            f"{folder} holds neither the official files ({', '.join(OFFICIAL_FILES)}) "
            f"nor RecBole's ({', '.join(RECBOLE_FILES)})."
        )
    verify_movielens_100k(data)
    return data


# --- readers -----------------------------------------------------------------
#
# Every reader parses its file as text with ``read_text_table`` (so each row
# keeps its line number) and fails with a DataFormatError naming the file, the
# line and the problem. Blank lines are skipped; nothing else is.


def read_official_ratings(path: Path) -> pd.DataFrame:
    """Read GroupLens ``u.data``: tab-separated user, item, rating, timestamp; no header."""
    table = read_text_table(path, sep="\t", header=False, width=4, quoting=csv.QUOTE_NONE)
    rows = table.rows
    return parse_ratings(
        {"user_id": rows[0], "item_id": rows[1], "rating": rows[2], "timestamp": rows[3]},
        source=path,
        first_line=table.lines,
    )


def read_official_users(path: Path) -> pd.DataFrame:
    """Read GroupLens ``u.user``: ``user id | age | gender | occupation | zip code``; no header."""
    table = read_text_table(path, sep="|", header=False, width=5, quoting=csv.QUOTE_NONE)
    t = table.rows
    return _users_frame(t[0], t[1], t[2], t[3], t[4], path, table.lines)


def read_official_items(path: Path) -> pd.DataFrame:
    """Read GroupLens ``u.item`` (Latin-1, ``|``-separated, no header).

    Fields: item id | title (year) | release date (``01-Jan-1995``, or empty)
    | video release date | IMDb URL | 19 genre flags (0/1, in :data:`GENRES`
    order). The release year comes from the release date (missing when the
    date is empty); a trailing ``" (YYYY)"`` is removed from the title.
    """
    table = read_text_table(
        path, sep="|", header=False, width=5 + len(GENRES), encoding="latin-1", quoting=csv.QUOTE_NONE
    )
    t, lines = table.rows, table.lines
    item_ids = parse_integer_column(t[0], name="item id", source=path, first_line=lines, minimum=1)
    titles = t[1].str.replace(r"\s*\(\d{4}\)\s*$", "", regex=True).str.strip()
    dates = t[2].str.strip()
    parsed = pd.to_datetime(dates, format="%d-%b-%Y", errors="coerce")
    bad_date = (parsed.isna() & (dates != "")).to_numpy()
    if bad_date.any():
        row = int(np.flatnonzero(bad_date)[0])
        raise DataFormatError(
            path,
            f"release date {dates.iloc[row]!r} is not a date like '01-Jan-1995' (or empty).",
            line=int(lines[row]),
        )
    years = parsed.dt.year.astype("Int64")
    flags = t.iloc[:, 5:].apply(lambda column: column.str.strip()).set_axis(list(GENRES), axis=1)
    bad = ~flags.isin(["0", "1"]).to_numpy()
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise DataFormatError(
            path,
            f"genre flag {GENRES[col]!r} (field {6 + col}) is {flags.iat[row, col]!r}; it must be 0 or 1.",
            line=int(lines[row]),
        )
    genres = [tuple(g for g, flag in zip(GENRES, row) if flag == "1") for row in flags.to_numpy()]
    return _items_frame(item_ids, titles, years, genres, path, lines)


def read_recbole_ratings(path: Path) -> pd.DataFrame:
    """Read RecBole's ``ml-100k.inter``: typed header ``user_id:token  item_id:token  rating:float  timestamp:float``."""
    table = _read_recbole(path, ("user_id", "item_id", "rating", "timestamp"), what="ratings")
    return parse_ratings(
        {c: table.rows[c] for c in ("user_id", "item_id", "rating", "timestamp")},
        source=path,
        first_line=table.lines,
    )


def read_recbole_users(path: Path) -> pd.DataFrame:
    """Read RecBole's ``ml-100k.user``: user_id, age, gender, occupation, zip_code."""
    table = _read_recbole(path, ("user_id", "age", "gender", "occupation", "zip_code"), what="users")
    t = table.rows
    return _users_frame(t["user_id"], t["age"], t["gender"], t["occupation"], t["zip_code"], path, table.lines)


def read_recbole_items(path: Path) -> pd.DataFrame:
    """Read RecBole's ``ml-100k.item``: item_id, movie_title, release_year, class (space-separated genres).

    RecBole's copy writes its own titles (item 267 is ``"unkonwn"``) and has
    two non-numeric release years (``"unkonwn"`` for item 267 and ``"V"`` for
    item 1412, a split of the official title "... (1995) (V)"); a release year
    that is not a whole number is read as missing.
    """
    table = _read_recbole(path, ("item_id", "movie_title", "release_year", "class"), what="items")
    t, lines = table.rows, table.lines
    item_ids = parse_integer_column(t["item_id"], name="item id", source=path, first_line=lines, minimum=1)
    years = pd.to_numeric(t["release_year"].str.strip(), errors="coerce")
    years = years.where(years == np.round(years)).astype("Int64")
    genres = []
    for row, text in enumerate(t["class"]):
        names = tuple(text.split())
        unknown = [g for g in names if g not in GENRES]
        if unknown:
            raise DataFormatError(
                path,
                f"unknown genre {unknown[0]!r}; the genres are {', '.join(GENRES)}.",
                line=int(lines[row]),
            )
        genres.append(tuple(g for g in GENRES if g in names))
    return _items_frame(item_ids, t["movie_title"].str.strip(), years, genres, path, lines)


def _read_recbole(path: Path, required: tuple[str, ...], what: str) -> TextTable:
    table = read_text_table(path, sep="\t", header=True, quoting=csv.QUOTE_NONE)
    # Header fields are typed, e.g. "user_id:token"; keep the names.
    names = [name.split(":")[0].strip() for name in table.header]
    require_columns(names, required, source=path)
    if table.rows.empty:
        raise DataFormatError(path, f"the file has a header but no {what}.")
    return table._replace(header=names, rows=table.rows.set_axis(names, axis=1))


def _users_frame(ids, ages, genders, occupations, zips, path: Path, lines: np.ndarray) -> pd.DataFrame:
    user_ids = parse_integer_column(ids, name="user id", source=path, first_line=lines, minimum=1)
    check_unique_ids(user_ids, name="user id", source=path, first_line=lines)
    frame = pd.DataFrame(
        {
            "age": parse_integer_column(ages, name="age", source=path, first_line=lines, minimum=1),
            "gender": genders.str.strip().to_numpy(),
            "occupation": occupations.str.strip().to_numpy(),
            "zip_code": zips.str.strip().to_numpy(),
        },
        index=pd.Index(user_ids, name="user_id"),
    )
    bad_gender = ~frame["gender"].isin(["M", "F"]).to_numpy()
    if bad_gender.any():
        row = int(np.flatnonzero(bad_gender)[0])
        raise DataFormatError(
            path, f"gender {frame['gender'].iloc[row]!r} must be 'M' or 'F'.", line=int(lines[row])
        )
    return frame.sort_index()


def _items_frame(
    item_ids: np.ndarray, titles: pd.Series, years: pd.Series, genres: list, path: Path, lines: np.ndarray
) -> pd.DataFrame:
    check_unique_ids(item_ids, name="item id", source=path, first_line=lines)
    frame = pd.DataFrame(
        {"title": titles.to_numpy(), "release_year": pd.array(years, dtype="Int64"), "genres": genres},
        index=pd.Index(item_ids, name="item_id"),
    )
    for genre in GENRES:
        frame[genre] = [int(genre in g) for g in genres]
    return frame.sort_index()


# --- verification ------------------------------------------------------------


def ratings_checksum(ratings: pd.DataFrame) -> str:
    """SHA-256 of the ratings as C-ordered int64 rows (user_id, item_id, rating, timestamp)."""
    array = np.ascontiguousarray(
        ratings[["user_id", "item_id", "rating", "timestamp"]].to_numpy(dtype=np.int64)
    )
    return hashlib.sha256(array.tobytes()).hexdigest()


def verify_movielens_100k(data: MovieLens100K) -> None:
    """Check that loaded tables are exactly MovieLens 100K.

    Raises:
        DataFormatError: With what differs (counts, ids, or the ratings' checksum).
    """
    source = data.source
    expected = {"ratings": N_RATINGS, "users": N_USERS, "items": N_ITEMS}
    found = {"ratings": len(data.ratings), "users": len(data.users), "items": len(data.items)}
    for what, count in expected.items():
        if found[what] != count:
            raise DataFormatError(
                source, f"expected {count:,} {what} in MovieLens 100K, found {found[what]:,}."
            )
    if not np.array_equal(data.users.index, np.arange(1, N_USERS + 1)):
        raise DataFormatError(source, f"user ids are not exactly 1..{N_USERS}.")
    if not np.array_equal(data.items.index, np.arange(1, N_ITEMS + 1)):
        raise DataFormatError(source, f"item ids are not exactly 1..{N_ITEMS}.")
    if data.ratings["user_id"].max() > N_USERS or data.ratings["item_id"].max() > N_ITEMS:
        raise DataFormatError(source, "a rating refers to a user or item that does not exist.")
    digest = ratings_checksum(data.ratings)
    if digest != RATINGS_SHA256:
        raise DataFormatError(
            source,
            f"the ratings' SHA-256 is {digest}, expected {RATINGS_SHA256}: "
            "the files are not the original MovieLens 100K (edited, reordered or truncated).",
        )

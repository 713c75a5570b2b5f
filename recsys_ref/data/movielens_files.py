"""Readers for each MovieLens file, in its official layout.

Every reader takes one file (a path, or a :class:`zipfile.Path` inside a zip)
and returns a clean frame, or raises :class:`~recsys_ref.data.DataFormatError`
naming the file, the line and the problem. The column names are the same for
every release:

- ratings: ``user_id``, ``item_id``, ``rating``, ``timestamp`` (Unix seconds);
- users: indexed by ``user_id``: ``age``, ``gender``, ``occupation``, ``zip_code``;
- items: indexed by ``item_id``: ``title`` (without the trailing year),
  ``release_year`` (nullable Int64), ``genres`` (tuple of names);
- tags: ``user_id``, ``item_id``, ``tag``, ``timestamp``;
- links: indexed by ``item_id``: ``imdb_id``, ``tmdb_id`` (nullable Int64);
- genome scores: ``item_id``, ``tag_id``, ``relevance`` (0..1); genome tags:
  indexed by ``tag_id``: ``tag``.

Layouts (Harper & Konstan, 2015, and each release's README):

- ML-100K: ``u.data`` (tab-separated user, item, rating, timestamp),
  ``u.user`` and ``u.item`` (``|``-separated, ``u.item`` in Latin-1); or
  RecBole's ``ml-100k.inter/.user/.item`` (tab-separated, typed header).
- ML-1M and ML-10M: ``::``-separated ``.dat`` files without header;
  ``movies.dat`` in Latin-1 (ML-1M).
- ML-20M, ML-25M, ml-latest-small: UTF-8 CSV with a header, quoted
  fields where a title or tag holds a comma.
"""

from __future__ import annotations

import csv
import os
import zipfile
from collections.abc import Sequence

import numpy as np
import pandas as pd

from recsys_ref.data.errors import DataFormatError
from recsys_ref.data.numberfiles import Field, read_number_table
from recsys_ref.data.textfiles import (
    HALF_STARS,
    ITEM_ID,
    TIMESTAMP,
    USER_ID,
    WHOLE_STARS,
    FileLike,
    NumberColumn,
    TextTable,
    as_file,
    check_no_duplicate_pairs,
    check_unique_ids,
    decode_text,
    describe_first_line,
    duplicate_pair_rows,
    parse_integer_column,
    read_file_bytes,
    read_text_table,
    require_columns,
)

PathLike = str | os.PathLike | zipfile.Path

#: MovieLens 100K's 19 genres, in ``u.item``'s flag order.
GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
    "Romance", "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip

#: ML-1M's age groups: the code in ``users.dat`` -> the group it stands for.
ML1M_AGE_GROUPS = {
    1: "Under 18",
    18: "18-24",
    25: "25-34",
    35: "35-44",
    45: "45-49",
    50: "50-55",
    56: "56+",
}

#: ML-1M's occupation codes (``users.dat``) -> names, from its README.
ML1M_OCCUPATIONS = (
    "other", "academic/educator", "artist", "clerical/admin", "college/grad student",
    "customer service", "doctor/health care", "executive/managerial", "farmer", "homemaker",
    "K-12 student", "lawyer", "programmer", "retired", "sales/marketing", "scientist",
    "self-employed", "technician/engineer", "tradesman/craftsman", "unemployed", "writer",
)  # fmt: skip

#: The genre list of a film that has none, in the CSV releases.
NO_GENRES = "(no genres listed)"

#: Files whose official encoding is Latin-1 are also read as UTF-8 when they are
#: valid UTF-8 (a copy re-saved by an editor); see recsys_ref.data.textfiles.
LATIN1_OR_UTF8 = ("utf-8", "latin-1")

_YEAR_IN_TITLE = r"\s*\((\d{4})\)\s*$"
RELEVANCE = NumberColumn("relevance", minimum=0, maximum=1, step=None)
TAG_ID = NumberColumn("tag id", minimum=1)


def _ratings(path: PathLike, fields: Sequence[Field], **options) -> pd.DataFrame:
    no_rows = (
        "the file has a header but no ratings." if options["header"] else "the file has no ratings."
    )
    frame, lines = read_number_table(path, fields, no_rows=no_rows, **options)
    check_no_duplicate_pairs(frame, source=as_file(path), first_line=lines)
    return frame


def _rating_fields(keys: Sequence[str | int], rating: NumberColumn) -> list[Field]:
    columns = (USER_ID, ITEM_ID, rating, TIMESTAMP)
    return [
        Field(k, n, c)
        for k, n, c in zip(keys, ("user_id", "item_id", "rating", "timestamp"), columns)
    ]


# --- ML-100K ---------------------------------------------------------------------------


def read_official_ratings(path: PathLike) -> pd.DataFrame:
    """Read GroupLens ``u.data``: tab-separated user, item, rating (1..5), timestamp; no header."""
    return _ratings(
        path,
        _rating_fields(range(4), WHOLE_STARS),
        sep="\t",
        header=False,
        width=4,
        quoting=csv.QUOTE_NONE,
    )


def read_official_users(path: PathLike) -> pd.DataFrame:
    """Read GroupLens ``u.user``: ``user id | age | gender | occupation | zip code``; no header."""
    table = read_text_table(path, sep="|", header=False, width=5, quoting=csv.QUOTE_NONE)
    t = table.rows
    return _users_frame(t[0], t[1], t[2], t[3], t[4], as_file(path), table.lines)


def read_official_items(path: PathLike) -> pd.DataFrame:
    """Read GroupLens ``u.item`` (Latin-1, ``|``-separated, no header).

    Fields: item id | title (year) | release date (``01-Jan-1995``, or empty)
    | video release date | IMDb URL | 19 genre flags (0/1, in :data:`GENRES`
    order). The release year comes from the release date (missing when the
    date is empty); a trailing ``" (YYYY)"`` is removed from the title. A copy
    re-saved as UTF-8 reads the same.
    """
    path = as_file(path)
    table = read_text_table(
        path,
        sep="|",
        header=False,
        width=5 + len(GENRES),
        encoding=LATIN1_OR_UTF8,
        quoting=csv.QUOTE_NONE,
    )
    t, lines = table.rows, table.lines
    item_ids = parse_integer_column(t[0], name="item id", source=path, first_line=lines, minimum=1)
    titles = t[1].str.replace(_YEAR_IN_TITLE, "", regex=True).str.strip()
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
            f"genre flag {GENRES[col]!r} (field {6 + col}) is {flags.iat[row, col]!r}; "
            "it must be 0 or 1.",
            line=int(lines[row]),
        )
    genres = [tuple(g for g, flag in zip(GENRES, row) if flag == "1") for row in flags.to_numpy()]
    return _items_frame(item_ids, titles, years, genres, path, lines, flag_genres=GENRES)


def read_recbole_ratings(path: PathLike) -> pd.DataFrame:
    """Read RecBole's ``ml-100k.inter``: tab-separated, with a typed header
    ``user_id:token  item_id:token  rating:float  timestamp:float``."""
    keys = ("user_id", "item_id", "rating", "timestamp")
    return _ratings(
        path,
        _rating_fields(keys, WHOLE_STARS),
        sep="\t",
        header=True,
        quoting=csv.QUOTE_NONE,
        rename_header=_recbole_name,
    )


def read_recbole_users(path: PathLike) -> pd.DataFrame:
    """Read RecBole's ``ml-100k.user``: user_id, age, gender, occupation, zip_code."""
    table = _read_recbole(
        path, ("user_id", "age", "gender", "occupation", "zip_code"), what="users"
    )
    t = table.rows
    return _users_frame(
        t["user_id"],
        t["age"],
        t["gender"],
        t["occupation"],
        t["zip_code"],
        as_file(path),
        table.lines,
    )


def read_recbole_items(path: PathLike) -> pd.DataFrame:
    """Read RecBole's ``ml-100k.item``: item_id, movie_title, release_year, class (genres).

    RecBole's copy writes its own titles (item 267 is ``"unkonwn"``) and has
    two non-numeric release years (``"unkonwn"`` for item 267 and ``"V"`` for
    item 1412, a split of the official title "... (1995) (V)"); a release year
    that is not a whole number is read as missing.
    """
    path = as_file(path)
    table = _read_recbole(path, ("item_id", "movie_title", "release_year", "class"), what="items")
    t, lines = table.rows, table.lines
    item_ids = parse_integer_column(
        t["item_id"], name="item id", source=path, first_line=lines, minimum=1
    )
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
    return _items_frame(
        item_ids, t["movie_title"].str.strip(), years, genres, path, lines, flag_genres=GENRES
    )


def _recbole_name(name: str) -> str:
    return name.split(":")[0].strip()  # header fields are typed, e.g. "user_id:token"


def _read_recbole(path: PathLike, required: tuple[str, ...], what: str) -> TextTable:
    table = read_text_table(path, sep="\t", header=True, quoting=csv.QUOTE_NONE)
    names = [_recbole_name(name) for name in table.header]
    require_columns(names, required, source=as_file(path), sep="\t")
    if table.rows.empty:
        raise DataFormatError(as_file(path), f"the file has a header but no {what}.")
    return table._replace(header=names, rows=table.rows.set_axis(names, axis=1))


# --- ML-1M and ML-10M: '::'-separated .dat files ------------------------------------------------


def read_dat_ratings(path: PathLike, *, half_stars: bool) -> pd.DataFrame:
    """Read ``ratings.dat`` (ML-1M, ML-10M): ``UserID::MovieID::Rating::Timestamp``, no header.

    Args:
        path: The file.
        half_stars: Ratings are 0.5..5 in half stars (ML-10M) rather than 1..5 (ML-1M).
    """
    rating = HALF_STARS if half_stars else WHOLE_STARS
    return _ratings(
        path,
        _rating_fields(range(4), rating),
        sep="::",
        header=False,
        width=4,
        quoting=csv.QUOTE_NONE,
    )


def read_dat_users(path: PathLike) -> pd.DataFrame:
    """Read ML-1M's ``users.dat``: ``UserID::Gender::Age::Occupation::Zip-code``, no header.

    ``age`` is the code of an age group (the group's lower bound, see
    :data:`ML1M_AGE_GROUPS`); ``occupation`` is the name for the file's code
    (:data:`ML1M_OCCUPATIONS`).
    """
    path = as_file(path)
    table = read_text_table(
        path, sep="::", header=False, width=5, encoding=LATIN1_OR_UTF8, quoting=csv.QUOTE_NONE
    )
    t, lines = table.rows, table.lines
    ages = parse_integer_column(t[2], name="age", source=path, first_line=lines)
    bad_age = ~np.isin(ages, list(ML1M_AGE_GROUPS))
    if bad_age.any():
        row = int(np.flatnonzero(bad_age)[0])
        raise DataFormatError(
            path,
            f"age {t[2].iloc[row].strip()!r} is not an age-group code "
            f"({', '.join(map(str, ML1M_AGE_GROUPS))}).",
            line=int(lines[row]),
        )
    codes = parse_integer_column(
        t[3],
        name="occupation",
        source=path,
        first_line=lines,
        minimum=0,
        maximum=len(ML1M_OCCUPATIONS) - 1,
    )
    occupations = pd.Series(np.asarray(ML1M_OCCUPATIONS, dtype=object)[codes])
    return _users_frame(t[0], pd.Series(ages.astype(str)), t[1], occupations, t[4], path, lines)


def _read_dat_lines(
    path: FileLike, pattern: str, layout: str, encoding
) -> tuple[pd.DataFrame, np.ndarray]:
    """Split each non-blank line of a ``.dat`` file with a regular expression (vectorised).

    The free-text field may itself hold ``::`` (the pattern anchors the others),
    which a plain split would take for a separator.
    """
    text = decode_text(read_file_bytes(path), path, encoding)
    lines = pd.Series(text.splitlines())
    keep = lines.str.strip() != ""
    numbers = np.flatnonzero(keep.to_numpy()) + 1
    lines = lines[keep].reset_index(drop=True)
    parts = lines.str.extract(pattern)
    bad = parts.isna().any(axis=1).to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        problem = f"expected {layout}, found {lines.iloc[row][:80]!r}."
        if row == 0:
            hint = describe_first_line(lines.iloc[0], path.name)
            problem += f" {hint}" if hint else ""
        raise DataFormatError(path, problem, line=int(numbers[row]))
    if parts.empty:
        raise DataFormatError(path, "the file is empty (only blank lines).")
    return parts, numbers


def read_dat_movies(path: PathLike) -> pd.DataFrame:
    """Read ``movies.dat`` (ML-1M, ML-10M): ``MovieID::Title (Year)::Genre|Genre``, no header.

    ML-1M's file is Latin-1; a file that is valid UTF-8 is read as UTF-8.
    """
    path = as_file(path)
    parts, lines = _read_dat_lines(
        path, r"^\s*([^:]*)::(.*)::([^:]*)$", "'MovieID::Title::Genres'", LATIN1_OR_UTF8
    )
    item_ids = parse_integer_column(
        parts[0], name="item id", source=path, first_line=lines, minimum=1
    )
    return _titled_items(item_ids, parts[1], parts[2], path, lines)


def read_dat_tags(path: PathLike) -> pd.DataFrame:
    """Read ML-10M's ``tags.dat``: ``UserID::MovieID::Tag::Timestamp``, no header."""
    path = as_file(path)
    parts, lines = _read_dat_lines(
        path,
        r"^\s*([^:]*)::([^:]*)::(.*)::([^:]*?)\s*$",
        "'UserID::MovieID::Tag::Timestamp'",
        LATIN1_OR_UTF8,
    )
    return _tags_frame(parts[0], parts[1], parts[2], parts[3], path, lines)


# --- ML-20M, ML-25M, ml-latest-small: CSV with a header ------------------------------------------


def read_csv_ratings(path: PathLike, *, half_stars: bool = True) -> pd.DataFrame:
    """Read a MovieLens ``ratings.csv``: header ``userId,movieId,rating,timestamp``, half stars."""
    rating = HALF_STARS if half_stars else WHOLE_STARS
    return _ratings(
        path,
        _rating_fields(("userId", "movieId", "rating", "timestamp"), rating),
        sep=",",
        header=True,
    )


def _read_csv(path: PathLike, required: tuple[str, ...], what: str) -> TextTable:
    table = read_text_table(path, sep=",", header=True)
    require_columns(table.header, required, source=as_file(path))
    if table.rows.empty:
        raise DataFormatError(as_file(path), f"the file has a header but no {what}.")
    return table


def read_csv_movies(path: PathLike) -> pd.DataFrame:
    """Read a MovieLens ``movies.csv``: ``movieId,title,genres`` (UTF-8; commas quoted)."""
    path = as_file(path)
    table = _read_csv(path, ("movieId", "title", "genres"), "films")
    t, lines = table.rows, table.lines
    item_ids = parse_integer_column(
        t["movieId"], name="item id", source=path, first_line=lines, minimum=1
    )
    return _titled_items(item_ids, t["title"], t["genres"], path, lines)


def read_csv_tags(path: PathLike) -> pd.DataFrame:
    """Read a MovieLens ``tags.csv``: ``userId,movieId,tag,timestamp``."""
    path = as_file(path)
    table = _read_csv(path, ("userId", "movieId", "tag", "timestamp"), "tags")
    t = table.rows
    return _tags_frame(t["userId"], t["movieId"], t["tag"], t["timestamp"], path, table.lines)


def read_csv_links(path: PathLike) -> pd.DataFrame:
    """Read a MovieLens ``links.csv``: ``movieId,imdbId,tmdbId`` (``tmdbId`` may be empty)."""
    path = as_file(path)
    table = _read_csv(path, ("movieId", "imdbId", "tmdbId"), "links")
    t, lines = table.rows, table.lines
    item_ids = parse_integer_column(
        t["movieId"], name="item id", source=path, first_line=lines, minimum=1
    )
    check_unique_ids(item_ids, name="item id", source=path, first_line=lines)

    def optional(raw: pd.Series, name: str) -> pd.api.extensions.ExtensionArray:
        text = raw.str.strip()
        present = (text != "").to_numpy()
        values = pd.array(np.zeros(len(raw), dtype=np.int64), dtype="Int64")
        if present.any():
            values[present] = parse_integer_column(
                text[present], name=name, source=path, first_line=lines[present], minimum=0
            )
        values[~present] = pd.NA
        return values

    frame = pd.DataFrame(
        {"imdb_id": optional(t["imdbId"], "IMDb id"), "tmdb_id": optional(t["tmdbId"], "TMDb id")},
        index=pd.Index(item_ids, name="item_id"),
    )
    return frame.sort_index()


def read_genome_scores(path: PathLike) -> pd.DataFrame:
    """Read ``genome-scores.csv``: ``movieId,tagId,relevance`` (relevance 0..1).

    Raises:
        DataFormatError: Also when the scores do not form a complete matrix
            (every genome film with every genome tag, once).
    """
    path = as_file(path)
    fields = [
        Field("movieId", "item_id", ITEM_ID),
        Field("tagId", "tag_id", TAG_ID),
        Field("relevance", "relevance", RELEVANCE),
    ]
    frame, lines = read_number_table(
        path, fields, sep=",", header=True, no_rows="the file has a header but no scores."
    )
    same = duplicate_pair_rows(frame["item_id"].to_numpy(), frame["tag_id"].to_numpy())
    if same is not None:
        raise DataFormatError(
            path,
            f"film {frame['item_id'].iat[same[0]]} has a score for tag "
            f"{frame['tag_id'].iat[same[0]]} more than once "
            f"(lines {', '.join(str(lines[r]) for r in same)}).",
            line=int(lines[same[1]]),
        )
    n_films, n_tags = frame["item_id"].nunique(), frame["tag_id"].nunique()
    if n_films * n_tags != len(frame):
        raise DataFormatError(
            path,
            f"the scores are not a complete matrix: {n_films:,} films x {n_tags:,} tags would be "
            f"{n_films * n_tags:,} rows, found {len(frame):,}.",
        )
    return frame


def read_genome_tags(path: PathLike) -> pd.DataFrame:
    """Read ``genome-tags.csv``: ``tagId,tag``."""
    path = as_file(path)
    table = _read_csv(path, ("tagId", "tag"), "tags")
    t, lines = table.rows, table.lines
    tag_ids = parse_integer_column(
        t["tagId"], name="tag id", source=path, first_line=lines, minimum=1
    )
    check_unique_ids(tag_ids, name="tag id", source=path, first_line=lines)
    return pd.DataFrame(
        {"tag": t["tag"].to_numpy()}, index=pd.Index(tag_ids, name="tag_id")
    ).sort_index()


# --- frames --------------------------------------------------------------------------------


def _users_frame(
    ids, ages, genders, occupations, zips, path: FileLike, lines: np.ndarray
) -> pd.DataFrame:
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


def _titled_items(
    item_ids: np.ndarray, titles: pd.Series, genres: pd.Series, path: FileLike, lines: np.ndarray
) -> pd.DataFrame:
    """Items of ML-1M and later: the year ends the title, ``(YYYY)``; genres are ``|``-separated."""
    titles = titles.astype(str).str.strip()
    years = pd.to_numeric(titles.str.extract(_YEAR_IN_TITLE)[0], errors="coerce").astype("Int64")
    names = genres.astype(str).str.strip()
    empty = (names == "").to_numpy()
    if empty.any():
        row = int(np.flatnonzero(empty)[0])
        raise DataFormatError(
            path,
            f"the genres of film {item_ids[row]} are empty (expected e.g. 'Comedy|Drama' or "
            f"'{NO_GENRES}').",
            line=int(lines[row]),
        )
    genre_tuples = [() if text == NO_GENRES else tuple(text.split("|")) for text in names]
    stripped = titles.str.replace(_YEAR_IN_TITLE, "", regex=True).str.strip()
    return _items_frame(item_ids, stripped, years, genre_tuples, path, lines)


def _items_frame(
    item_ids: np.ndarray,
    titles: pd.Series,
    years: pd.Series,
    genres: list,
    path: FileLike,
    lines: np.ndarray,
    flag_genres: Sequence[str] = (),
) -> pd.DataFrame:
    check_unique_ids(item_ids, name="item id", source=path, first_line=lines)
    frame = pd.DataFrame(
        {
            "title": titles.to_numpy(),
            "release_year": pd.array(years, dtype="Int64"),
            "genres": genres,
        },
        index=pd.Index(item_ids, name="item_id"),
    )
    for genre in flag_genres:
        frame[genre] = [int(genre in g) for g in genres]
    return frame.sort_index()


def _tags_frame(users, items, tags, timestamps, path: FileLike, lines: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": USER_ID.parse(users, source=path, first_line=lines),
            "item_id": ITEM_ID.parse(items, source=path, first_line=lines),
            "tag": tags.astype(str).to_numpy(),
            "timestamp": TIMESTAMP.parse(timestamps, source=path, first_line=lines),
        }
    )

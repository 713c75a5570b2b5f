"""Say what a file or folder is, for error messages that tell people what to do.

People hand the readers whatever they have: an Excel workbook saved from
``ratings.csv``, the zip they downloaded, a web page saved instead of the
file, ML-1M's ``ratings.dat`` where ML-100K's ``u.data`` was expected. The
readers never guess their way through such input; when a file fails its
format, they ask this module what it looks like and say so in the error.

Nothing here loads data: it only recognises a few bytes, a first line, or a
folder's file names.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from recsys_ref.data.releases import OTHER_EDITIONS, RELEASES

FileLike = Path | zipfile.Path


@dataclass(frozen=True)
class FileKind:
    """A kind of file recognised from its first line.

    Attributes:
        file_name: The name such files have (``"ratings.dat"``).
        what: What it is, as a noun phrase.
        advice: What to do with it, as an imperative phrase.
    """

    file_name: str
    what: str
    advice: str

    def sentence(self) -> str:
        return f"It looks like {self.what}: {self.advice}."


_CSV_RELEASES = "ml-latest-small, ml-20m or ml-25m"
_LOAD_CSV = (
    "load its folder with load_movielens(release, data_dir=<the folder>), release being "
    "'ml-latest-small', 'ml-20m' or 'ml-25m'"
)
_LOAD_DAT = (
    "load its folder with load_movielens(release, data_dir=<the folder>), release being "
    "'ml-1m' or 'ml-10m'"
)

#: MovieLens CSV headers, exactly as GroupLens writes them.
_CSV_HEADERS = {
    "userId,movieId,rating,timestamp": (
        "ratings.csv",
        f"the ratings.csv of MovieLens {_CSV_RELEASES}",
    ),
    "movieId,title,genres": ("movies.csv", f"the movies.csv of MovieLens {_CSV_RELEASES}"),
    "userId,movieId,tag,timestamp": ("tags.csv", f"the tags.csv of MovieLens {_CSV_RELEASES}"),
    "movieId,imdbId,tmdbId": ("links.csv", f"the links.csv of MovieLens {_CSV_RELEASES}"),
    "movieId,tagId,relevance": (
        "genome-scores.csv",
        "the genome-scores.csv of MovieLens ml-20m or ml-25m",
    ),
    "tagId,tag": ("genome-tags.csv", "the genome-tags.csv of MovieLens ml-20m or ml-25m"),
}

#: (pattern of the first line, file name, what, advice), tried in order.
_LINE_KINDS = (
    (r"\d+::\d+::\d\.5::\d+", "ratings.dat", "MovieLens 10M's ratings.dat (half stars)",
     "load its folder with load_movielens('ml-10m', data_dir=<the folder>)"),
    (r"\d+::\d+::\d(\.0)?::\d+", "ratings.dat", "the ratings.dat of MovieLens 1M or 10M",
     _LOAD_DAT),
    (r"\d+::[MF]::\d+::\d+::.*", "users.dat", "MovieLens 1M's users.dat",
     "load its folder with load_movielens('ml-1m', data_dir=<the folder>)"),
    (r"\d+::\d+::.*::\d+", "tags.dat", "MovieLens 10M's tags.dat",
     "load its folder with load_movielens('ml-10m', data_dir=<the folder>)"),
    (r"\d+::.*::.*", "movies.dat", "the movies.dat of MovieLens 1M or 10M", _LOAD_DAT),
    (r"\d+\t\d+\t[1-5]\t\d+", "u.data", "MovieLens 100K's u.data (tab-separated, no header)",
     "load its folder with load_movielens_100k(data_dir=<the folder>)"),
    (r"\d+\|\d+\|[MF]\|[^|]*\|[^|]*", "u.user", "MovieLens 100K's u.user",
     "load its folder with load_movielens_100k(data_dir=<the folder>)"),
    (r"\d+\|[^|]*\|[^|]*\|[^|]*\|[^|]*(\|[01]){19}", "u.item", "MovieLens 100K's u.item",
     "load its folder with load_movielens_100k(data_dir=<the folder>)"),
    (r"user_id:token\titem_id:token.*", "ml-100k.inter", "RecBole's ml-100k.inter",
     "load its folder with load_movielens_100k(data_dir=<the folder>)"),
)  # fmt: skip


def identify_line(first_line: str) -> FileKind | None:
    """Recognise a MovieLens file or one of the original notebook's files by its first line.

    Args:
        first_line: The file's first non-blank line, without the line break.

    Returns:
        The :class:`FileKind`, or ``None`` when the line matches no known file.
    """
    line = first_line.removeprefix("\ufeff").strip()
    if line in _CSV_HEADERS:
        name, what = _CSV_HEADERS[line]
        return FileKind(name, what, _LOAD_CSV)
    cells = [c.strip() for c in line.split(",")]
    if {"UserID", "MovieID", "Rating"} <= set(cells):
        return FileKind(
            "ratings.csv",
            "the original notebook's ratings.csv (UserID,MovieID,Rating)",
            "read it with read_ratings_csv",
        )
    if (
        len(cells) > 1
        and (cells[0] in ("", "UserID") or cells[0].startswith("Unnamed"))
        and all(c.isdigit() and int(c) >= 1 for c in cells[1:])
    ):
        return FileKind(
            "ratings_mat.csv",
            "the original notebook's dense ratings_mat.csv (a row per user, a column per film)",
            "read it with read_ratings_matrix_csv",
        )
    for pattern, name, what, advice in _LINE_KINDS:
        if re.fullmatch(pattern, line):
            return FileKind(name, what, advice)
    return None


_MAGIC = (
    (
        b"\xd0\xcf\x11\xe0",
        "an old Excel workbook (.xls)",
        "save it from Excel as 'CSV UTF-8 (comma delimited)'",
    ),
    (b"\x89PNG", "a PNG image", "use the data file itself"),
    (b"%PDF", "a PDF document", "use the data file itself"),
    (b"\x1f\x8b", "a gzip archive", "decompress it first"),
    (b"7z\xbc\xaf", "a 7-Zip archive", "extract it first"),
    (b"Rar!", "a RAR archive", "extract it first"),
)


def describe_binary(raw: bytes) -> str | None:
    """Say what a file is when it is not text at all (a zip, a workbook, an image...).

    Returns:
        A sentence ("It is a zip archive, not a text file: ..."), or ``None``
        when ``raw`` may be text.
    """
    head = raw[:8]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None  # UTF-16 text (with its byte-order mark), as Excel's "Unicode Text" writes it
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        if b"[Content_Types].xml" in raw[:65536] and b"xl/" in raw[:65536]:
            return (
                "It is an Excel workbook (.xlsx), not a text file: save it from Excel as "
                "'CSV UTF-8 (comma delimited)'."
            )
        return (
            "It is a zip archive, not a text file: unzip it first, or give a MovieLens zip "
            "itself to load_movielens(data_dir=...)."
        )
    for magic, what, advice in _MAGIC:
        if head.startswith(magic):
            return f"It is {what}, not a text file: {advice}."
    if b"\x00" in raw[:4096]:
        return "It holds NUL bytes, so it is binary data, not a text file."
    return None


def describe_text(text: str) -> str | None:
    """Say what a text file is when it is a known non-table (a notebook, a web page).

    Returns:
        A sentence, or ``None`` when ``text`` may be a table.
    """
    start = text.lstrip()[:2000]
    lowered = start.lower()
    if start.startswith("{") and ('"nbformat"' in text[:100_000] or '"cells"' in start):
        return "It is a Jupyter notebook (JSON), not a data file."
    if lowered.startswith(("<!doctype html", "<html", "<?xml")) or "<html" in lowered[:200]:
        return (
            "It is a web page (HTML), not a data file: the download probably saved an error or "
            "a landing page; download the file again."
        )
    return None


def describe_misnamed(file: FileLike, name: str | None = None) -> str | None:
    """Say what a file is when, from its first bytes, it is clearly *not* the file its name
    promises: not text (a zip, a workbook...), a known non-table (a web page, a notebook), or
    another known MovieLens file.

    Only the first 64 KiB are read. A file that is merely damaged (its first line matches no
    known file) is not described: the readers report its exact line.

    Args:
        file: The file.
        name: The name it should have; default its own name.

    Returns:
        A sentence ("It is a web page (HTML), not a data file: ..."), or ``None``
        when the file may be what its name says (or cannot be read).
    """
    try:
        with file.open("rb") as stream:
            raw = stream.read(65536)
    except (OSError, KeyError, ValueError):
        return None
    sentence = describe_binary(raw)
    if sentence is not None:
        return sentence
    text = raw.decode("utf-8", errors="replace").removeprefix("\ufeff")
    sentence = describe_text(text)
    if sentence is not None:
        return sentence
    first = next((line for line in text.splitlines() if line.strip()), None)
    kind = identify_line(first) if first is not None else None
    if kind is not None and kind.file_name != (name or file.name):
        return kind.sentence()
    return None


# --- folders -----------------------------------------------------------------------------

_RECBOLE_FILES = ("ml-100k.inter", "ml-100k.user", "ml-100k.item")


def _file_names(folder: FileLike) -> set[str]:
    try:
        return {p.name for p in folder.iterdir() if p.is_file()}
    except (OSError, ValueError, KeyError):
        return set()


def identify_release(folder: FileLike) -> str | None:
    """Say which MovieLens release a folder holds, from its file names (and, for the CSV
    releases, which share file names, from the folder's name or the ratings count).

    Args:
        folder: A folder (or a folder inside a zip).

    Returns:
        A phrase such as ``"MovieLens 1M (ml-1m)"``, or ``None`` when the folder
        holds no MovieLens release.
    """
    names = _file_names(folder)

    def title(name: str) -> str:
        return f"{RELEASES[name].title} ({name})"

    if {"u.data", "u.user", "u.item"} <= names or set(_RECBOLE_FILES) <= names:
        return title("ml-100k")
    if {"ratings.dat", "users.dat", "movies.dat"} <= names:
        return title("ml-1m")
    if {"ratings.dat", "movies.dat"} <= names:
        return title("ml-10m")
    if {"ratings.csv", "movies.csv"} <= names:
        by_count = release_by_ratings_count(count_data_lines(folder / "ratings.csv"))
        if by_count is not None:
            return by_count
        for release in RELEASES.values():
            if release.layout == "csv" and folder.name == release.folder:
                return title(release.name)
        return (
            "a MovieLens release in CSV (ratings.csv, movies.csv), but not one with a known "
            "ratings count"
        )
    return None


def count_data_lines(file: FileLike) -> int | None:
    """The number of non-blank lines after the header line (``None`` if unreadable)."""
    try:
        raw = file.read_bytes()
    except (OSError, KeyError):
        return None
    lines = raw.count(b"\n") + (0 if raw.endswith(b"\n") else 1)
    blank = len(re.findall(rb"\n[ \t\r]*(?=\n)", raw))
    return lines - 1 - blank


def release_by_ratings_count(n_ratings: int | None) -> str | None:
    """The release (or known other edition) whose ratings count is ``n_ratings``, as a phrase."""
    if n_ratings is None:
        return None
    for release in RELEASES.values():
        if release.counts.ratings == n_ratings:
            return f"{release.title} ({release.name})"
    for title, count in OTHER_EDITIONS.values():
        if count == n_ratings:
            return title
    return None

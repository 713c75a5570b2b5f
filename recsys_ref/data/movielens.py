"""MovieLens, every release: find, fetch, verify and load it.

The course uses MovieLens 100K; :func:`load_movielens` loads any release
listed in :data:`~recsys_ref.data.releases.RELEASES` (``ml-100k``, ``ml-1m``,
``ml-10m``, ``ml-20m``, ``ml-25m``, ``ml-latest-small``) into the same
:class:`MovieLens` tables, and :func:`load_movielens_100k` is the course's
shorthand for ``load_movielens("ml-100k")``.

The licence of MovieLens forbids redistribution, so this project never ships
the files: the loaders look for them, in this order,

1. in ``data_dir`` or the environment variable ``RECSYS_DATA_DIR``: the
   release's folder itself, the folder holding it (also ``ml-1m/ml-1m/`` as
   unzipping twice leaves it), its zip, or a folder holding the zip. That is
   then the only source: if it lacks the files or they fail verification,
   that is an error, with no fallback to the cache or the network;
2. in the local cache ``data_home`` (default ``RECSYS_DATA_HOME``, or the
   user cache folder chosen by pooch), where downloads are unzipped;
3. from each of :data:`SOURCES` in turn: the official zip from GroupLens
   (pooch checks its MD5 from :data:`~recsys_ref.data.releases.REGISTRY`),
   then, for ML-100K only, the copy inside the RecBole 1.2.1 wheel on PyPI,
   fetched with ``pip download --no-deps`` and read as data only.

Whatever the source, the tables are verified before they are returned: every
line's format and values (with the file and line of the first bad one), no
user-item pair rated twice, the release's published counts, every rated film
in the films file and, for ML-100K, a SHA-256 of the ratings.

Source: F. Maxwell Harper and Joseph A. Konstan. 2015. The MovieLens
Datasets: History and Context. ACM Transactions on Interactive Intelligent
Systems 5, 4, Article 19. https://doi.org/10.1145/2827872
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, cast

import numpy as np
import pandas as pd

from recsys_ref.data.errors import DataFileNotFoundError, DataFormatError
from recsys_ref.data.identify import (
    FileLike,
    describe_misnamed,
    identify_release,
    release_by_ratings_count,
)
from recsys_ref.data.movielens_files import (
    GENRES,
    read_csv_links,
    read_csv_movies,
    read_csv_ratings,
    read_csv_tags,
    read_dat_movies,
    read_dat_ratings,
    read_dat_tags,
    read_dat_users,
    read_genome_scores,
    read_genome_tags,
    read_official_items,
    read_official_ratings,
    read_official_users,
    read_recbole_items,
    read_recbole_ratings,
    read_recbole_users,
)
from recsys_ref.data.releases import RELEASES, MovieLensRelease, get_release

__all__ = [
    "DATA_DIR_ENV",
    "DATA_HOME_ENV",
    "GENRES",
    "SOURCES",
    "MovieLens",
    "MovieLens100K",
    "Source",
    "default_data_home",
    "fetch_grouplens",
    "fetch_recbole_wheel",
    "find_release",
    "load_movielens",
    "load_movielens_100k",
    "ratings_checksum",
    "read_release",
    "verify_movielens",
    "verify_movielens_100k",
]

DATA_DIR_ENV = "RECSYS_DATA_DIR"
DATA_HOME_ENV = "RECSYS_DATA_HOME"

RECBOLE_REQUIREMENT = "recbole==1.2.1"
RECBOLE_WHEEL_SHA256 = "9c9948202011f37eb0a7c6768129313f00d6403ad221ec940d5e2d5d5f33a407"
RECBOLE_FOLDER = "recbole/dataset_example/ml-100k/"
RECBOLE_FILES = ("ml-100k.inter", "ml-100k.user", "ml-100k.item")
#: The cache sub-folder for the RecBole copy of ML-100K.
RECBOLE_CACHE = "recbole-ml-100k"

Reporter = Callable[[str], None]


@dataclass(frozen=True, kw_only=True)
class MovieLens:
    """The tables of one MovieLens release, with the same columns for every release.

    Ids are the files' own: 1-based, and for ML-1M and later not contiguous
    (film ids run to 3,952 in ML-1M and 209,171 in ML-25M, with gaps).

    Attributes:
        release: The release's name (``"ml-1m"``).
        ratings: One row per rating, in file order: ``user_id``, ``item_id``
            (int64), ``rating`` (int64 1..5 for ``ml-100k`` and ``ml-1m``;
            float64 0.5..5.0 in half stars for the others), ``timestamp``
            (int64, Unix seconds).
        users: Indexed by ``user_id``: ``age`` (int; in ML-1M the code of an
            age group, see :data:`~recsys_ref.data.movielens_files.ML1M_AGE_GROUPS`),
            ``gender`` ("M"/"F"), ``occupation`` (name), ``zip_code`` (str);
            ``None`` for releases without user data (ML-10M and later).
        items: Indexed by ``item_id``: ``title`` (a trailing ``" (YYYY)"``
            removed), ``release_year`` (nullable Int64), ``genres`` (tuple of
            names; empty for "(no genres listed)"). ML-100K adds one 0/1 column
            per genre in :data:`GENRES`.
        source: Where the files were read from (a folder, or a folder in a zip).
        tags: Free-text tags (ML-10M and later): ``user_id``, ``item_id``,
            ``tag`` (str), ``timestamp``; else ``None``.
        links: Indexed by ``item_id``: ``imdb_id``, ``tmdb_id`` (nullable
            Int64), for the CSV releases; else ``None``.
        genome_scores: The tag genome (ML-20M, ML-25M, with ``genome=True``):
            ``item_id``, ``tag_id``, ``relevance`` (float64 in [0, 1]), every
            genome film with every genome tag; else ``None``.
        genome_tags: Indexed by ``tag_id``: ``tag``; with ``genome_scores``.
    """

    release: str
    ratings: pd.DataFrame
    users: pd.DataFrame | None
    items: pd.DataFrame
    source: str
    tags: pd.DataFrame | None = None
    links: pd.DataFrame | None = None
    genome_scores: pd.DataFrame | None = None
    genome_tags: pd.DataFrame | None = None

    @property
    def n_users(self) -> int:
        """Users: rows of ``users``, or distinct raters when there is no users table."""
        return len(self.users) if self.users is not None else int(self.ratings["user_id"].nunique())

    @property
    def n_items(self) -> int:
        """Films: rows of ``items`` (some may have no rating)."""
        return len(self.items)

    @property
    def n_ratings(self) -> int:
        return len(self.ratings)


@dataclass(frozen=True, kw_only=True)
class MovieLens100K(MovieLens):
    """MovieLens 100K, the course's data set: a :class:`MovieLens` whose tables are all present.

    ========  =========================================================
    Ratings   100,000 integer ratings 1..5, with Unix timestamps
    Users     943 (age, gender, occupation, zip code); each rated >= 20
    Items     1,682 films (title, release year, 19 genre flags)
    Density   6.3 % of the 943 x 1,682 matrix is observed
    ========  =========================================================

    ``items["release_year"]`` comes from the release date in the official
    files (item 267 has none) or from RecBole's year column (missing for
    items 267 and 1412). The ratings are the same from either source (same
    checksum); item titles and years differ slightly between the two.
    """

    release: str = "ml-100k"
    users: pd.DataFrame


def _print_to_stderr(message: str) -> None:
    print(f"[recsys_ref] {message}", file=sys.stderr, flush=True)


def default_data_home() -> Path:
    """The cache folder: ``$RECSYS_DATA_HOME`` or the per-user cache chosen by pooch."""
    import pooch

    return Path(os.environ.get(DATA_HOME_ENV) or pooch.os_cache("recsys_ref")).expanduser()


# --- sources -------------------------------------------------------------------------------

#: ``fetch(release, home, say) -> folder``: put the release's files into the cache
#: folder ``home`` and return the folder holding them; raise on failure.
Fetcher = Callable[[MovieLensRelease, Path, Reporter], Path]


class Source(NamedTuple):
    """A place the loaders fetch a release from when it is not cached.

    Attributes:
        label: What fetching from it is, for messages; ``{zip_name}`` and
            ``{title}`` are replaced by the release's.
        fetch: The :data:`Fetcher`.
        releases: The release names it has (``None``: every release).
    """

    label: str
    fetch: Fetcher
    releases: frozenset[str] | None = None

    def has(self, release: MovieLensRelease) -> bool:
        return self.releases is None or release.name in self.releases


def fetch_grouplens(
    release: MovieLensRelease, home: Path, say: Reporter, *, downloader: Callable | None = None
) -> Path:
    """Download the official zip into ``home`` with pooch, check its MD5, unzip it.

    The MD5 is the release's ``known_hash`` (the pooch registry); a release
    without one is checked against the ``.md5`` file GroupLens serves beside
    the zip.

    Args:
        release: The release.
        home: The cache folder.
        say: Progress messages.
        downloader: A pooch downloader (default: HTTPS with a 30 s timeout).

    Raises:
        Exception: Whatever the download raises; pooch raises ``ValueError``
            on a checksum mismatch.
    """
    import pooch

    downloader = downloader or pooch.HTTPDownloader(timeout=30, progressbar=False)
    home.mkdir(parents=True, exist_ok=True)
    known_hash = release.known_hash or _published_md5(release, downloader)
    say(f"downloading {release.url} into {home} ...")
    store = pooch.create(
        path=home,
        base_url=release.url.rsplit("/", 1)[0] + "/",
        registry={release.zip_name: known_hash},
        urls={release.zip_name: release.url},
    )
    archive = Path(store.fetch(release.zip_name, downloader=downloader))
    folder = home / release.folder
    if not _holds_files(folder, release.files):
        _extract(archive, home)
    return folder


def _published_md5(release: MovieLensRelease, downloader: Callable) -> str:
    import pooch

    with tempfile.TemporaryDirectory() as scratch:
        path = pooch.retrieve(
            release.url + ".md5",
            known_hash=None,
            fname=release.zip_name + ".md5",
            path=scratch,
            downloader=downloader,
            progressbar=False,
        )
        text = Path(path).read_text(errors="replace")
    digest = re.search(r"\b[0-9a-fA-F]{32}\b", text)
    if digest is None:
        raise ValueError(f"{release.url}.md5 holds no MD5 checksum.")
    return "md5:" + digest.group(0).lower()


def _extract(archive: Path, target: Path) -> None:
    with zipfile.ZipFile(archive) as zipped:
        for name in zipped.namelist():
            if name.startswith(("/", "\\")) or ".." in Path(name).parts:
                raise DataFormatError(
                    archive, f"the member {name!r} would be written outside {target}."
                )
        zipped.extractall(target)


def fetch_recbole_wheel(release: MovieLensRelease, home: Path, say: Reporter) -> Path:
    """Fetch the RecBole 1.2.1 wheel with pip, check its SHA-256, extract its ML-100K files into
    ``home/recbole-ml-100k`` and return that folder. Nothing is installed or imported."""
    import pooch

    if release.name != "ml-100k":
        raise ValueError(f"the RecBole wheel holds only ml-100k, not {release.name}.")
    say(f"fetching {RECBOLE_REQUIREMENT} with 'pip download --no-deps' (data only) ...")
    with tempfile.TemporaryDirectory() as scratch:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--quiet",
                RECBOLE_REQUIREMENT,
                "--dest",
                scratch,
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=600,
        )
        wheel = next(Path(scratch).glob("recbole-*.whl"))
        digest = pooch.file_hash(str(wheel), alg="sha256")
        if digest != RECBOLE_WHEEL_SHA256:
            raise DataFormatError(
                wheel.name, f"SHA-256 {digest} does not match the expected {RECBOLE_WHEEL_SHA256}."
            )
        target = home / RECBOLE_CACHE
        target.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(wheel) as archive:
            for name in RECBOLE_FILES:
                (target / name).write_bytes(archive.read(RECBOLE_FOLDER + name))
    say(f"extracted {', '.join(RECBOLE_FILES)} into {target}")
    return target


#: Where a release that is not cached is fetched from, in order. Pass your own
#: sequence as ``sources=`` to the loaders (an empty one never downloads).
SOURCES: tuple[Source, ...] = (
    Source("Downloading the official {zip_name} from GroupLens", fetch_grouplens),
    Source(
        "Fetching the copy inside the RecBole 1.2.1 wheel with pip",
        fetch_recbole_wheel,
        frozenset({"ml-100k"}),
    ),
)


# --- loading -------------------------------------------------------------------------------


def load_movielens(
    release: str | MovieLensRelease = "ml-100k",
    *,
    data_dir: str | os.PathLike | None = None,
    data_home: str | os.PathLike | None = None,
    download_if_missing: bool = True,
    genome: bool = False,
    sources: Sequence[Source] = SOURCES,
    report: Reporter | None = _print_to_stderr,
) -> MovieLens:
    """Load a MovieLens release, fetching and caching it on first use.

    Args:
        release: ``"ml-100k"`` (the default), ``"ml-1m"``, ``"ml-10m"``,
            ``"ml-20m"``, ``"ml-25m"`` or ``"ml-latest-small"``, or a
            :class:`~recsys_ref.data.releases.MovieLensRelease`.
        data_dir: Where the files already are: the release's folder, the folder
            holding it, its zip, or a folder holding the zip (default:
            ``$RECSYS_DATA_DIR``). When set, it is the only source tried.
        data_home: The cache folder (default: :func:`default_data_home`); a
            release is cached in its official folder name (``ml-10M100K`` for ML-10M).
        download_if_missing: When the cache lacks the release, try ``sources``.
            With ``False``, a missing cache is an error.
        genome: Also read ``genome-scores.csv`` and ``genome-tags.csv`` (ML-20M
            and ML-25M; 12 and 16 million rows).
        sources: Where to fetch from, in order (default :data:`SOURCES`).
        report: Called with a line of text for each step while fetching
            (default: print to stderr); ``None`` for silence.

    Returns:
        The verified :class:`MovieLens` tables (a :class:`MovieLens100K` for ML-100K).

    Raises:
        ValueError: An unknown release name, or ``genome=True`` for a release without one.
        FileNotFoundError: No source had the data; the message says what was tried
            and where to put the files. A ``data_dir`` without the release is a
            :class:`~recsys_ref.data.errors.DataFileNotFoundError` saying what it holds.
        DataFormatError: A file is malformed (naming the file, the line and the
            problem), or the data is not the release asked for (saying which it looks like).
    """
    release = get_release(release)
    if genome and not release.genome_files:
        raise ValueError(f"{release.title} has no tag genome; genome=True needs ml-20m or ml-25m.")
    say = report or (lambda message: None)
    data_dir = data_dir if data_dir is not None else os.environ.get(DATA_DIR_ENV) or None
    if data_dir is not None:
        return read_release(release, find_release(release, data_dir), genome=genome)

    home = Path(data_home).expanduser() if data_home is not None else default_data_home()
    cached = _find_cached(release, home)
    if cached is not None:
        return read_release(release, cached, genome=genome)
    if not download_if_missing:
        raise FileNotFoundError(
            _where_to_put_files(
                release,
                home,
                tried=[
                    f"the cache: {home} holds no {release.name} "
                    "(download_if_missing=False, so nothing was downloaded)"
                ],
            )
        )
    failures = []
    for source in sources:
        if not source.has(release):
            continue
        label = source.label.format(zip_name=release.zip_name, title=release.title)
        try:
            folder = source.fetch(release, home, say)
        except Exception as error:  # any failure moves on to the next source
            failures.append(f"{label} failed: {error}")
            say(failures[-1])
            continue
        data = read_release(release, folder, genome=genome)
        say(f"{release.title} verified and cached in {folder}")
        return data
    raise FileNotFoundError(
        _where_to_put_files(release, home, tried=failures or ["no source has this release"])
    )


def load_movielens_100k(
    *,
    data_dir: str | os.PathLike | None = None,
    data_home: str | os.PathLike | None = None,
    download_if_missing: bool = True,
    sources: Sequence[Source] = SOURCES,
    report: Reporter | None = _print_to_stderr,
) -> MovieLens100K:
    """Load MovieLens 100K, the course's data set: ``load_movielens("ml-100k", ...)``.

    ``data_dir`` may hold GroupLens' files (``u.data``, ``u.user``, ``u.item``)
    or RecBole's (``ml-100k.inter``, ``.user``, ``.item``). See
    :func:`load_movielens` for the arguments and errors.

    Returns:
        The verified :class:`MovieLens100K` tables: 100,000 ratings (int64
        1..5), 943 users, 1,682 films.
    """
    data = load_movielens(
        "ml-100k",
        data_dir=data_dir,
        data_home=data_home,
        download_if_missing=download_if_missing,
        sources=sources,
        report=report,
    )
    return cast(MovieLens100K, data)


def _where_to_put_files(release: MovieLensRelease, home: Path, tried: list[str]) -> str:
    lines = "\n".join(f"  - {t}" for t in tried)
    return (
        f"{release.title} could not be found or fetched. Tried:\n"
        f"{lines}\n"
        f"Download {release.url}, unzip it, and either put the folder '{release.folder}' "
        f"(with {', '.join(release.files)}) into {home}, or pass data_dir=<that folder or the zip> "
        f"(or set {DATA_DIR_ENV})."
    )


# --- finding a release's files -------------------------------------------------------------


def _file_sets(release: MovieLensRelease) -> tuple[tuple[str, ...], ...]:
    return (release.files, RECBOLE_FILES) if release.layout == "ml-100k" else (release.files,)


def _holds_files(folder: FileLike, files: Sequence[str]) -> bool:
    try:
        return all((folder / name).is_file() for name in files)
    except (OSError, KeyError, ValueError):
        return False


def _holds_release(folder: FileLike, release: MovieLensRelease) -> bool:
    return any(_holds_files(folder, files) for files in _file_sets(release))


def _subfolders(folder: FileLike) -> list[FileLike]:
    try:
        found = [p for p in folder.iterdir() if p.is_dir()]
    except OSError:
        return []
    return sorted(
        (p for p in found if p.name != "__MACOSX" and not p.name.startswith(".")),
        key=lambda p: p.name,
    )


def _candidates(release: MovieLensRelease, where: FileLike) -> list[FileLike]:
    """Where a release's files may be, best first: the folder itself, its official sub-folder
    (and that folder's own, after unzipping twice), then any other sub-folder except another
    release's official folder (ML-20M, ML-25M and ml-latest-small share their file names)."""
    named = where / release.folder
    others = {r.folder for r in RELEASES.values() if r.name != release.name}
    return [
        where,
        named,
        named / release.folder,
        *(p for p in _subfolders(where) if p.name not in others),
    ]


def _find_cached(release: MovieLensRelease, home: Path) -> Path | None:
    """The cache holds a release in its official folder (and ML-100K also in RecBole's)."""
    folders = [home / release.folder] + (
        [home / RECBOLE_CACHE] if release.layout == "ml-100k" else []
    )
    return next((folder for folder in folders if _holds_release(folder, release)), None)


def find_release(release: str | MovieLensRelease, where: str | os.PathLike) -> FileLike:
    """The folder holding a release's files, as people have them on disk.

    ``where`` may be the release's folder, the folder holding it (also after
    unzipping twice, ``ml-1m/ml-1m/``), the zip (read in place, not
    extracted), or a folder holding the zip. macOS' ``__MACOSX`` folders are
    ignored.

    Args:
        release: The release (name or object).
        where: A folder or a zip.

    Returns:
        A :class:`~pathlib.Path`, or a :class:`zipfile.Path` inside the zip.

    Raises:
        DataFileNotFoundError: ``where`` does not exist, or does not hold the
            release; the message lists what it needs and says what the folder
            holds instead (another release, which to load it with).
    """
    release = get_release(release)
    where = Path(where).expanduser()
    if where.is_file() and zipfile.is_zipfile(where):
        roots: list[FileLike] = [zipfile.Path(where)]
    elif where.is_file() and any(where.name in files for files in _file_sets(release)):
        roots = [where.parent]  # the path of one of the release's files: its folder is meant
    elif where.is_dir():
        roots = [where]
        archive = where / release.zip_name
        if archive.is_file() and zipfile.is_zipfile(archive):
            roots.append(zipfile.Path(archive))
    elif where.is_file():
        raise DataFileNotFoundError(
            where,
            f"is a file, not a folder or a zip; give the folder holding {release.title}'s "
            f"files ({', '.join(release.files)}) or its zip.",
        )
    else:
        raise DataFileNotFoundError(
            where,
            f"is not a folder; it should hold {release.title}'s files ({_files_phrase(release)}).",
        )
    for root in roots:
        for candidate in _candidates(release, root):
            if _holds_release(candidate, release):
                return candidate
    raise DataFileNotFoundError(where, _not_there(release, roots))


def _files_phrase(release: MovieLensRelease) -> str:
    phrase = ", ".join(release.files)
    return (
        f"{phrase}; or RecBole's {', '.join(RECBOLE_FILES)}"
        if release.layout == "ml-100k"
        else phrase
    )


def _not_there(release: MovieLensRelease, roots: list[FileLike]) -> str:
    problem = f"{release.title} ({release.name}) is not here: it needs {_files_phrase(release)}."
    for root in roots:
        for folder in [root, *_subfolders(root)]:
            other = identify_release(folder)
            if other is not None:
                name = re.search(r"\((ml-[^)]+)\)", other)
                load = (
                    f" Load it with load_movielens('{name.group(1)}', data_dir='{folder}')."
                    if name and name.group(1) != release.name
                    else ""
                )
                return f"{problem} {folder} holds {other}.{load}"
    wrong = _wrong_files(release, roots)
    if wrong:
        problem = f"{problem} {wrong}"
    try:
        present = sorted(p.name for p in roots[0].iterdir())
    except OSError:
        present = []
    listing = ", ".join(present[:10]) + (", ..." if len(present) > 10 else "")
    return (
        f"{problem} The folder holds {listing or 'nothing'}."
        if present
        else f"{problem} The folder is empty."
    )


def _wrong_files(release: MovieLensRelease, roots: list[FileLike]) -> str | None:
    """Sentences on the first of a release's files that is present but is not that file (a
    web page saved by a failed download, a zip, another release's file), and on the files
    of its set still missing; ``None`` when no present file is clearly wrong."""
    for root in roots:
        for folder in [root, *_subfolders(root)]:
            for files in _file_sets(release):
                for position, name in enumerate(files):
                    file = folder / name
                    try:
                        if not file.is_file():
                            continue
                    except (OSError, KeyError, ValueError):
                        continue
                    what = describe_misnamed(file, name)
                    if what is None:
                        continue
                    role = "ratings" if position == 0 else f"{name}"
                    sentence = f"{file} is there but is not {release.title}'s {role}: {what}"
                    missing = [other for other in files if not _holds_files(folder, [other])]
                    if missing:
                        verb = "is" if len(missing) == 1 else "are"
                        sentence += (
                            f" {', '.join(missing)} {verb} missing too: download {release.url}, "
                            "unzip it and pass data_dir=<the unzipped folder> (or the zip itself)."
                        )
                    return sentence
    return None


def read_release(
    release: str | MovieLensRelease, folder: FileLike, *, genome: bool = False
) -> MovieLens:
    """Read and verify a release from the folder holding its files (see :func:`find_release`).

    Raises:
        DataFileNotFoundError: A file is missing (the genome files, with ``genome=True``).
        DataFormatError: A file is malformed, or the tables are not the release's
            (see :func:`verify_movielens`).
    """
    release = get_release(release)
    source = str(folder)
    if release.layout == "ml-100k":
        if _holds_files(folder, release.files):
            users, items = (
                read_official_users(folder / "u.user"),
                read_official_items(folder / "u.item"),
            )
            ratings = read_official_ratings(folder / "u.data")
        else:
            users, items = (
                read_recbole_users(folder / "ml-100k.user"),
                read_recbole_items(folder / "ml-100k.item"),
            )
            ratings = read_recbole_ratings(folder / "ml-100k.inter")
        data: MovieLens = MovieLens100K(
            release=release.name, ratings=ratings, users=users, items=items, source=source
        )
    elif release.layout == "dat":
        data = MovieLens(
            release=release.name,
            ratings=read_dat_ratings(folder / "ratings.dat", half_stars=release.half_stars),
            users=read_dat_users(folder / "users.dat") if release.has_users else None,
            items=read_dat_movies(folder / "movies.dat"),
            tags=read_dat_tags(folder / "tags.dat") if release.counts.tags is not None else None,
            source=source,
        )
    else:
        genome_scores = genome_tags = None
        if genome:
            for name in release.genome_files:
                if not (folder / name).is_file():
                    raise DataFileNotFoundError(
                        folder / name,
                        "file not found. The April 2015 edition of ml-20m had no genome "
                        "files: download the current zip again, or load without genome=True.",
                    )
            genome_scores = read_genome_scores(folder / "genome-scores.csv")
            genome_tags = read_genome_tags(folder / "genome-tags.csv")
        data = MovieLens(
            release=release.name,
            ratings=read_csv_ratings(folder / "ratings.csv", half_stars=release.half_stars),
            users=None,
            items=read_csv_movies(folder / "movies.csv"),
            tags=read_csv_tags(folder / "tags.csv"),
            links=read_csv_links(folder / "links.csv"),
            genome_scores=genome_scores,
            genome_tags=genome_tags,
            source=source,
        )
    verify_movielens(data, release)
    return data


# --- verification ----------------------------------------------------------------------------


def ratings_checksum(ratings: pd.DataFrame) -> str:
    """SHA-256 of the ratings as C-ordered int64 rows (user_id, item_id, rating, timestamp).

    Half-star ratings enter as twice their value, so that every rating is a whole number.
    """
    columns = ratings[["user_id", "item_id", "rating", "timestamp"]]
    if not pd.api.types.is_integer_dtype(columns["rating"]):
        columns = columns.assign(rating=np.round(columns["rating"] * 2))
    array = np.ascontiguousarray(columns.to_numpy(dtype=np.int64))
    return hashlib.sha256(array.tobytes()).hexdigest()


def verify_movielens(data: MovieLens, release: str | MovieLensRelease | None = None) -> None:
    """Check that loaded tables are exactly the release they claim to be.

    Checks the published counts (ratings, users, films, tags, links, genome),
    that every user and rated film exists, that ML-100K's and ML-1M's user ids
    are 1..n, and, where the release has one, the ratings' SHA-256. Line-level
    checks (values, duplicate pairs) are done by the readers.

    Args:
        data: The tables.
        release: The release to check against (default: ``data.release``).

    Raises:
        DataFormatError: Naming ``data.source`` and what differs; when the counts
            are another release's, which one and how to load it.
    """
    release = get_release(release if release is not None else data.release)
    source, counts = data.source, release.counts
    found_users = data.ratings["user_id"].nunique()
    checks = [
        ("ratings", counts.ratings, len(data.ratings)),
        ("users", counts.users, len(data.users) if data.users is not None else found_users),
        ("items", counts.items, len(data.items)),
        ("tags", counts.tags, None if data.tags is None else len(data.tags)),
        ("links", counts.links, None if data.links is None else len(data.links)),
        (
            "genome tags",
            counts.genome_tags,
            None if data.genome_tags is None else len(data.genome_tags),
        ),
        (
            "genome scores",
            counts.genome_scores,
            None if data.genome_scores is None else len(data.genome_scores),
        ),
    ]
    if data.users is not None:
        checks.append(("users who rated", counts.users, found_users))
    for what, expected, found in checks:
        if expected is not None and found is not None and found != expected:
            raise DataFormatError(
                source,
                f"expected {expected:,} {what} in {release.title}, found {found:,}."
                + _other_release(data, release),
            )
    if release.layout == "ml-100k" and not np.array_equal(
        data.items.index, np.arange(1, counts.items + 1)
    ):
        raise DataFormatError(source, f"item ids are not exactly 1..{counts.items}.")
    if data.users is not None and not np.array_equal(
        data.users.index, np.arange(1, counts.users + 1)
    ):
        raise DataFormatError(source, f"user ids are not exactly 1..{counts.users}.")
    for column, table, what in (("user_id", data.users, "users"), ("item_id", data.items, "films")):
        if table is None:
            continue
        unknown = ~np.isin(data.ratings[column].to_numpy(), table.index.to_numpy())
        if unknown.any():
            first = data.ratings[column].to_numpy()[unknown][0]
            raise DataFormatError(
                source,
                f"{int(unknown.sum()):,} ratings refer to {what} missing from the {what} file "
                f"(the first: {column} {first}).",
            )
    if release.ratings_sha256 is not None:
        digest = ratings_checksum(data.ratings)
        if digest != release.ratings_sha256:
            raise DataFormatError(
                source,
                f"the ratings' SHA-256 is {digest}, expected {release.ratings_sha256}: "
                f"the files are not the original {release.title} (edited, reordered or truncated).",
            )


def _other_release(data: MovieLens, release: MovieLensRelease) -> str:
    other = release_by_ratings_count(len(data.ratings))
    if other is not None and f"({release.name})" not in other:
        name = re.search(r"\((ml-[^)]+)\)", other)
        load = (
            f" load it with load_movielens('{name.group(1)}', data_dir=...)"
            if name
            else " it cannot be loaded"
        )
        return f" These are the counts of {other}:{load}."
    if not release.stable:
        return (
            f" GroupLens regenerates {release.name} from time to time; this loader knows "
            "the edition "
            f"of the README it was written from."
        )
    return ""


def verify_movielens_100k(data: MovieLens) -> None:
    """Check that loaded tables are exactly MovieLens 100K (see :func:`verify_movielens`)."""
    verify_movielens(data, RELEASES["ml-100k"])

"""Tiny MovieLens releases in their exact official layouts, written at test time.

MovieLens may not be redistributed and only ML-100K can be fetched here, so
each release's loader is tested on a few lines written with the official file
names, folder names, separators, headers, quoting and encodings (ML-1M's
``movies.dat`` and ML-100K's ``u.item`` in Latin-1, the CSV releases in UTF-8
with quoted titles), holding the quirks of the real files: non-ASCII titles,
titles with commas and colons, a title without a year, half stars, a film
nobody rated, "(no genres listed)", an empty ``tmdbId``, a tag with a comma.

:func:`write_release` writes one release and returns a :class:`Fixture`: its
folder, the tables a loader must return, and a
:class:`~recsys_ref.data.MovieLensRelease` with the fixture's counts, which
the loader verifies exactly as it verifies the published ones.
:func:`zip_release` zips it as GroupLens does (one top folder), for the
download path, whose checksum is then the fixture zip's MD5.

Run it to see every loader on its fixture::

    .venv/bin/python tests/data/movielens_fixtures.py [FOLDER]
"""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from recsys_ref.data import RELEASES, Counts, MovieLensRelease

#: (film id, title as in the files, genres as in the files); ML-100K renumbers them 1..5.
FILMS = (
    (1, "Toy Story (1995)", "Animation|Children's|Comedy"),
    (2, "Café au lait (1993)", "Comedy"),
    (5, "American President, The (1995)", "Comedy|Drama|Romance"),
    (32, "Babylon 5", "Sci-Fi"),
    (260, "Star Wars: Episode IV - A New Hope (1977)", "Action|Adventure|Sci-Fi"),
    (999, "Pull My Daisy (1958)", "(no genres listed)"),  # nobody rated it
)

#: (user, film, stars, timestamp), in the official order (by user, then film).
RATINGS = (
    (1, 1, 4.0, 964982703), (1, 5, 3.5, 964981247), (1, 260, 5.0, 964982224),
    (2, 1, 0.5, 1445714835), (2, 2, 4.0, 1445714952),
    (3, 32, 2.5, 1306463578), (3, 260, 4.5, 1306464010),
    (4, 1, 3.0, 986848920), (4, 5, 1.0, 986849078),
)  # fmt: skip

#: (user, film, tag, timestamp): a comma (quoted in CSV) and a colon (beside "::" in .dat).
TAGS = (
    (1, 260, "classic", 1445714994), (2, 2, "funny, sad", 1445715054),
    (3, 260, "sci-fi: space opera", 1306463600), (4, 1, "Pixar", 986849100),
)  # fmt: skip

#: (film, imdbId as written, tmdbId as written; empty = unknown)
LINKS = {
    1: ("0114709", "862"),
    2: ("0106753", ""),
    5: ("0112346", "9087"),
    32: ("0105946", "1399"),
    260: ("0076759", "11"),
    999: ("0053181", "56958"),
}

GENOME_TAGS = ((1, "007"), (2, "classic"))
GENOME_FILMS = (1, 260)

#: ML-1M users: (user, gender, age-group code, occupation code, zip code)
ML1M_USERS = (
    (1, "F", 1, 10, "48067"),
    (2, "M", 56, 16, "70072"),
    (3, "M", 25, 15, "55117"),
    (4, "F", 45, 7, "02460"),
)
#: ML-100K users: (user, age, gender, occupation, zip code)
ML100K_USERS = (
    (1, 24, "M", "technician", "85711"),
    (2, 53, "F", "other", "94043"),
    (3, 23, "M", "writer", "T8H1N"),
    (4, 33, "F", "other", "15213"),
)

ML100K_GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
    "Romance", "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip


@dataclass(frozen=True)
class Fixture:
    """A release written at test time.

    Attributes:
        release: The release, with the fixture's counts (and no ratings checksum).
        folder: The release's folder (named as the official zip names it).
        ratings: The ratings a loader must return.
        titles: item_id -> title (year removed), as a loader must return them.
        years: item_id -> release year (``None`` when the title has none).
        genres: item_id -> tuple of genre names.
    """

    release: MovieLensRelease
    folder: Path
    ratings: pd.DataFrame
    titles: dict[int, str]
    years: dict[int, int | None]
    genres: dict[int, tuple[str, ...]]


def _stars(value: float, half_stars: bool) -> float:
    return value if half_stars else float(np.ceil(value))


def _write(path: Path, lines: list[str], *, encoding: str, crlf: bool, bom: bool) -> None:
    text = "".join(line + ("\r\n" if crlf else "\n") for line in lines)
    data = text.encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)


def _csv_field(text: str) -> str:
    return f'"{text}"' if "," in text or '"' in text else text


def write_release(
    name: str, root: Path, *, crlf: bool = False, bom: bool = False, encoding: str | None = None
) -> Fixture:
    """Write release ``name``'s tiny fixture into ``root/<official folder>``.

    Args:
        name: A release in :data:`~recsys_ref.data.RELEASES`.
        root: Where the release's folder goes.
        crlf: Windows line endings in every file.
        bom: A UTF-8 byte-order mark at the start of every file.
        encoding: Encode the text files that have titles or tags with this
            instead of the official encoding (to test re-saved copies).
    """
    official = RELEASES[name]
    folder = root / official.folder
    folder.mkdir(parents=True, exist_ok=True)
    half = official.half_stars
    ratings = [(u, i, _stars(r, half), t) for u, i, r, t in RATINGS]
    films = list(FILMS)
    if official.layout == "ml-100k":  # ML-100K numbers its films 1..n
        renumber = {film: k for k, (film, _, _) in enumerate(FILMS[:5], start=1)}
        films = [(renumber[f], t, g) for f, t, g in FILMS[:5]]
        ratings = [(u, renumber[i], r, t) for u, i, r, t in ratings]
    options = {"crlf": crlf, "bom": bom}
    counts = {"ratings": len(ratings), "users": len({u for u, *_ in ratings}), "items": len(films)}

    if official.layout == "ml-100k":
        _write(
            folder / "u.data",
            [f"{u}\t{i}\t{r:.0f}\t{t}" for u, i, r, t in ratings],
            encoding="ascii",
            **options,
        )
        _write(
            folder / "u.user",
            ["|".join(map(str, row)) for row in ML100K_USERS],
            encoding="ascii",
            **options,
        )
        items = []
        for film, title, genres in films:
            year = title[-5:-1] if title.endswith(")") else ""
            date = f"01-Jan-{year}" if year else ""
            flags = "|".join("1" if g in genres.split("|") else "0" for g in ML100K_GENRES)
            items.append(f"{film}|{title}|{date}||http://us.imdb.com/M/title-exact?{film}|{flags}")
        _write(folder / "u.item", items, encoding=encoding or "latin-1", **options)
        _write(
            folder / "u.genre",
            [f"{g}|{k}" for k, g in enumerate(ML100K_GENRES)],
            encoding="ascii",
            **options,
        )
        _write(
            folder / "README", ["SUMMARY & USAGE LICENSE (a fixture)"], encoding="ascii", **options
        )
    elif official.layout == "dat":
        rating_text = (lambda r: f"{r:g}") if half else (lambda r: f"{r:.0f}")
        _write(
            folder / "ratings.dat",
            [f"{u}::{i}::{rating_text(r)}::{t}" for u, i, r, t in ratings],
            encoding="ascii",
            **options,
        )
        genre_text = (
            (lambda g: g)
            if name == "ml-10m"
            else (lambda g: g.replace("(no genres listed)", "Documentary"))
        )
        _write(
            folder / "movies.dat",
            [f"{f}::{t}::{genre_text(g)}" for f, t, g in films],
            encoding=encoding or ("latin-1" if name == "ml-1m" else "utf-8"),
            **options,
        )
        if official.has_users:
            _write(
                folder / "users.dat",
                ["::".join(map(str, row)) for row in ML1M_USERS],
                encoding="ascii",
                **options,
            )
            _write(folder / "README", ["SUMMARY (a fixture)"], encoding="ascii", **options)
        else:
            _write(
                folder / "tags.dat",
                [f"{u}::{i}::{tag}::{t}" for u, i, tag, t in TAGS],
                encoding=encoding or "utf-8",
                **options,
            )
            _write(
                folder / "README.html",
                ["<html><body>MovieLens 10M (a fixture)</body></html>"],
                encoding="ascii",
                **options,
            )
            counts["tags"] = len(TAGS)
        if not official.has_users:
            counts["users"] = len({u for u, *_ in ratings})
    else:
        text = encoding or "utf-8"
        _write(
            folder / "ratings.csv",
            ["userId,movieId,rating,timestamp"]
            + [f"{u},{i},{r:.1f},{t}" for u, i, r, t in ratings],
            encoding="ascii",
            **options,
        )
        _write(
            folder / "movies.csv",
            ["movieId,title,genres"] + [f"{f},{_csv_field(t)},{g}" for f, t, g in films],
            encoding=text,
            **options,
        )
        _write(
            folder / "tags.csv",
            ["userId,movieId,tag,timestamp"]
            + [f"{u},{i},{_csv_field(tag)},{t}" for u, i, tag, t in TAGS],
            encoding=text,
            **options,
        )
        _write(
            folder / "links.csv",
            ["movieId,imdbId,tmdbId"] + [f"{f},{LINKS[f][0]},{LINKS[f][1]}" for f, *_ in films],
            encoding="ascii",
            **options,
        )
        _write(folder / "README.txt", [f"Summary: {name} (a fixture)"], encoding="ascii", **options)
        counts.update(tags=len(TAGS), links=len(films))
        if official.genome_files:
            scores = [
                f"{f},{tag},{0.025 + 0.5 * k / len(GENOME_FILMS):.5f}"
                for k, f in enumerate(GENOME_FILMS)
                for tag, _ in GENOME_TAGS
            ]
            _write(
                folder / "genome-scores.csv",
                ["movieId,tagId,relevance", *scores],
                encoding="ascii",
                **options,
            )
            _write(
                folder / "genome-tags.csv",
                ["tagId,tag"] + [f"{t},{n}" for t, n in GENOME_TAGS],
                encoding="ascii",
                **options,
            )
            counts.update(genome_tags=len(GENOME_TAGS), genome_scores=len(scores))

    release = dataclasses.replace(official, counts=Counts(**counts), ratings_sha256=None)
    frame = pd.DataFrame(ratings, columns=["user_id", "item_id", "rating", "timestamp"])
    frame = frame.astype({"user_id": np.int64, "item_id": np.int64, "timestamp": np.int64})
    frame["rating"] = frame["rating"].astype(np.float64 if half else np.int64)
    titles = {
        f: t.rsplit(" (", 1)[0] if t.endswith(")") and t[-5:-1].isdigit() else t
        for f, t, _ in films
    }
    years = {
        f: int(t[-5:-1]) if t.endswith(")") and t[-5:-1].isdigit() else None for f, t, _ in films
    }
    genres = {}
    for f, _, g in films:
        if official.layout == "dat" and name == "ml-1m":
            g = g.replace("(no genres listed)", "Documentary")
        genres[f] = () if g == "(no genres listed)" else tuple(g.split("|"))
    return Fixture(release, folder, frame, titles, years, genres)


def zip_release(fixture: Fixture, path: Path) -> Path:
    """Zip the fixture as GroupLens does (one top folder); set ``release.known_hash`` to its MD5 with
    :func:`with_zip_checksum`."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(fixture.folder.iterdir()):
            archive.write(file, f"{fixture.folder.name}/{file.name}")
    return path


def with_zip_checksum(fixture: Fixture, zip_path: Path) -> MovieLensRelease:
    """The fixture's release, with ``known_hash`` the MD5 of ``zip_path``."""
    return dataclasses.replace(
        fixture.release, known_hash="md5:" + hashlib.md5(zip_path.read_bytes()).hexdigest()
    )


def serve(files: dict[str, Path]):
    """A pooch downloader that copies ``files[url]`` instead of fetching ``url``."""

    def download(url: str, output_file, pooch, **_) -> None:
        if url not in files:
            raise OSError(f"no route to {url} (offline test)")
        shutil.copyfile(files[url], output_file)

    return download


def main(argv: list[str]) -> None:
    """Write every release's fixture, and load each from its folder and through the download path."""
    import functools

    from recsys_ref.data import Source, fetch_grouplens, load_movielens
    from recsys_ref.data.__main__ import summary

    root = Path(argv[0]) if argv else Path(tempfile.mkdtemp(prefix="movielens-fixtures-"))
    for name in RELEASES:
        fixture = write_release(name, root / "folders")
        files = ", ".join(sorted(p.name for p in fixture.folder.iterdir()))
        print(f"{name}: {fixture.folder} ({files})")
        data = load_movielens(
            fixture.release, data_dir=fixture.folder, genome=bool(fixture.release.genome_files)
        )
        print("  folder:   " + summary(data))
        archive = zip_release(fixture, root / fixture.release.zip_name)
        release = with_zip_checksum(fixture, archive)
        source = Source(
            "the fixture zip",
            functools.partial(fetch_grouplens, downloader=serve({release.url: archive})),
        )
        data = load_movielens(release, data_home=root / "cache", sources=(source,), report=None)
        print(f"  download: {summary(data)} [{release.zip_name} {release.known_hash}]")
        first = data.items.iloc[:3]
        print(
            "  items:    "
            + "; ".join(
                f"{i}: {r.title} ({r.release_year}) {'|'.join(r.genres)}"
                for i, r in first.iterrows()
            )
        )


if __name__ == "__main__":
    main(sys.argv[1:])

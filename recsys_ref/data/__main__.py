"""``python -m recsys_ref.data [RELEASE] [--data-dir DIR]``: find or fetch, verify and cache a
MovieLens release (default ``ml-100k``), then summarise it."""

from __future__ import annotations

import argparse

from recsys_ref.data import RELEASES, DataFormatError, load_movielens
from recsys_ref.data.movielens import MovieLens


def summary(data: MovieLens) -> str:
    """One line: the release, its counts, density and where it was read from."""
    release = RELEASES[data.release]
    density = len(data.ratings) / (data.n_users * data.n_items)
    extras = [
        f"{len(table):,} {name}"
        for name, table in (
            ("tags", data.tags),
            ("links", data.links),
            ("genome scores", data.genome_scores),
        )
        if table is not None
    ]
    return (
        f"{release.title} OK: {len(data.ratings):,} ratings "
        f"({data.ratings['rating'].min():g}..{data.ratings['rating'].max():g}), "
        f"{data.n_users:,} users, "
        f"{data.n_items:,} items, density {density:.1%}"
        + "".join(f", {e}" for e in extras)
        + f" (from {data.source})"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m recsys_ref.data", description=__doc__)
    parser.add_argument("release", nargs="?", default="ml-100k", choices=list(RELEASES))
    parser.add_argument(
        "--data-dir", help="a folder or zip holding the release (then the only source)"
    )
    parser.add_argument("--data-home", help="the cache folder")
    parser.add_argument("--no-download", action="store_true", help="fail rather than download")
    parser.add_argument(
        "--genome", action="store_true", help="also read the tag genome (ml-20m, ml-25m)"
    )
    args = parser.parse_args(argv)
    try:
        data = load_movielens(
            args.release,
            data_dir=args.data_dir,
            data_home=args.data_home,
            download_if_missing=not args.no_download,
            genome=args.genome,
        )
    except (DataFormatError, FileNotFoundError) as error:
        parser.exit(1, f"{parser.prog}: {error}\n")
    print(summary(data))


if __name__ == "__main__":
    main()

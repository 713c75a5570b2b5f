"""The MovieLens releases: where each comes from, how its files are laid out, what it holds.

Every fact about a release lives here once: the official zip's URL and MD5
(the pooch registry), the folder the zip unpacks to, the file layout, the
rating scale and the published counts that a load is verified against.

=================  ==========  ==========  =======  ==========  ===============================
release            ratings     users       films    scale       files (layout)
=================  ==========  ==========  =======  ==========  ===============================
``ml-100k``        100,000     943         1,682    1..5        ``u.data`` (tab), ``u.user``,
                                                                ``u.item`` (``|``, Latin-1)
``ml-1m``          1,000,209   6,040       3,883    1..5        ``ratings.dat``, ``users.dat``,
                                                                ``movies.dat`` (``::``, Latin-1)
``ml-10m``         10,000,054  69,878      10,681   0.5..5      ``ratings.dat``, ``tags.dat``,
                                                                ``movies.dat`` (``::``)
``ml-20m``         20,000,263  138,493     27,278   0.5..5      ``ratings.csv``, ``movies.csv``,
                                                                ``tags.csv``, ``links.csv``,
                                                                ``genome-*.csv`` (UTF-8 CSV)
``ml-25m``         25,000,095  162,541     62,423   0.5..5      as ``ml-20m``
``ml-latest-small``  100,836   610         9,742    0.5..5      as ``ml-20m``, without genome
=================  ==========  ==========  =======  ==========  ===============================

"users" counts the users who rated (every listed user rated at least 20
films); "films" counts the rows of the films file, some of which nobody
rated in ML-1M. ML-10M's README says "71567 users": that counts user ids
up to the largest, of which 69,878 rated.

Source: F. Maxwell Harper and Joseph A. Konstan. 2015. The MovieLens
Datasets: History and Context. ACM Transactions on Interactive Intelligent
Systems 5, 4, Article 19. https://doi.org/10.1145/2827872 . The counts are
those of the READMEs shipped in each zip.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

#: Where GroupLens serves every release.
BASE_URL = "https://files.grouplens.org/datasets/movielens/"

CITATION = (
    "F. Maxwell Harper and Joseph A. Konstan. 2015. The MovieLens Datasets: History and Context. "
    "ACM Transactions on Interactive Intelligent Systems 5, 4, Article 19. "
    "https://doi.org/10.1145/2827872"
)

Layout = Literal["ml-100k", "dat", "csv"]


@dataclass(frozen=True)
class Counts:
    """The sizes a release is verified against (``None``: the release has no such table).

    Attributes:
        ratings: Rows of the ratings file.
        users: Distinct users in the ratings (and rows of the users file, when there is one).
        items: Rows of the films file.
        tags: Rows of the free-text tags file.
        links: Rows of ``links.csv`` (one per film).
        genome_tags: Rows of ``genome-tags.csv``.
        genome_scores: Rows of ``genome-scores.csv`` (every genome film x every genome tag).
    """

    ratings: int
    users: int
    items: int
    tags: int | None = None
    links: int | None = None
    genome_tags: int | None = None
    genome_scores: int | None = None


@dataclass(frozen=True)
class MovieLensRelease:
    """One MovieLens release: its origin, layout and published counts.

    Attributes:
        name: The short name used by GroupLens and by :func:`~recsys_ref.data.load_movielens`
            (``"ml-1m"``).
        title: The name people say ("MovieLens 1M").
        zip_name: The official zip's file name.
        url: Where GroupLens serves the zip.
        known_hash: ``"md5:<hex>"`` of the zip (the one GroupLens publishes beside
            it as ``<zip>.md5``), or ``None`` when no fixed checksum is known; the
            published ``.md5`` is then fetched and checked at download time.
        folder: The folder the zip unpacks to (``"ml-10M100K"`` for ``ml-10m``).
        layout: ``"ml-100k"`` (``u.data``, ``u.user``, ``u.item``), ``"dat"``
            (``::``-separated ``.dat`` files, no header) or ``"csv"``
            (UTF-8 CSV with a header).
        files: The files a folder must hold to be this release (the genome
            files are optional: read on request).
        half_stars: Ratings go from 0.5 to 5 in steps of 0.5 (else whole stars 1..5).
        has_users: The release has a users file (age, gender, occupation, zip code).
        counts: The published sizes, verified on every load.
        ratings_sha256: SHA-256 of the ratings as loaded (see
            :func:`~recsys_ref.data.ratings_checksum`), when known; only ML-100K's is.
        stable: ``False`` for a "latest" release, which GroupLens regenerates
            from time to time (its counts are those of one edition).
    """

    name: str
    title: str
    zip_name: str
    url: str
    known_hash: str | None
    folder: str
    layout: Layout
    files: tuple[str, ...]
    half_stars: bool
    has_users: bool
    counts: Counts
    ratings_sha256: str | None = None
    stable: bool = True

    @property
    def rating_range(self) -> tuple[float, float]:
        """The lowest and highest rating: ``(0.5, 5.0)`` with half stars, else ``(1, 5)``."""
        return (0.5, 5.0) if self.half_stars else (1, 5)

    @property
    def genome_files(self) -> tuple[str, ...]:
        """``genome-scores.csv`` and ``genome-tags.csv`` for releases that have them."""
        return ("genome-scores.csv", "genome-tags.csv") if self.counts.genome_tags else ()


def _release(
    name: str,
    title: str,
    folder: str,
    layout: Layout,
    files: tuple[str, ...],
    known_hash: str | None,
    **kw,
) -> MovieLensRelease:
    zip_name = f"{name}.zip"
    return MovieLensRelease(
        name=name,
        title=title,
        zip_name=zip_name,
        url=BASE_URL + zip_name,
        known_hash=known_hash,
        folder=folder,
        layout=layout,
        files=files,
        **kw,
    )


_CSV_FILES = ("ratings.csv", "movies.csv", "tags.csv", "links.csv")

#: Every supported release by name; ML-100K, the course's data set, first.
RELEASES: Mapping[str, MovieLensRelease] = MappingProxyType(
    {
        r.name: r
        for r in (
            _release(
                "ml-100k",
                "MovieLens 100K",
                "ml-100k",
                "ml-100k",
                ("u.data", "u.user", "u.item"),
                "md5:0e33842e24a9c977be4e0107933c0723",
                half_stars=False,
                has_users=True,
                counts=Counts(ratings=100_000, users=943, items=1_682),
                ratings_sha256="d0366dc73dcd6c6620782fc3436fc07a4a003fe17c863aee0829c53db6a8f574",
            ),
            _release(
                "ml-1m",
                "MovieLens 1M",
                "ml-1m",
                "dat",
                ("ratings.dat", "users.dat", "movies.dat"),
                "md5:c4d9eecfca2ab87c1945afe126590906",
                half_stars=False,
                has_users=True,
                counts=Counts(ratings=1_000_209, users=6_040, items=3_883),
            ),
            _release(
                "ml-10m",
                "MovieLens 10M",
                "ml-10M100K",
                "dat",
                ("ratings.dat", "movies.dat", "tags.dat"),
                "md5:ce571fd55effeba0271552578f2648bd",
                half_stars=True,
                has_users=False,
                counts=Counts(ratings=10_000_054, users=69_878, items=10_681, tags=95_580),
            ),
            _release(
                "ml-20m",
                "MovieLens 20M",
                "ml-20m",
                "csv",
                _CSV_FILES,
                "md5:cd245b17a1ae2cc31bb14903e1204af3",
                half_stars=True,
                has_users=False,
                counts=Counts(
                    ratings=20_000_263,
                    users=138_493,
                    items=27_278,
                    tags=465_564,
                    links=27_278,
                    genome_tags=1_128,
                    genome_scores=11_709_768,
                ),
            ),
            _release(
                "ml-25m",
                "MovieLens 25M",
                "ml-25m",
                "csv",
                _CSV_FILES,
                "md5:6b51fb2759a8657d3bfcbfc42b592ada",
                half_stars=True,
                has_users=False,
                counts=Counts(
                    ratings=25_000_095,
                    users=162_541,
                    items=62_423,
                    tags=1_093_360,
                    links=62_423,
                    genome_tags=1_128,
                    genome_scores=15_584_448,
                ),
            ),
            _release(
                # No fixed checksum: GroupLens regenerates "latest" releases, and we found
                # no published MD5 of the current zip to pin. The loader fetches the
                # ml-latest-small.zip.md5 that GroupLens serves beside the zip and checks that.
                "ml-latest-small",
                "MovieLens Latest Small (September 2018)",
                "ml-latest-small",
                "csv",
                _CSV_FILES,
                None,
                half_stars=True,
                has_users=False,
                stable=False,
                counts=Counts(ratings=100_836, users=610, items=9_742, tags=3_683, links=9_742),
            ),
        )
    }  # fmt: skip
)

#: The pooch registry: official zip name -> checksum (``None``: checked against the
#: ``.md5`` GroupLens publishes beside the zip).
REGISTRY: Mapping[str, str | None] = MappingProxyType(
    {r.zip_name: r.known_hash for r in RELEASES.values()}
)

#: The official URL of every zip in :data:`REGISTRY`.
URLS: Mapping[str, str] = MappingProxyType({r.zip_name: r.url for r in RELEASES.values()})

#: Other editions and releases, recognised only to say what a folder holds
#: (name -> (title, ratings count)). They cannot be loaded.
OTHER_EDITIONS: Mapping[str, tuple[str, int]] = MappingProxyType(
    {
        "ml-latest-small-2016": ("the October 2016 edition of ml-latest-small", 100_004),
        "ml-32m": ("MovieLens 32M (ml-32m)", 32_000_204),
    }
)


def get_release(release: str | MovieLensRelease) -> MovieLensRelease:
    """The :class:`MovieLensRelease` named ``release`` (a release object is returned as is).

    Names are case-insensitive; ``"ml-10M100K"`` (the folder name) means ``"ml-10m"``.

    Raises:
        ValueError: An unknown name; the message lists the known ones.
    """
    if isinstance(release, MovieLensRelease):
        return release
    key = str(release).strip().lower()
    key = {"ml-10m100k": "ml-10m"}.get(key, key)
    if key in RELEASES:
        return RELEASES[key]
    if not key.startswith("ml-") and f"ml-{key}" in RELEASES:
        return RELEASES[f"ml-{key}"]
    raise ValueError(
        f"unknown MovieLens release {release!r}; the releases are {', '.join(RELEASES)}."
    )

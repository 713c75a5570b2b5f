"""Data: every MovieLens release, the original notebook's files, dense tensors, splits,
synthetic data.

Loading MovieLens (Harper & Konstan, 2015, https://doi.org/10.1145/2827872):

- :func:`load_movielens_100k` loads MovieLens 100K, the course's data set,
  as a :class:`MovieLens100K` (``ratings``, ``users``, ``items``).
- :func:`load_movielens` loads any release in :data:`RELEASES` (``ml-100k``
  by default, ``ml-1m``, ``ml-10m``, ``ml-20m``, ``ml-25m``,
  ``ml-latest-small``) into the same :class:`MovieLens` tables.

Both look in ``data_dir`` (a folder or a zip, as people have them), then the
cache, then download the official zip (MD5 checked with pooch), and verify
every file and the release's published counts; bad input raises
:class:`DataFormatError` naming the file, the line and what to do.

The original notebook's files: :func:`read_ratings_csv`,
:func:`read_ratings_matrix_csv` and their writers. Turning ratings into the
notebook's dense tensors: :func:`to_dense`. Splits: :func:`random_split`,
:func:`temporal_split`. Synthetic ratings: :func:`make_synthetic_ratings` (small, with the planted matrix, for tests) and
:func:`sample_synthetic_ratings` (any size, for scale benchmarks).
"""

from recsys_ref.data.dense import MISSING_RATING, DenseRatings, to_dense
from recsys_ref.data.errors import DataFileNotFoundError, DataFormatError
from recsys_ref.data.identify import identify_release
from recsys_ref.data.movielens import (
    SOURCES,
    MovieLens,
    MovieLens100K,
    Source,
    default_data_home,
    fetch_grouplens,
    fetch_recbole_wheel,
    find_release,
    load_movielens,
    load_movielens_100k,
    ratings_checksum,
    read_release,
    verify_movielens,
    verify_movielens_100k,
)
from recsys_ref.data.movielens_files import GENRES
from recsys_ref.data.original_files import (
    ORIGINAL_RATING_COLUMNS,
    ratings_to_matrix,
    read_ratings_csv,
    read_ratings_matrix_csv,
    write_ratings_csv,
    write_ratings_matrix_csv,
)
from recsys_ref.data.releases import (
    CITATION,
    REGISTRY,
    RELEASES,
    Counts,
    MovieLensRelease,
    get_release,
)
from recsys_ref.data.splits import random_split, temporal_split
from recsys_ref.data.synthetic import make_synthetic_ratings, sample_synthetic_ratings

__all__ = [
    "CITATION",
    "GENRES",
    "MISSING_RATING",
    "ORIGINAL_RATING_COLUMNS",
    "REGISTRY",
    "RELEASES",
    "SOURCES",
    "Counts",
    "DataFileNotFoundError",
    "DataFormatError",
    "DenseRatings",
    "MovieLens",
    "MovieLens100K",
    "MovieLensRelease",
    "Source",
    "default_data_home",
    "fetch_grouplens",
    "fetch_recbole_wheel",
    "find_release",
    "get_release",
    "identify_release",
    "load_movielens",
    "load_movielens_100k",
    "make_synthetic_ratings",
    "sample_synthetic_ratings",
    "random_split",
    "ratings_checksum",
    "ratings_to_matrix",
    "read_ratings_csv",
    "read_ratings_matrix_csv",
    "read_release",
    "temporal_split",
    "to_dense",
    "verify_movielens",
    "verify_movielens_100k",
    "write_ratings_csv",
    "write_ratings_matrix_csv",
]

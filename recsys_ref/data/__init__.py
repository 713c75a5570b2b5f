"""Data: MovieLens 100K, the seed notebook's files, dense tensors, splits, synthetic data."""

from recsys_ref.data.dense import MISSING_RATING, DenseRatings, to_dense
from recsys_ref.data.errors import DataFormatError
from recsys_ref.data.movielens import (
    GENRES,
    MovieLens100K,
    default_data_home,
    load_movielens_100k,
    ratings_checksum,
    verify_movielens_100k,
)
from recsys_ref.data.seed_files import (
    ratings_to_matrix,
    read_ratings_csv,
    read_ratings_matrix_csv,
    write_ratings_csv,
    write_ratings_matrix_csv,
)
from recsys_ref.data.splits import random_split, temporal_split
from recsys_ref.data.synthetic import make_synthetic_ratings

__all__ = [
    "GENRES",
    "MISSING_RATING",
    "DataFormatError",
    "DenseRatings",
    "MovieLens100K",
    "default_data_home",
    "load_movielens_100k",
    "make_synthetic_ratings",
    "random_split",
    "ratings_checksum",
    "ratings_to_matrix",
    "read_ratings_csv",
    "read_ratings_matrix_csv",
    "temporal_split",
    "to_dense",
    "verify_movielens_100k",
    "write_ratings_csv",
    "write_ratings_matrix_csv",
]

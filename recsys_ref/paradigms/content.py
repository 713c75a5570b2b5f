"""Content-based recommendation: items described by their genres and release year.

:func:`content_similar_items` finds look-alikes of one item,
:func:`user_profile_recommend` ranks items against a profile of what a user
liked, and :class:`ContentKNN` predicts ratings from the user's ratings of
items with similar content. All three score a pair of items (or a profile and
an item) with one function, :func:`content_scores`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recsys_ref.data import GENRES
from recsys_ref.paradigms._checks import (
    check_columns,
    check_positive_int,
    check_ratings,
    check_year_weighting,
    top,
)
from recsys_ref.paradigms.neighbours import BaselineNeighbourhood


def genre_columns(items: pd.DataFrame) -> list[str]:
    """The columns of :data:`~recsys_ref.data.GENRES` that ``items`` has.

    Raises:
        ValueError: ``items`` has none of them.
    """
    columns = [g for g in GENRES if g in items.columns]
    if not columns:
        raise ValueError("items has none of the genre columns of recsys_ref.data.GENRES.")
    return columns


def content_features(items: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Genre vectors and release years of ``items``, row by row.

    Returns:
        ``(genres, years)``: a ``(len(items), n_genres)`` float array of the
        0/1 genre columns and a ``(len(items),)`` float array of release years
        (NaN where missing).
    """
    genres = items[genre_columns(items)].to_numpy(dtype=float)
    years = pd.to_numeric(items["release_year"], errors="coerce").to_numpy(
        dtype=float, na_value=np.nan
    )
    return genres, years


def content_scores(
    genres_a: np.ndarray,
    years_a: np.ndarray,
    genres_b: np.ndarray,
    years_b: np.ndarray,
    *,
    year_weight: float,
    year_scale: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The content score of every pair of a row of ``a`` and a row of ``b``.

    .. math:: s(i, j) = (1 - w)\\,\\frac{g_i^\\top g_j}{\\lVert g_i\\rVert\\,\\lVert g_j\\rVert}
        + w\\,\\exp\\!\\left(-\\frac{|y_i - y_j|}{\\tau}\\right)

    with genre vectors :math:`g`, release years :math:`y`, year weight
    :math:`w` and year scale :math:`\\tau` (years). A missing year, or a
    genre vector of zeros, contributes 0 to its term. A row may be a
    profile (mean genre vector, mean year) rather than an item.

    Returns:
        ``(genre_similarity, year_similarity, score)``, each ``(len(a), len(b))``.
    """
    norms = np.linalg.norm(genres_a, axis=1)[:, None] * np.linalg.norm(genres_b, axis=1)[None, :]
    genre_similarity = np.divide(
        genres_a @ genres_b.T, norms, out=np.zeros(norms.shape), where=norms > 0
    )
    closeness = np.exp(-np.abs(years_a[:, None] - years_b[None, :]) / year_scale)
    year_similarity = np.nan_to_num(closeness, nan=0.0)
    return (
        genre_similarity,
        year_similarity,
        (1 - year_weight) * genre_similarity + year_weight * year_similarity,
    )


def content_similar_items(
    items: pd.DataFrame,
    item_id: int,
    *,
    k: int = 10,
    year_weight: float = 0.3,
    year_scale: float = 10.0,
) -> pd.DataFrame:
    """Items most like ``item_id`` in content: genres and release year. No ratings are used.

    Each item :math:`j` is described by its genre vector
    :math:`g_j \\in \\{0, 1\\}^{19}` and release year :math:`y_j`. The score
    mixes the cosine similarity of genres with the closeness of years:

    .. math:: s(i, j) = (1 - w)\\,\\frac{g_i^\\top g_j}{\\lVert g_i\\rVert\\,\\lVert g_j\\rVert}
        + w\\,\\exp\\!\\left(-\\frac{|y_i - y_j|}{\\tau}\\right)

    with year weight :math:`w` and year scale :math:`\\tau` (years). A missing
    year, or an item without genres, contributes 0 to its term.

    Args:
        items: Indexed by ``item_id``, with the 0/1 genre columns and ``release_year``.
        item_id: The item to find look-alikes of.
        k: How many items.
        year_weight: :math:`w` in [0, 1].
        year_scale: :math:`\\tau` > 0, in years.

    Returns:
        ``item_id``, ``genre_similarity``, ``year_similarity``, ``score``; best first.

    Raises:
        ValueError: ``item_id`` is not in ``items``, or an argument is out of range.
    """
    check_positive_int(k, "k")
    check_year_weighting(year_weight, year_scale)
    check_columns(items, ("release_year",), "items")
    if item_id not in items.index:
        raise ValueError(f"item_id {item_id!r} is not in items.")
    genres, years = content_features(items)
    row = items.index.get_loc(item_id)
    genre_similarity, year_similarity, score = content_scores(
        genres, years, genres[[row]], years[[row]], year_weight=year_weight, year_scale=year_scale
    )
    table = pd.DataFrame(
        {
            "item_id": items.index.to_numpy(),
            "genre_similarity": genre_similarity[:, 0],
            "year_similarity": year_similarity[:, 0],
            "score": score[:, 0],
        }
    )
    return top(table[table["item_id"] != item_id], "item_id", k, ["score"])


def user_profile_recommend(
    ratings: pd.DataFrame,
    items: pd.DataFrame,
    user_id: int,
    *,
    k: int = 10,
    like_threshold: int = 4,
    year_weight: float = 0.3,
    year_scale: float = 10.0,
) -> pd.DataFrame:
    """Content-based recommendations for a user, from a profile of the films they liked.

    The user's profile is the mean genre vector :math:`\\bar g_u` and mean
    release year :math:`\\bar y_u` of the items :math:`L_u` they rated at least
    ``like_threshold``. Every item the user has not rated is scored like
    :func:`content_similar_items` scores a pair, with the profile in place of
    item :math:`i`:

    .. math:: s(u, j) = (1 - w)\\,\\frac{\\bar g_u^\\top g_j}{\\lVert \\bar g_u\\rVert\\,\\lVert g_j\\rVert}
        + w\\,\\exp\\!\\left(-\\frac{|\\bar y_u - y_j|}{\\tau}\\right)

    Items nobody has rated yet are scored too: that is content-based
    filtering's answer to the new-item cold start.

    Args:
        ratings: One rating a row.
        items: Indexed by ``item_id``, with the genre columns and ``release_year``.
        user_id: The user to recommend to.
        k: Length of the list.
        like_threshold: Ratings at or above it count as "liked".
        year_weight, year_scale: :math:`w` and :math:`\\tau`, as in :func:`content_similar_items`.

    Returns:
        ``item_id``, ``genre_similarity``, ``year_similarity``, ``score``; best first.

    Raises:
        ValueError: ``user_id`` has no ratings, or liked nothing, or rated items
            missing from ``items``.
    """
    check_ratings(ratings)
    check_positive_int(k, "k")
    check_year_weighting(year_weight, year_scale)
    check_columns(items, ("release_year",), "items")
    mine = ratings[ratings["user_id"] == user_id]
    if mine.empty:
        raise ValueError(f"user_id {user_id!r} has no ratings: there is no profile to build.")
    unknown = sorted(set(mine["item_id"]) - set(items.index))
    if unknown:
        raise ValueError(f"item_id {unknown[0]!r}, rated by user {user_id!r}, is not in items.")
    liked = mine.loc[mine["rating"] >= like_threshold, "item_id"].to_numpy()
    if len(liked) == 0:
        raise ValueError(
            f"user_id {user_id!r} rated nothing {like_threshold} or higher: the profile would be empty."
        )
    genres, years = content_features(items)
    liked_rows = items.index.get_indexer(liked)
    liked_years = years[liked_rows]
    profile_year = np.nanmean(liked_years) if np.isfinite(liked_years).any() else np.nan
    genre_similarity, year_similarity, score = content_scores(
        genres,
        years,
        genres[liked_rows].mean(axis=0, keepdims=True),
        np.array([profile_year]),
        year_weight=year_weight,
        year_scale=year_scale,
    )
    table = pd.DataFrame(
        {
            "item_id": items.index.to_numpy(),
            "genre_similarity": genre_similarity[:, 0],
            "year_similarity": year_similarity[:, 0],
            "score": score[:, 0],
        }
    )
    table = table[~table["item_id"].isin(mine["item_id"])]
    return top(table, "item_id", k, ["score"])


class ContentKNN(BaselineNeighbourhood):
    """Content-based rating prediction: the user's ratings of items with similar content.

    Prediction rule, the baseline-deviation form of :class:`~recsys_ref.paradigms.ItemKNN`
    with a content similarity in place of a rating similarity:

    .. math:: \\hat r_{ui} = b_{ui} + \\frac{\\sum_{j \\in N^k_i(u)} s(i, j)\\,(r_{uj} - b_{uj})}
        {\\sum_{j \\in N^k_i(u)} s(i, j)}

    where :math:`b_{ui} = \\mu + b_u + b_i` is the bias baseline, :math:`s(i, j)`
    the genre-and-year score of :func:`content_similar_items`, and
    :math:`N^k_i(u)` the (at most) :math:`k` items user :math:`u` rated that
    are most similar to :math:`i` in content. The user's profile is their
    deviations from the baseline on the items they rated, read through content
    similarity: a user who rates westerns above their usual level is predicted
    to do so again for a western (Aggarwal 2016, section 4.3, nearest-neighbour
    content-based models). No other user's ratings enter the deviations; they
    only shape the baseline.

    Fallback: an unknown user gets the baseline (:math:`\\mu + b_i`). An item
    without training ratings but present in ``items`` is predicted from its
    content (with :math:`b_i = 0`): content-based filtering's answer to the
    new-item cold start. An item missing from ``items`` gets the baseline.

    Memory: the item-item content scores, an ``(n_items, n_items)`` float32
    matrix (about 0.5 GB for 10,000 items), and the ratings.

    Args:
        items: Indexed by ``item_id``, with the 0/1 genre columns of
            :data:`~recsys_ref.data.GENRES` and ``release_year``.
        k: Neighbourhood size; default 40.
        min_k: Least number of neighbours with a positive score; default 1.
        year_weight, year_scale: :math:`w` and :math:`\\tau` of
            :func:`content_scores`; defaults 0.3 and 10 years.
        user_reg, item_reg, n_sweeps: The baseline's settings (defaults 15, 10, 10).
        rating_range: ``(low, high)`` for clipping; default ``(1.0, 5.0)``.
        block_size: Items whose scores are computed at once when fitting.

    Attributes (set by :meth:`fit`):
        baseline: The fitted :class:`~recsys_ref.baselines.BiasBaseline`.
        similarity_matrix: ``(n, n)`` float32 :math:`s(i, j)` for the items up to the
            largest id in ``items`` or the ratings (0 on the diagonal).
        genres, years: Content of the items, row ``id - 1`` for item ``id``
            (zeros and NaN for ids not in ``items``).
        has_content: Boolean, entry ``id - 1``: item ``id`` is in ``items``.
    """

    def __init__(
        self,
        items: pd.DataFrame,
        *,
        k: int = 40,
        min_k: int = 1,
        year_weight: float = 0.3,
        year_scale: float = 10.0,
        user_reg: float = 15.0,
        item_reg: float = 10.0,
        n_sweeps: int = 10,
        rating_range: tuple[float, float] | None = (1.0, 5.0),
        block_size: int = 1024,
    ) -> None:
        super().__init__(
            k=k,
            min_k=min_k,
            user_reg=user_reg,
            item_reg=item_reg,
            n_sweeps=n_sweeps,
            rating_range=rating_range,
        )
        check_year_weighting(year_weight, year_scale)
        check_positive_int(block_size, "block_size")
        self.block_size = block_size
        check_columns(items, ("release_year",), "items")
        genre_columns(items)
        self.items = items
        self.year_weight = year_weight
        self.year_scale = year_scale

    def _fit(
        self, users: np.ndarray, items: np.ndarray, ratings: np.ndarray, frame: pd.DataFrame
    ) -> None:
        self._fit_baseline(users, items, ratings, frame)
        ids = self.items.index.to_numpy()
        if len(ids) and (ids.dtype.kind not in "iu" or ids.min() < 1):
            raise ValueError("ContentKNN: items must be indexed by item_id, whole numbers >= 1.")
        n_rows = max(self.n_items, int(ids.max()) if len(ids) else 0)
        genres, years = content_features(self.items)
        self.genres = np.zeros((n_rows, genres.shape[1]))
        self.years = np.full(n_rows, np.nan)
        self.has_content = np.zeros(n_rows, dtype=bool)
        self.genres[ids - 1], self.years[ids - 1], self.has_content[ids - 1] = genres, years, True
        lacking = self.known_items & ~self.has_content[: self.n_items]
        if lacking.any():
            raise ValueError(
                f"ContentKNN.fit: item_id {int(np.argmax(lacking)) + 1} has ratings but is not in items."
            )

        self.similarity_matrix = np.zeros((n_rows, n_rows), dtype=np.float32)
        for start in range(0, n_rows, self.block_size):
            block = slice(start, start + self.block_size)
            self.similarity_matrix[block] = content_scores(
                self.genres[block],
                self.years[block],
                self.genres,
                self.years,
                year_weight=self.year_weight,
                year_scale=self.year_scale,
            )[2]
        # An item is not its own neighbour: predicting a rating must not read that rating.
        np.fill_diagonal(self.similarity_matrix, 0.0)

    def _similarities(self, targets: np.ndarray, rated: np.ndarray) -> np.ndarray:
        return self.similarity_matrix[np.ix_(targets, rated)].astype(np.float64)

    def _comparable(self, items: np.ndarray) -> np.ndarray:
        return self._known(items, self.has_content)

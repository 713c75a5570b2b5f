"""Small recommenders for the four paradigms of the book's chapter "Four paradigms of recommendation".

One or two functions per paradigm, each a plain function of pandas frames with
the column names of :mod:`recsys_ref.data` (``ratings``: ``user_id``,
``item_id``, ``rating``, ``timestamp``; ``items`` indexed by ``item_id`` with
one 0/1 column per genre in :data:`~recsys_ref.data.GENRES` and
``release_year``; ``users`` indexed by ``user_id`` with ``age``, ``gender``,
``occupation``). Every function returns a new frame, best first, ties broken
by id, so results are deterministic; nothing is random and nothing is cached.

=========================  ====================================================
Non-personalised baseline  :func:`popular_items`, :func:`damped_item_means`
Collaborative filtering    :func:`item_item_neighbours` (Sarwar et al. 2001)
Content-based              :func:`content_similar_items`, :func:`user_profile_recommend`
Social (stand-in)          :func:`taste_neighbours` + :func:`recommend_from_peers`
Demographic                :func:`demographic_peers`, :func:`demographic_recommend`
Contextual (time)          :func:`recency_popular_items`
=========================  ====================================================

Notation: :math:`r_{ui}` is user :math:`u`'s rating of item :math:`i`,
:math:`U_i` the users who rated item :math:`i`, :math:`I_u` the items user
:math:`u` rated, :math:`\\bar r_u` user :math:`u`'s mean rating and
:math:`\\mu` the mean of all ratings.

MovieLens 100K has no social graph (nobody's friends are known), so the
"social" functions here work with any set of users passed in as the friends;
the book feeds them *taste neighbours*, users whose past ratings resemble the
target user's, and says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import numpy as np
import pandas as pd
import scipy.sparse as sp

SECONDS_PER_DAY = 86_400

_RATING_COLUMNS = ("user_id", "item_id", "rating")


# --- input checks -------------------------------------------------------------


def _check_columns(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} lacks the column(s) {', '.join(map(repr, missing))}.")


def _check_ratings(ratings: pd.DataFrame, extra: tuple[str, ...] = ()) -> None:
    _check_columns(ratings, _RATING_COLUMNS + extra, "ratings")
    if len(ratings) == 0:
        raise ValueError("ratings is empty: there is nothing to recommend from.")


def _check_positive_int(value: int, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a whole number >= 1, got {value!r}.")


def _check_non_negative(value: float, name: str) -> None:
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}.")


def _top(frame: pd.DataFrame, id_column: str, k: int, by: list[str]) -> pd.DataFrame:
    """The ``k`` best rows: descending by each column of ``by``, then ascending id; a fresh 0..k-1 index."""
    order = frame.sort_values(
        by + [id_column], ascending=[False] * len(by) + [True], kind="mergesort"
    )
    return order.head(k).reset_index(drop=True)


# --- non-personalised baseline -------------------------------------------------


def damped_item_means(
    ratings: pd.DataFrame, *, damping: float = 10.0, prior: float | None = None
) -> pd.DataFrame:
    """Each item's number of ratings, mean rating and damped mean rating.

    The damped (Bayesian) mean adds :math:`m` pseudo-ratings equal to the
    prior :math:`\\mu`:

    .. math:: s_i = \\frac{\\sum_{u \\in U_i} r_{ui} + m\\,\\mu}{|U_i| + m}

    so an item rated once with 5 stars scores close to :math:`\\mu`, while an
    item with hundreds of ratings keeps (nearly) its own mean.

    Args:
        ratings: One rating a row (``user_id``, ``item_id``, ``rating``).
        damping: :math:`m` >= 0, the number of pseudo-ratings; 0 gives the plain mean.
        prior: :math:`\\mu`; default: the mean of all ``ratings``.

    Returns:
        A frame indexed by ``item_id`` (ascending) with ``n_ratings``,
        ``mean_rating`` and ``score`` (the damped mean).
    """
    _check_ratings(ratings)
    _check_non_negative(damping, "damping")
    mu = float(ratings["rating"].mean()) if prior is None else float(prior)
    grouped = ratings.groupby("item_id")["rating"].agg(["sum", "count"])
    n = grouped["count"].astype(np.int64)
    return pd.DataFrame(
        {
            "n_ratings": n,
            "mean_rating": grouped["sum"] / n,
            "score": (grouped["sum"] + damping * mu) / (n + damping),
        }
    ).rename_axis("item_id")


def popular_items(
    ratings: pd.DataFrame,
    *,
    k: int = 10,
    damping: float = 10.0,
    min_ratings: int = 1,
    exclude_items: Iterable[int] = (),
) -> pd.DataFrame:
    """The non-personalised baseline: the ``k`` items with the highest damped mean rating.

    Everyone gets the same list (minus ``exclude_items``, e.g. what the user
    has already rated). See :func:`damped_item_means` for the score.

    Args:
        ratings: One rating a row.
        k: Length of the list.
        damping: :math:`m`, pseudo-ratings at the global mean.
        min_ratings: Items with fewer ratings are left out.
        exclude_items: Item ids never to recommend.

    Returns:
        ``item_id``, ``n_ratings``, ``mean_rating``, ``score``; best first.
    """
    _check_positive_int(k, "k")
    _check_positive_int(min_ratings, "min_ratings")
    table = damped_item_means(ratings, damping=damping).reset_index()
    keep = (table["n_ratings"] >= min_ratings) & ~table["item_id"].isin(list(exclude_items))
    return _top(table[keep], "item_id", k, ["score", "n_ratings"])


# --- collaborative filtering ----------------------------------------------------


def _centred_cosine(
    rows: np.ndarray, cols: np.ndarray, centred: np.ndarray, n_rows: int, n_cols: int, target: int
) -> tuple[np.ndarray, np.ndarray]:
    """Cosine between column ``target`` and every column, over the rows both have values in.

    The matrix is given as coordinates ``(rows, cols)`` with values ``centred``.
    Returns ``(similarity, n_common)`` for every column; the similarity is 0
    where it is undefined (no common row, or all centred values 0).
    """
    values = sp.csc_matrix((centred, (rows, cols)), shape=(n_rows, n_cols))
    squares = sp.csc_matrix((centred**2, (rows, cols)), shape=(n_rows, n_cols))
    present = sp.csc_matrix((np.ones_like(centred), (rows, cols)), shape=(n_rows, n_cols))
    target_values = values[:, [target]].toarray().ravel()
    target_present = present[:, [target]].toarray().ravel()
    numerator = values.T @ target_values  # sum over common rows of x_j * x_target
    own_norm = squares.T @ target_present  # sum over common rows of x_j^2
    target_norm = present.T @ target_values**2  # sum over common rows of x_target^2
    n_common = np.rint(present.T @ target_present).astype(np.int64)
    denominator = np.sqrt(own_norm * target_norm)
    similarity = np.divide(
        numerator, denominator, out=np.zeros(n_cols), where=denominator > 1e-12
    )
    return np.clip(similarity, -1.0, 1.0), n_common


def _shrink(similarity: np.ndarray, n_common: np.ndarray, shrinkage: float) -> np.ndarray:
    """:math:`\\frac{n}{n + \\lambda} \\operatorname{sim}`, and 0 where :math:`n + \\lambda = 0`."""
    total = n_common + shrinkage
    return np.divide(similarity * n_common, total, out=np.zeros(len(similarity)), where=total > 0)


def item_item_neighbours(
    ratings: pd.DataFrame,
    item_id: int,
    *,
    k: int = 10,
    min_common: int = 20,
    shrinkage: float = 100.0,
    method: str = "adjusted_cosine",
) -> pd.DataFrame:
    """The items whose ratings move most like ``item_id``'s: item-based collaborative filtering.

    Sarwar et al. (2001) compare two items :math:`i, j` on the users
    :math:`U_{ij} = U_i \\cap U_j` who rated both. The adjusted cosine
    subtracts each user's mean rating first, so that a generous and a strict
    rater who agree on which film is better count as agreeing:

    .. math:: \\operatorname{sim}(i, j) = \\frac{\\sum_{u \\in U_{ij}} (r_{ui} - \\bar r_u)(r_{uj} - \\bar r_u)}
        {\\sqrt{\\sum_{u \\in U_{ij}} (r_{ui} - \\bar r_u)^2}\\,\\sqrt{\\sum_{u \\in U_{ij}} (r_{uj} - \\bar r_u)^2}}

    (``method="pearson"`` subtracts each item's mean rating instead). A
    similarity computed from a handful of common raters is noisy, so items
    are ranked by the shrunk similarity

    .. math:: s(i, j) = \\frac{|U_{ij}|}{|U_{ij}| + \\lambda}\\,\\operatorname{sim}(i, j)

    with shrinkage :math:`\\lambda` (Koren 2010), and items with fewer than
    ``min_common`` common raters are left out.

    Args:
        ratings: One rating a row (``user_id``, ``item_id``, ``rating``).
        item_id: The item whose neighbours are wanted.
        k: How many neighbours.
        min_common: Least number of common raters :math:`|U_{ij}|` a neighbour needs.
        shrinkage: :math:`\\lambda` >= 0; 0 ranks by the raw similarity.
        method: ``"adjusted_cosine"`` (centre by user mean) or ``"pearson"``
            (centre by item mean).

    Returns:
        ``item_id``, ``similarity`` (the raw :math:`\\operatorname{sim}`),
        ``n_common`` (:math:`|U_{ij}|`), ``score`` (:math:`s`); best first.
        Fewer than ``k`` rows when fewer items qualify.

    Raises:
        ValueError: ``item_id`` has no ratings, or an argument is out of range.
    """
    _check_ratings(ratings)
    _check_positive_int(k, "k")
    _check_positive_int(min_common, "min_common")
    _check_non_negative(shrinkage, "shrinkage")
    if method not in ("adjusted_cosine", "pearson"):
        raise ValueError(f"method must be 'adjusted_cosine' or 'pearson', got {method!r}.")
    centre_by = "user_id" if method == "adjusted_cosine" else "item_id"
    return _neighbours(ratings, "item_id", item_id, centre_by, k=k, min_common=min_common, shrinkage=shrinkage)


def _neighbours(
    ratings: pd.DataFrame,
    id_column: str,
    target_id: int,
    centre_by: str,
    *,
    k: int,
    min_common: int,
    shrinkage: float,
) -> pd.DataFrame:
    """Shrunk centred-cosine neighbours of one item (``id_column="item_id"``) or one user.

    Ratings are centred by the mean of their ``centre_by`` column (user or
    item), compared over the raters or items both share, and ranked by
    :math:`\\frac{n}{n + \\lambda}\\operatorname{sim}`; the callers document the maths.
    """
    users, user_index = np.unique(ratings["user_id"].to_numpy(), return_inverse=True)
    items, item_index = np.unique(ratings["item_id"].to_numpy(), return_inverse=True)
    if id_column == "item_id":
        ids, index, n_others, other_index = items, item_index, len(users), user_index
    else:
        ids, index, n_others, other_index = users, user_index, len(items), item_index
    position = np.searchsorted(ids, target_id)
    if position >= len(ids) or ids[position] != target_id:
        raise ValueError(f"{id_column} {target_id!r} does not occur in the ratings.")
    values = ratings["rating"].to_numpy(dtype=float)
    by = user_index if centre_by == "user_id" else item_index
    means = np.bincount(by, values) / np.bincount(by)
    similarity, n_common = _centred_cosine(
        other_index, index, values - means[by], n_others, len(ids), int(position)
    )
    table = pd.DataFrame(
        {
            id_column: ids,
            "similarity": similarity,
            "n_common": n_common,
            "score": _shrink(similarity, n_common, shrinkage),
        }
    )
    keep = (table["n_common"] >= min_common) & (table[id_column] != target_id)
    return _top(table[keep], id_column, k, ["score", "n_common"])


# --- content-based ----------------------------------------------------------------


def _genre_columns(items: pd.DataFrame) -> list[str]:
    from recsys_ref.data import GENRES

    columns = [g for g in GENRES if g in items.columns]
    if not columns:
        raise ValueError("items has none of the genre columns of recsys_ref.data.GENRES.")
    return columns


def _year_closeness(years: pd.Series, year: float | None, scale: float) -> np.ndarray:
    """:math:`\\exp(-|y_j - y| / \\tau)`, and 0 where either year is missing."""
    values = pd.to_numeric(years, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    if year is None or not np.isfinite(year):
        return np.zeros(len(values))
    closeness = np.exp(-np.abs(values - year) / scale)
    return np.nan_to_num(closeness, nan=0.0)


def _cosine_to(matrix: np.ndarray, vector: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1) * np.linalg.norm(vector)
    return np.divide(matrix @ vector, norms, out=np.zeros(len(matrix)), where=norms > 0)


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
    _check_positive_int(k, "k")
    if not 0.0 <= year_weight <= 1.0:
        raise ValueError(f"year_weight must be between 0 and 1, got {year_weight!r}.")
    if not year_scale > 0:
        raise ValueError(f"year_scale must be > 0 (years), got {year_scale!r}.")
    _check_columns(items, ("release_year",), "items")
    if item_id not in items.index:
        raise ValueError(f"item_id {item_id!r} is not in items.")
    genres = items[_genre_columns(items)].to_numpy(dtype=float)
    row = items.index.get_loc(item_id)
    year = items["release_year"].iloc[row]
    genre_similarity = _cosine_to(genres, genres[row])
    year_similarity = _year_closeness(
        items["release_year"], None if pd.isna(year) else float(year), year_scale
    )
    table = pd.DataFrame(
        {
            "item_id": items.index.to_numpy(),
            "genre_similarity": genre_similarity,
            "year_similarity": year_similarity,
            "score": (1 - year_weight) * genre_similarity + year_weight * year_similarity,
        }
    )
    return _top(table[table["item_id"] != item_id], "item_id", k, ["score"])


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
    _check_ratings(ratings)
    _check_positive_int(k, "k")
    if not 0.0 <= year_weight <= 1.0:
        raise ValueError(f"year_weight must be between 0 and 1, got {year_weight!r}.")
    if not year_scale > 0:
        raise ValueError(f"year_scale must be > 0 (years), got {year_scale!r}.")
    _check_columns(items, ("release_year",), "items")
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
    genres = items[_genre_columns(items)]
    profile = genres.loc[liked].to_numpy(dtype=float).mean(axis=0)
    liked_years = pd.to_numeric(items.loc[liked, "release_year"], errors="coerce").astype(float)
    mean_year = float(liked_years.mean()) if liked_years.notna().any() else None
    table = pd.DataFrame(
        {
            "item_id": items.index.to_numpy(),
            "genre_similarity": _cosine_to(genres.to_numpy(dtype=float), profile),
            "year_similarity": _year_closeness(items["release_year"], mean_year, year_scale),
        }
    )
    table["score"] = (1 - year_weight) * table["genre_similarity"] + year_weight * table[
        "year_similarity"
    ]
    table = table[~table["item_id"].isin(mine["item_id"])]
    return _top(table, "item_id", k, ["score"])


# --- social (stand-in) and demographic ----------------------------------------------


def taste_neighbours(
    ratings: pd.DataFrame,
    user_id: int,
    *,
    k: int = 20,
    min_common: int = 10,
    shrinkage: float = 25.0,
) -> pd.DataFrame:
    """The users whose ratings agree most with ``user_id``'s: *taste* neighbours, not friends.

    The user-based similarity of GroupLens (Resnick et al. 1994): a
    mean-centred cosine (close to Pearson's correlation) over the items
    :math:`I_{uv} = I_u \\cap I_v` both users rated,

    .. math:: \\operatorname{sim}(u, v) = \\frac{\\sum_{i \\in I_{uv}} (r_{ui} - \\bar r_u)(r_{vi} - \\bar r_v)}
        {\\sqrt{\\sum_{i \\in I_{uv}} (r_{ui} - \\bar r_u)^2}\\,\\sqrt{\\sum_{i \\in I_{uv}} (r_{vi} - \\bar r_v)^2}},

    ranked by :math:`s(u, v) = \\frac{|I_{uv}|}{|I_{uv}| + \\lambda}\\operatorname{sim}(u, v)`.
    MovieLens has no friendship data; the book uses these neighbours as a
    stand-in for the "friends" of a social recommender and labels them so.

    Args:
        ratings: One rating a row.
        user_id: The user whose neighbours are wanted.
        k: How many neighbours.
        min_common: Least number of co-rated items :math:`|I_{uv}|`.
        shrinkage: :math:`\\lambda` >= 0.

    Returns:
        ``user_id``, ``similarity``, ``n_common``, ``score``; best first.

    Raises:
        ValueError: ``user_id`` has no ratings, or an argument is out of range.
    """
    _check_ratings(ratings)
    _check_positive_int(k, "k")
    _check_positive_int(min_common, "min_common")
    _check_non_negative(shrinkage, "shrinkage")
    return _neighbours(ratings, "user_id", user_id, "user_id", k=k, min_common=min_common, shrinkage=shrinkage)


def recommend_from_peers(
    ratings: pd.DataFrame,
    peer_ids: Iterable[int],
    *,
    k: int = 10,
    damping: float = 10.0,
    min_ratings: int = 1,
    exclude_items: Iterable[int] = (),
) -> pd.DataFrame:
    """Rank items by how a group of peers (friends, look-alikes) rated them.

    The engine of social and demographic recommenders: only the ratings of
    the peers :math:`P` count, damped towards the mean :math:`\\mu` of *all*
    ratings, so that one enthusiastic peer does not decide the list:

    .. math:: s_i = \\frac{\\sum_{v \\in P \\cap U_i} r_{vi} + m\\,\\mu}{|P \\cap U_i| + m}

    Args:
        ratings: One rating a row (all users; the peers are picked from it).
        peer_ids: The peers' user ids. Ids without ratings are ignored.
        k: Length of the list.
        damping: :math:`m` >= 0, pseudo-ratings at :math:`\\mu`.
        min_ratings: Items fewer peers rated are left out.
        exclude_items: Item ids never to recommend (e.g. already seen).

    Returns:
        ``item_id``, ``n_ratings`` (by peers), ``mean_rating`` (among peers),
        ``score``; best first.

    Raises:
        ValueError: No peer has a rating.
    """
    _check_ratings(ratings)
    _check_positive_int(k, "k")
    _check_positive_int(min_ratings, "min_ratings")
    _check_non_negative(damping, "damping")
    peers = ratings[ratings["user_id"].isin(list(peer_ids))]
    if peers.empty:
        raise ValueError("none of the peer_ids has a rating: there is nothing to recommend from.")
    table = damped_item_means(
        peers, damping=damping, prior=float(ratings["rating"].mean())
    ).reset_index()
    keep = (table["n_ratings"] >= min_ratings) & ~table["item_id"].isin(list(exclude_items))
    return _top(table[keep], "item_id", k, ["score", "n_ratings"])


class Peers(NamedTuple):
    """Users picked as demographic look-alikes.

    Attributes:
        user_ids: Their ids, ascending.
        criteria: In words, which criteria they all meet, e.g.
            ``"gender F, age 20-30, occupation student"``.
    """

    user_ids: np.ndarray
    criteria: str


def demographic_peers(
    users: pd.DataFrame,
    *,
    age: int,
    gender: str | None = None,
    occupation: str | None = None,
    age_window: int = 5,
    min_peers: int = 50,
) -> Peers:
    """Users who resemble a (new) user in age, gender and occupation.

    A peer is within ``age_window`` years of ``age`` and, when given, has the
    same ``gender`` and ``occupation``. When fewer than ``min_peers`` users
    meet all criteria, the criteria are relaxed in a fixed order, first
    dropping the occupation and then the gender (the age band stays), and the
    first group that is large enough is returned. If even the age band alone
    is too small, it is returned as it is, unless it is empty.

    Args:
        users: Indexed by ``user_id``, with ``age``, ``gender``, ``occupation``.
        age: The user's age in years.
        gender: ``"M"``, ``"F"`` or ``None`` (not given).
        occupation: One of the occupations in ``users`` or ``None``.
        age_window: Half-width of the age band, in years.
        min_peers: Smallest group size accepted before relaxing a criterion.

    Returns:
        A :class:`Peers` with the ids and the criteria actually used.

    Raises:
        ValueError: ``gender`` or ``occupation`` does not occur in ``users``,
            ``age`` is not positive, or nobody is in the age band.
    """
    _check_columns(users, ("age", "gender", "occupation"), "users")
    _check_positive_int(age, "age")
    _check_positive_int(min_peers, "min_peers")
    if isinstance(age_window, bool) or not isinstance(age_window, (int, np.integer)) or age_window < 0:
        raise ValueError(f"age_window must be a whole number >= 0, got {age_window!r}.")
    for name, value in (("gender", gender), ("occupation", occupation)):
        known = sorted(users[name].unique())
        if value is not None and value not in known:
            raise ValueError(f"{name} {value!r} does not occur in users; known: {', '.join(known)}.")
    in_band = ((users["age"] - age).abs() <= age_window).to_numpy()
    band = f"age {age - age_window}-{age + age_window}"
    same_gender = (users["gender"] == gender).to_numpy() if gender is not None else None
    same_job = (users["occupation"] == occupation).to_numpy() if occupation is not None else None
    attempts: list[tuple[np.ndarray, str]] = []
    if same_gender is not None and same_job is not None:
        attempts.append(
            (in_band & same_gender & same_job, f"gender {gender}, {band}, occupation {occupation}")
        )
    elif same_job is not None:
        attempts.append((in_band & same_job, f"{band}, occupation {occupation}"))
    if same_gender is not None:
        attempts.append((in_band & same_gender, f"gender {gender}, {band}"))
    attempts.append((in_band, band))
    for mask, criteria in attempts:
        if mask.sum() >= min_peers:
            break
    if mask.sum() == 0:
        raise ValueError(f"no user is in the {band}; widen age_window.")
    return Peers(np.sort(users.index.to_numpy()[mask]), criteria)


def demographic_recommend(
    ratings: pd.DataFrame,
    users: pd.DataFrame,
    *,
    age: int,
    gender: str | None = None,
    occupation: str | None = None,
    k: int = 10,
    age_window: int = 5,
    min_peers: int = 50,
    damping: float = 10.0,
    min_ratings: int = 1,
) -> pd.DataFrame:
    """Recommendations for a new user who has rated nothing, from age, gender and occupation.

    Finds the look-alikes with :func:`demographic_peers` and ranks items by
    their damped mean rating among them with :func:`recommend_from_peers`
    (Pazzani 1999's demographic filtering, in its simplest form).

    Returns:
        ``item_id``, ``n_ratings`` (by peers), ``mean_rating`` (among peers),
        ``score``; best first. Call :func:`demographic_peers` with the same
        arguments to see who the peers were.

    Raises:
        ValueError: As :func:`demographic_peers`.
    """
    peers = demographic_peers(
        users, age=age, gender=gender, occupation=occupation, age_window=age_window, min_peers=min_peers
    )
    return recommend_from_peers(ratings, peers.user_ids, k=k, damping=damping, min_ratings=min_ratings)


# --- contextual: time --------------------------------------------------------------


def _to_seconds(at: int | float | str | pd.Timestamp) -> float:
    if isinstance(at, (str, pd.Timestamp)):
        stamp = pd.Timestamp(at)
        if stamp.tzinfo is None:
            stamp = stamp.tz_localize("UTC")
        return float(stamp.timestamp())
    if isinstance(at, bool) or not isinstance(at, (int, float, np.integer, np.floating)):
        raise ValueError(f"at must be Unix seconds, a date string or a pandas Timestamp, got {at!r}.")
    return float(at)


def recency_popular_items(
    ratings: pd.DataFrame,
    *,
    at: int | float | str | pd.Timestamp,
    half_life_days: float | None = 30.0,
    k: int = 10,
    min_rating: int | None = None,
    exclude_items: Iterable[int] = (),
) -> pd.DataFrame:
    """What is popular *at a given moment*: popularity with old ratings fading out.

    Only ratings made before ``at`` count (the future is not known at ``at``).
    A rating made :math:`\\Delta t` days before ``at`` has weight
    :math:`2^{-\\Delta t / h}` with half-life :math:`h`, and each item scores
    the sum of its weights:

    .. math:: s_i(t) = \\sum_{u \\in U_i,\\ t_{ui} < t} 2^{-(t - t_{ui})/h}

    With ``half_life_days=None`` every weight is 1, so :math:`s_i` is the plain
    count of ratings before ``at`` (all-time popularity).

    Args:
        ratings: One rating a row, with ``timestamp`` in Unix seconds.
        at: The moment: Unix seconds, a date string (``"1998-04-01"``, read
            as UTC) or a Timestamp.
        half_life_days: :math:`h` > 0 in days, or ``None`` for no decay.
        k: Length of the list.
        min_rating: If given, only ratings at or above it count (popular *and* liked).
        exclude_items: Item ids never to recommend.

    Returns:
        ``item_id``, ``n_ratings`` (counted ratings before ``at``), ``score``; best first.

    Raises:
        ValueError: No rating counts before ``at``, or an argument is out of range.
    """
    _check_ratings(ratings, ("timestamp",))
    _check_positive_int(k, "k")
    if half_life_days is not None and not (np.isfinite(half_life_days) and half_life_days > 0):
        raise ValueError(f"half_life_days must be > 0 or None, got {half_life_days!r}.")
    now = _to_seconds(at)
    past = ratings[ratings["timestamp"] < now]
    if min_rating is not None:
        past = past[past["rating"] >= min_rating]
    if past.empty:
        raise ValueError(f"no rating counts before {pd.Timestamp(now, unit='s')} (UTC).")
    age_days = (now - past["timestamp"].to_numpy(dtype=float)) / SECONDS_PER_DAY
    weight = np.ones(len(past)) if half_life_days is None else 0.5 ** (age_days / half_life_days)
    table = (
        pd.DataFrame({"item_id": past["item_id"].to_numpy(), "weight": weight})
        .groupby("item_id")["weight"]
        .agg(["count", "sum"])
        .rename(columns={"count": "n_ratings", "sum": "score"})
        .reset_index()
    )
    table = table[~table["item_id"].isin(list(exclude_items))]
    return _top(table, "item_id", k, ["score", "n_ratings"])


# --- presentation --------------------------------------------------------------------


def with_titles(
    frame: pd.DataFrame, items: pd.DataFrame, *, columns: Iterable[str] = ("title",)
) -> pd.DataFrame:
    """A copy of ``frame`` with the items' ``title`` (and other ``columns``) right after ``item_id``.

    Raises:
        ValueError: ``frame`` has an ``item_id`` that ``items`` lacks.
    """
    _check_columns(frame, ("item_id",), "frame")
    columns = list(columns)
    _check_columns(items, columns, "items")
    unknown = sorted(set(frame["item_id"]) - set(items.index))
    if unknown:
        raise ValueError(f"item_id {unknown[0]!r} is not in items.")
    extra = items.loc[frame["item_id"], columns].reset_index(drop=True).set_axis(frame.index)
    position = list(frame.columns).index("item_id") + 1
    out = frame.copy()
    for offset, name in enumerate(columns):
        out.insert(position + offset, name, extra[name])
    return out

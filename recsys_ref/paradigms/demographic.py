"""Demographic (and social) recommendation: what people like the user rated highly.

:func:`recommend_from_peers` ranks items by a group of peers' damped mean
ratings; :func:`demographic_peers` picks the peers by age, gender and
occupation; :func:`demographic_recommend` chains the two for a new user;
:class:`DemographicMeans` predicts ratings the same way for every user.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, NamedTuple

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys_ref.base import RatingPredictor, take_known
from recsys_ref.paradigms._checks import (
    check_columns,
    check_non_negative,
    check_positive_int,
    check_ratings,
    top,
)
from recsys_ref.paradigms.popularity import damped_item_means


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
    check_ratings(ratings)
    check_positive_int(k, "k")
    check_positive_int(min_ratings, "min_ratings")
    check_non_negative(damping, "damping")
    peers = ratings[ratings["user_id"].isin(list(peer_ids))]
    if peers.empty:
        raise ValueError("none of the peer_ids has a rating: there is nothing to recommend from.")
    table = damped_item_means(
        peers, damping=damping, prior=float(ratings["rating"].mean())
    ).reset_index()
    keep = (table["n_ratings"] >= min_ratings) & ~table["item_id"].isin(list(exclude_items))
    return top(table[keep], "item_id", k, ["score", "n_ratings"])


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
    check_columns(users, ("age", "gender", "occupation"), "users")
    check_positive_int(age, "age")
    check_positive_int(min_peers, "min_peers")
    if (
        isinstance(age_window, bool)
        or not isinstance(age_window, (int, np.integer))
        or age_window < 0
    ):
        raise ValueError(f"age_window must be a whole number >= 0, got {age_window!r}.")
    for name, value in (("gender", gender), ("occupation", occupation)):
        known = sorted(users[name].unique())
        if value is not None and value not in known:
            raise ValueError(
                f"{name} {value!r} does not occur in users; known: {', '.join(known)}."
            )
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
        users,
        age=age,
        gender=gender,
        occupation=occupation,
        age_window=age_window,
        min_peers=min_peers,
    )
    return recommend_from_peers(
        ratings, peers.user_ids, k=k, damping=damping, min_ratings=min_ratings
    )


class DemographicMeans(RatingPredictor):
    """Demographic rating prediction: the damped mean rating of the item among the user's peers.

    Prediction rule (Pazzani 1999's demographic filtering, as a predictor):

    .. math:: \\hat r_{ui} = \\frac{\\sum_{v \\in P_u \\cap U_i} r_{vi} + m\\,\\pi_i}{|P_u \\cap U_i| + m}

    where :math:`P_u` are user :math:`u`'s demographic peers (:func:`demographic_peers`
    with the user's age, gender and occupation: within ``age_window`` years,
    same gender and occupation, relaxed while fewer than ``min_peers``), and
    :math:`U_i` the users who rated item :math:`i`. The :math:`m` pseudo-ratings
    pull items few peers rated towards a prior :math:`\\pi_i`: the item's damped
    mean over all users, :math:`\\pi_i = (\\sum_{v \\in U_i} r_{vi} + m\\,\\mu) / (|U_i| + m)`
    (``prior="item"``), or the global mean :math:`\\mu` (``prior="global"``,
    the score of :func:`recommend_from_peers`). A user counts among their own peers.

    Fallback: a user who has no training ratings but is in ``users`` gets
    their peers' means (the demographic answer to the new-user cold start);
    a user missing from ``users`` gets :math:`\\pi_i`; an unknown item gets :math:`\\mu`.

    Memory: for each distinct (age, gender, occupation) among the users, a
    sparse row of the peers' rating sums and counts (only the items they
    rated); scores are computed for the users asked about.

    Args:
        users: Indexed by ``user_id``, with ``age``, ``gender``, ``occupation``.
        age_window: Half-width of the age band, in years; default 5.
        min_peers: Smallest group before a criterion is relaxed; default 50.
        damping: :math:`m` >= 0; default 10.
        prior: ``"item"`` (default) or ``"global"``.
        rating_range: ``(low, high)`` for clipping; default ``(1.0, 5.0)``.

    Attributes (set by :meth:`fit`):
        group_sums, group_counts: Sparse ``(n_groups, n_items)``: per group of peers,
            the sum and the number of their ratings of each item.
        user_group: Entry ``id - 1``: the group (row) of user ``id`` (-1: not in ``users``).
        item_prior: ``(n_items,)`` :math:`\\pi_i`.
        group_criteria: For each group, the criteria its peers meet (see :class:`Peers`).
    """

    def __init__(
        self,
        users: pd.DataFrame,
        *,
        age_window: int = 5,
        min_peers: int = 50,
        damping: float = 10.0,
        prior: Literal["item", "global"] = "item",
        rating_range: tuple[float, float] | None = (1.0, 5.0),
    ) -> None:
        check_columns(users, ("age", "gender", "occupation"), "users")
        check_positive_int(min_peers, "min_peers")
        check_non_negative(damping, "damping")
        if prior not in ("item", "global"):
            raise ValueError(f"prior must be 'item' or 'global', got {prior!r}.")
        self.users = users
        self.age_window = age_window
        self.min_peers = min_peers
        self.damping = damping
        self.prior = prior
        self.rating_range = rating_range

    def _fit(
        self, users: np.ndarray, items: np.ndarray, ratings: np.ndarray, frame: pd.DataFrame
    ) -> None:
        ids = self.users.index.to_numpy()
        if len(ids) == 0 or ids.dtype.kind not in "iu" or ids.min() < 1:
            raise ValueError(
                "DemographicMeans: users must be indexed by user_id, whole numbers >= 1."
            )
        n_rows = max(self.n_users, int(ids.max()))
        in_users = np.zeros(n_rows, dtype=bool)
        in_users[ids - 1] = True
        lacking = self.known_users & ~in_users[: self.n_users]
        if lacking.any():
            raise ValueError(
                f"DemographicMeans.fit: user_id {int(np.argmax(lacking)) + 1} has ratings but is not in users."
            )
        keys = self.users[["age", "gender", "occupation"]]
        groups = keys.drop_duplicates().reset_index(drop=True)
        self.user_group = np.full(n_rows, -1, dtype=np.int64)
        self.user_group[ids - 1] = pd.MultiIndex.from_frame(groups).get_indexer(
            pd.MultiIndex.from_frame(keys)
        )
        members_rows, members_cols, self.group_criteria = [], [], []
        for group, (age, gender, occupation) in enumerate(groups.itertuples(index=False)):
            peers = demographic_peers(
                self.users,
                age=int(age),
                gender=gender,
                occupation=occupation,
                age_window=self.age_window,
                min_peers=self.min_peers,
            )
            members_rows.append(np.full(len(peers.user_ids), group))
            members_cols.append(peers.user_ids - 1)
            self.group_criteria.append(peers.criteria)
        membership = sp.csr_matrix(
            (
                np.ones(sum(map(len, members_rows))),
                (np.concatenate(members_rows), np.concatenate(members_cols)),
            ),
            shape=(len(groups), n_rows),
        )
        shape = (n_rows, self.n_items)
        sums = sp.csr_matrix((ratings, (users, items)), shape=shape)
        counts = sp.csr_matrix((np.ones(len(ratings)), (users, items)), shape=shape)
        item_sum = np.bincount(items, ratings, minlength=self.n_items)
        item_count = np.bincount(items, minlength=self.n_items)
        mu, m = self.global_mean, self.damping
        if self.prior == "item":
            self.item_prior = (item_sum + m * mu) / np.maximum(item_count + m, 1e-12)
            self.item_prior[item_count == 0] = mu
        else:
            self.item_prior = np.full(self.n_items, mu)
        # Sparse: a group's row holds only the items its peers rated.
        self.group_sums = (membership @ sums).tocsr()
        self.group_counts = (membership @ counts).tocsr()

    def _peer_means(self, sums: np.ndarray, counts: np.ndarray, items: np.ndarray) -> np.ndarray:
        """The damped means from the peers' sums and counts, for 0-based known ``items``."""
        return (sums + self.damping * self.item_prior[items]) / np.maximum(counts + self.damping, 1e-300)

    def _groups(self, users: np.ndarray) -> np.ndarray:
        return take_known(
            self.user_group, users, self._known(users, self.user_group >= 0), default=-1
        )

    def _estimate(
        self, users: np.ndarray, items: np.ndarray, known_users: np.ndarray, known_items: np.ndarray
    ) -> np.ndarray:
        groups = self._groups(users)
        safe_items = np.where(known_items, items, 0)
        estimates = np.where(known_items, self.item_prior[safe_items], self.global_mean)
        peered = np.flatnonzero((groups >= 0) & known_items)
        if len(peered):
            g, i = groups[peered], safe_items[peered]
            sums = np.asarray(self.group_sums[g, i]).ravel()
            counts = np.asarray(self.group_counts[g, i]).ravel()
            estimates[peered] = np.where(counts > 0, self._peer_means(sums, counts, i), self.item_prior[i])
        return estimates

    def _score(self, users: np.ndarray, known_users: np.ndarray, n_items: int) -> np.ndarray:
        groups = self._groups(users)
        width = min(n_items, self.n_items)
        scores = np.full((len(users), n_items), self.global_mean)
        items = np.arange(width)
        scores[:, :width] = np.where(self.known_items[:width], self.item_prior[:width], self.global_mean)
        rows = np.flatnonzero(groups >= 0)
        if len(rows):
            sums = self.group_sums[groups[rows]][:, :width].toarray()
            counts = self.group_counts[groups[rows]][:, :width].toarray()
            peer_means = np.where(counts > 0, self._peer_means(sums, counts, items), self.item_prior[:width])
            scores[rows, :width] = np.where(self.known_items[:width], peer_means, self.global_mean)
        return scores

"""One contract for every rating predictor, and the id conventions of the package.

Id conventions (stated here once; every module follows them)
-------------------------------------------------------------

* **Frames carry raw ids.** A ratings frame has the columns ``user_id``,
  ``item_id`` and ``rating`` (and, where time matters, ``timestamp``). Ids are
  the data set's own: whole numbers ``>= 1`` (MovieLens numbers users and
  films from 1).
* **Arrays, tensors and matrices are 0-based.** Row (or column) ``id - 1`` of
  an embedding table, a parameter array, a dense ratings matrix or a score
  matrix belongs to ``id``. So column ``j`` of :meth:`RatingPredictor.score_items`
  is item ``j + 1``, and ``model.bi[i - 1]`` is the bias of item ``i``.
* **Known and unknown ids.** After :meth:`RatingPredictor.fit`, an id is
  *known* when it has at least one training rating. Every other id ``>= 1``
  is *unknown*: an id inside ``1..max id`` without ratings, or an id above the
  largest training id. Each model documents what it predicts for unknown ids
  (its *fallback*); none of them fails on one.
* **Ids below 1 are errors.** ``0`` or a negative number is never a MovieLens
  id (it is usually a 0-based index passed by mistake), so
  :func:`as_id_array`, :meth:`RatingPredictor.predict` and
  :meth:`RatingPredictor.score_items` raise :class:`ValueError` on one,
  naming its position and value, instead of returning a fallback; so do the
  implicit-feedback recommenders of :mod:`recsys_ref.implicit`.

The contract
------------

A :class:`RatingPredictor` is configured by its constructor and then

* ``fit(ratings)`` checks the frame (columns, at least one rating, whole ids
  ``>= 1``, finite ratings), remembers the known ids, the mean rating and the
  rating scale, trains, and returns ``self``;
* ``predict(user_ids, item_ids)`` returns one rating per pair, clipped to
  ``rating_range``;
* ``score_items(user_ids)`` returns a ``(len(user_ids), n_items)`` matrix of
  unclipped scores, higher is better, for ranking every item for each user.

Subclasses implement two hooks, ``_fit`` and ``_estimate`` (and may override
``_score`` to score all items faster); the checks, the id handling, the
fallback masks and the clipping live here, once. This is the design of
Surprise's ``AlgoBase`` (Hug 2020), vectorised over arrays of ids.

Which object is which in :mod:`recsys_ref`:

===========================================  =====================================================
shape                                        examples
===========================================  =====================================================
``RatingPredictor`` (fit / predict / score)  :class:`~recsys_ref.baselines.GlobalMean`,
                                             :class:`~recsys_ref.baselines.BiasBaseline`,
                                             :class:`~recsys_ref.mf.BiasedMF`,
                                             :class:`~recsys_ref.mf.DenseMF`,
                                             :class:`~recsys_ref.nn_training.RecommenderNetPredictor`,
                                             the predictors of :mod:`recsys_ref.paradigms`
``torch.nn.Module`` + a training function    :class:`~recsys_ref.nn.RecommenderNet` with
                                             :func:`~recsys_ref.nn_training.train_recommender_net`
functions of frames returning ranked lists   :func:`~recsys_ref.paradigms.popular_items`, ...
the graded pieces of the dense model         :func:`~recsys_ref.mf.init_factors`,
                                             :func:`~recsys_ref.mf.masked_mse`, ...
===========================================  =====================================================
"""

from __future__ import annotations

import abc
import dataclasses
import inspect
import numbers
from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

#: The columns every ratings frame has.
RATING_COLUMNS = ("user_id", "item_id", "rating")

Model = TypeVar("Model", bound="RatingPredictor")


class NotFittedError(RuntimeError):
    """A model was asked for predictions before :meth:`RatingPredictor.fit`."""


# --- checks -----------------------------------------------------------------------------------


def as_id_array(ids: ArrayLike, name: str) -> np.ndarray:
    """Raw (1-based) ids as a 1-D ``int64`` array.

    Integer arrays pass as they are; floats are accepted when they are whole
    numbers (``3.0``), as pandas makes them after a merge. Ids start at 1
    (MovieLens numbers users and films from 1), so an id ``< 1`` is refused:
    it is usually a 0-based index (``id - 1``) passed by mistake. Whether an
    id is known is not checked here: unknown ids ``>= 1`` are the models'
    business (their documented fallback).

    Args:
        ids: A scalar, list, array or pandas Series of ids.
        name: What the ids are, for the error message (``"user_ids"``).

    Returns:
        ``int64`` array of shape ``(n,)``, every entry ``>= 1``.

    Raises:
        TypeError: ``ids`` is a DataFrame (pass one of its columns).
        ValueError: An id is not a whole number (a fraction, NaN, text, a
            bool), or is ``< 1``; the message names the first such entry's
            position and value.
    """
    if isinstance(ids, pd.DataFrame):
        raise TypeError(
            f"{name} must be one array (or Series, list) of ids, got a DataFrame; pass one "
            f"column, e.g. frame['user_id']."
        )
    array = _whole_number_array(ids, name)
    if (array < 1).any():
        position = int(np.argmax(array < 1))
        raise ValueError(
            f"{name}: entry {position} is {int(array[position])}, but ids are 1-based "
            "(MovieLens numbers users and films from 1; see recsys_ref.base): pass raw ids, "
            "not 0-based indices (index + 1 is the id)."
        )
    return array


def _whole_number_array(ids: ArrayLike, name: str) -> np.ndarray:
    """Ids as a 1-D ``int64`` array, any sign (``as_id_array`` without the ``>= 1`` check).

    Raises:
        ValueError: An id is not a whole number (a fraction, NaN, text, a bool).
    """
    array = np.asarray(ids.to_numpy() if isinstance(ids, (pd.Series, pd.Index)) else ids).reshape(
        -1
    )
    if array.dtype.kind in "iu":
        return array.astype(np.int64, copy=False)
    if array.dtype.kind == "b":
        raise ValueError(f"{name} must be whole-number ids, got booleans.")
    try:
        as_float = array.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be whole-number ids, got values of type {array.dtype}."
        ) from None
    bad = ~np.isfinite(as_float) | (as_float != np.round(as_float))
    if bad.any():
        position = int(np.argmax(bad))
        raise ValueError(
            f"{name} must be whole-number ids; entry {position} is {array[position]!r}."
        )
    return as_float.astype(np.int64)


def _describe_row(ratings: pd.DataFrame, position: int) -> str:
    return f"row {position} (index label {ratings.index[position]!r})"


def rating_arrays(ratings: pd.DataFrame, *, who: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Check a ratings frame and return its ids and ratings as arrays.

    Args:
        ratings: A frame with ``user_id``, ``item_id`` and ``rating``.
        who: The caller, for the error message (``"BiasedMF.fit"``).

    Returns:
        ``(user_ids, item_ids, ratings)``: two ``int64`` arrays of raw (1-based)
        ids and a ``float64`` array, one entry per row.

    Raises:
        TypeError: ``ratings`` is not a pandas DataFrame.
        ValueError: A column is missing, the frame is empty, an id is not a
            whole number ``>= 1`` or a rating is not a finite number; the
            message names the first offending row.
    """
    if not isinstance(ratings, pd.DataFrame):
        raise TypeError(f"{who} needs a pandas DataFrame of ratings, got {type(ratings).__name__}.")
    missing = [column for column in RATING_COLUMNS if column not in ratings.columns]
    if missing:
        raise ValueError(f"{who}: the ratings lack the column(s) {', '.join(map(repr, missing))}.")
    if len(ratings) == 0:
        raise ValueError(f"{who} needs at least one rating; the frame is empty.")
    arrays = []
    for column in ("user_id", "item_id"):
        try:
            ids = _whole_number_array(ratings[column], column)
        except ValueError:
            values = pd.to_numeric(ratings[column], errors="coerce").to_numpy(
                dtype=float, na_value=np.nan
            )
            bad = ~np.isfinite(values) | (values != np.round(values))
            position = int(np.argmax(bad))
            raise ValueError(
                f"{who}: {column} must hold whole numbers; {_describe_row(ratings, position)} "
                f"has {ratings[column].iloc[position]!r}."
            ) from None
        if (ids < 1).any():
            position = int(np.argmax(ids < 1))
            raise ValueError(
                f"{who}: ids start at 1 (see recsys_ref.base); {_describe_row(ratings, position)} "
                f"has {column} {ids[position]}."
            )
        arrays.append(ids)
    values = pd.to_numeric(ratings["rating"], errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    if not np.isfinite(values).all():
        position = int(np.argmax(~np.isfinite(values)))
        raise ValueError(
            f"{who}: every rating must be a finite number; {_describe_row(ratings, position)} "
            f"has {ratings['rating'].iloc[position]!r}."
        )
    return arrays[0], arrays[1], values


def _check_range(rating_range: tuple[float, float] | None) -> None:
    if rating_range is None:
        return
    low, high = rating_range
    if not low <= high:
        raise ValueError(
            f"rating_range must be (low, high) with low <= high, got {rating_range!r}."
        )


def take_known(
    values: np.ndarray, index: np.ndarray, known: np.ndarray, default: float = 0.0
) -> np.ndarray:
    """``values[index]`` where ``known``, else ``default``; unknown indices may be out of range.

    The helper every ``_estimate`` uses to read a parameter array at 0-based
    indices that include unknown ids.
    """
    picked = values[np.where(known, index, 0)]
    mask = known.reshape(known.shape + (1,) * (picked.ndim - known.ndim))
    return np.where(mask, picked, default)


# --- the contract -------------------------------------------------------------------------------


class RatingPredictor(abc.ABC):
    """Base class of the rating predictors: fit on a ratings frame, predict for id arrays.

    Subclasses set ``self.rating_range`` in their constructor and implement

    * ``_fit(users, items, ratings, frame)``: train on 0-based ``users`` and
      ``items`` (``int64`` arrays), ``ratings`` (``float64``) and the checked
      frame itself; the base attributes below are already set;
    * ``_estimate(users, items, known_users, known_items)``: one unclipped
      estimate per pair, from 0-based indices that may be unknown (then the
      matching ``known_*`` entry is ``False``, and the index may be out of
      range: read arrays with :func:`take_known`). Return the model's fallback
      for pairs with an unknown id.

    and may override ``_score(users, known_users, n_items)`` when scoring all
    items at once has a faster form than ``_estimate`` on every pair.

    Attributes (set by :meth:`fit`):
        global_mean: :math:`\\mu`, the mean training rating.
        n_users, n_items: The largest user and item id in the training ratings.
        known_users, known_items: Boolean arrays of length ``n_users`` and
            ``n_items``; entry ``id - 1`` is ``True`` when ``id`` has a training rating.
        rating_scale: ``(lowest, highest)`` training rating.
    """

    #: ``(low, high)`` clipping range of :meth:`predict`; ``None`` clips to ``rating_scale``.
    rating_range: tuple[float, float] | None = (1.0, 5.0)

    # --- the public verbs ---

    def fit(self: Model, ratings: pd.DataFrame) -> Model:
        """Train on a ratings frame (``user_id``, ``item_id``, ``rating``; raw ids).

        Returns:
            ``self``, fitted.

        Raises:
            TypeError, ValueError: As :func:`rating_arrays`: the frame is not
                a DataFrame, lacks a column, is empty, or has a bad id or rating.
        """
        who = f"{type(self).__name__}.fit"
        users, items, values = rating_arrays(ratings, who=who)
        _check_range(self.rating_range)
        self._fitted = False
        self.n_users = int(users.max())
        self.n_items = int(items.max())
        self.known_users = np.bincount(users - 1, minlength=self.n_users) > 0
        self.known_items = np.bincount(items - 1, minlength=self.n_items) > 0
        self.global_mean = float(values.mean())
        self.rating_scale = (float(values.min()), float(values.max()))
        self._fit(users - 1, items - 1, values, ratings)
        self._fitted = True
        return self

    def predict(self, user_ids: ArrayLike, item_ids: ArrayLike | None = None) -> np.ndarray:
        """Predicted ratings for pairs of raw ids, clipped to ``rating_range``.

        Pair ``k`` is ``(user_ids[k], item_ids[k])``. For the rows of a
        ratings frame call ``predict(frame["user_id"], frame["item_id"])`` or
        :func:`predict_frame` ``(model, frame)``; a frame itself is refused.

        Args:
            user_ids, item_ids: Equal-length arrays (or Series, lists) of raw
                1-based ids. Unknown ids ``>= 1`` get the model's documented
                fallback; an id ``< 1`` is an error. ``item_ids`` is required
                (its default ``None`` only lets a missing argument get a
                message that says what to pass).

        Returns:
            A ``float64`` array of shape ``(len(user_ids),)``, one rating per pair.

        Raises:
            NotFittedError: Called before :meth:`fit`.
            TypeError: ``user_ids`` is a DataFrame (use :func:`predict_frame`),
                or ``item_ids`` is missing.
            ValueError: The two arrays differ in length, or an id is not a
                whole number or is ``< 1`` (ids are 1-based); the message names
                the first bad position and value.
        """
        who = f"{type(self).__name__}.predict"
        if isinstance(user_ids, pd.DataFrame) or isinstance(item_ids, pd.DataFrame):
            raise TypeError(
                f"{who} takes two arrays of ids, predict(user_ids, item_ids), not a DataFrame: "
                "call model.predict(frame['user_id'], frame['item_id']) "
                "or recsys_ref.base.predict_frame(model, frame)."
            )
        if item_ids is None:
            raise TypeError(
                f"{who} needs item_ids too: predict(user_ids, item_ids), one item id per user id "
                "(or recsys_ref.base.predict_frame(model, frame) for a ratings frame)."
            )
        self._check_fitted("predict")
        users = as_id_array(user_ids, "user_ids")
        items = as_id_array(item_ids, "item_ids")
        if users.shape != items.shape:
            raise ValueError(
                f"got {users.size} user ids but {items.size} item ids; pass one of each per pair."
            )
        u, i = users - 1, items - 1
        estimates = self._estimate(
            u, i, self._known(u, self.known_users), self._known(i, self.known_items)
        )
        return self._clip(np.asarray(estimates, dtype=np.float64))

    def score_items(self, user_ids: ArrayLike, *, n_items: int | None = None) -> np.ndarray:
        """Score every item for each user, for ranking (top-K lists).

        Column ``j`` is item ``j + 1``. The scores are the model's unclipped
        estimates (clipping would tie the items above the scale's top), so
        higher is better; already-rated items are *not* excluded. Memory is
        ``len(user_ids) * n_items`` floats: pass users in batches.

        Args:
            user_ids: Raw 1-based user ids (unknown ones ``>= 1`` get the
                fallback scores; an id ``< 1`` is an error).
            n_items: Number of columns; default the largest training item id.
                Items beyond the training ids score as unknown items.

        Returns:
            A ``float64`` array of shape ``(len(user_ids), n_items)``.

        Raises:
            NotFittedError: Called before :meth:`fit`.
            TypeError: ``user_ids`` is a DataFrame (pass its ``user_id`` column).
            ValueError: ``n_items`` is not a whole number ``>= 1``, or a user
                id is not a whole number or is ``< 1`` (ids are 1-based).
        """
        self._check_fitted("score_items")
        if n_items is None:
            n_items = self.n_items
        if isinstance(n_items, bool) or not isinstance(n_items, numbers.Integral) or n_items < 1:
            raise ValueError(f"n_items must be a whole number >= 1, got {n_items!r}.")
        u = as_id_array(user_ids, "user_ids") - 1
        scores = self._score(u, self._known(u, self.known_users), int(n_items))
        return np.asarray(scores, dtype=np.float64).reshape(len(u), int(n_items))

    # --- the hooks ---

    @abc.abstractmethod
    def _fit(
        self, users: np.ndarray, items: np.ndarray, ratings: np.ndarray, frame: pd.DataFrame
    ) -> None:
        """Train; see the class docstring."""

    @abc.abstractmethod
    def _estimate(
        self, users: np.ndarray, items: np.ndarray, known_users: np.ndarray, known_items: np.ndarray
    ) -> np.ndarray:
        """Unclipped estimates for 0-based pairs; see the class docstring."""

    def _score(self, users: np.ndarray, known_users: np.ndarray, n_items: int) -> np.ndarray:
        """``(len(users), n_items)`` unclipped estimates; by default ``_estimate`` on every pair."""
        items = np.arange(n_items)
        known_items = self._known(items, self.known_items)
        return self._estimate(
            np.repeat(users, n_items),
            np.tile(items, len(users)),
            np.repeat(known_users, n_items),
            np.tile(known_items, len(users)),
        ).reshape(len(users), n_items)

    # --- shared machinery ---

    @staticmethod
    def _known(index: np.ndarray, known: np.ndarray) -> np.ndarray:
        """Which 0-based indices are known ids (inside the table and rated in training)."""
        inside = (index >= 0) & (index < len(known))
        return inside & known[np.where(inside, index, 0)]

    def _clip(self, estimates: np.ndarray) -> np.ndarray:
        low, high = self.rating_scale if self.rating_range is None else self.rating_range
        return np.clip(estimates, low, high)

    def _table_shape(self, shape: tuple[int, int] | None) -> tuple[int, int]:
        """``(n_users, n_items)`` of a model's tables: ``shape``, or the largest training ids when it is None.

        Raises:
            ValueError: When ``shape`` is too small for the training ids.
        """
        n_users, n_items = (self.n_users, self.n_items) if shape is None else shape
        if n_users < self.n_users or n_items < self.n_items:
            raise ValueError(
                f"{type(self).__name__}.fit: shape {shape} is too small for the training ids "
                f"(largest user id {self.n_users}, largest item id {self.n_items})."
            )
        return n_users, n_items

    def _check_fitted(self, verb: str) -> None:
        if not getattr(self, "_fitted", False):
            raise NotFittedError(
                f"{type(self).__name__}.{verb} called before fit: call fit(ratings) first."
            )

    def __repr__(self) -> str:
        parameters = inspect.signature(type(self).__init__).parameters
        shown = [
            f"{name}={_short_repr(getattr(self, name))}"
            for name in parameters
            if name != "self" and hasattr(self, name) and not name.startswith("_")
        ]
        return f"{type(self).__name__}({', '.join(shown)})"


def _short_repr(value: Any) -> str:
    """``repr`` for settings; a frame (the items or users table) as its size."""
    if isinstance(value, pd.DataFrame):
        return f"<DataFrame {value.shape[0]} x {value.shape[1]}>"
    return repr(value)


def predict_frame(model: RatingPredictor, frame: pd.DataFrame) -> np.ndarray:
    """``model.predict`` for the ``(user_id, item_id)`` pairs of a frame, one rating per row.

    Raises:
        ValueError: ``frame`` lacks ``user_id`` or ``item_id``.
    """
    missing = [column for column in ("user_id", "item_id") if column not in frame.columns]
    if missing:
        raise ValueError(f"the frame lacks the column(s) {', '.join(map(repr, missing))}.")
    return model.predict(frame["user_id"], frame["item_id"])


# --- named settings -----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Settings(Mapping[str, Any]):
    """Base of the frozen settings records (e.g. :data:`recsys_ref.mf.DENSE_MF_TUNED`).

    A settings record reads like a dataclass (``DENSE_MF_TUNED.weight_decay``)
    and unpacks like a dict (``train_dense_mf(R, E, **DENSE_MF_TUNED)``);
    :func:`dataclasses.replace` makes a variant
    (``replace(DENSE_MF_TUNED, epochs=5)``).
    """

    def __getitem__(self, key: str) -> Any:
        if key not in self._names():
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    def _names(self) -> tuple[str, ...]:
        return tuple(field.name for field in dataclasses.fields(self))

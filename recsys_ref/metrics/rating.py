"""Rating metrics: how far predicted ratings are from the true ones.

Each compares predictions :math:`\\hat r_j` with true ratings :math:`r_j` over
:math:`N` held-out (user, item) pairs. Inputs may be lists, NumPy arrays,
pandas Series or tensors of any shape with :math:`N` values (RecommenderNet
returns ``(N, 1)``); they are flattened.
"""

from __future__ import annotations

import numpy as np


def _pair(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    true = np.asarray(y_true, dtype=float).reshape(-1)
    pred = np.asarray(y_pred, dtype=float).reshape(-1)
    if true.shape != pred.shape:
        raise ValueError(f"y_true has {true.size} values but y_pred has {pred.size}.")
    if true.size == 0:
        raise ValueError("cannot compute a metric on zero ratings.")
    return true, pred


def rmse(y_true, y_pred) -> float:
    """Root mean squared error :math:`\\sqrt{\\frac{1}{N}\\sum_j (r_j - \\hat r_j)^2}`.

    Raises:
        ValueError: On inputs of different sizes or with no values.
    """
    true, pred = _pair(y_true, y_pred)
    return float(np.sqrt(np.mean((true - pred) ** 2)))


def mae(y_true, y_pred) -> float:
    """Mean absolute error :math:`\\frac{1}{N}\\sum_j |r_j - \\hat r_j|`.

    Raises:
        ValueError: On inputs of different sizes or with no values.
    """
    true, pred = _pair(y_true, y_pred)
    return float(np.mean(np.abs(true - pred)))


def accuracy_within(y_true, y_pred, tolerance: float = 0.5) -> float:
    """Share of predictions within ``tolerance`` of the truth (the original notebook's "accuracy").

    :math:`\\frac{1}{N}\\sum_j [\\,|r_j - \\hat r_j| < \\text{tolerance}\\,]`. The
    original notebook computes it on the training data, where it measures
    memorisation, not how well the model predicts ratings it has not seen.

    Raises:
        ValueError: On inputs of different sizes or with no values.
    """
    true, pred = _pair(y_true, y_pred)
    return float(np.mean(np.abs(true - pred) < tolerance))

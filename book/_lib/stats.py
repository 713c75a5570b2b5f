"""Uncertainty for the book's results tables: spread over splits, bootstrap, paired differences.

Three tools, each taught in the evaluation chapter ("How sure are we?"):

* :func:`mean_sd`: the mean and the sample standard deviation of a score
  over several splits (each split: new training and test parts, a new model);
* :func:`bootstrap_rmse`: resample the test ratings of *one* split with
  replacement and recompute the RMSE, which shows how much the score would
  move with another test sample of the same size (it does not see the
  training's randomness);
* :func:`paired_rmse_difference`: the difference of two models' RMSE on the
  *same* bootstrap samples. The two models err on mostly the same ratings,
  so their difference varies far less than either score: compare models by
  paired differences, never by overlapping intervals.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Bootstrap resamples (1,000 put the standard error of a standard error near 2 %).
N_BOOTSTRAP = 1000


def mean_sd(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (``ddof=1``) of a few values."""
    array = np.asarray(values, dtype=float)
    return float(array.mean()), float(array.std(ddof=1)) if len(array) > 1 else 0.0


def pm(values: Sequence[float], digits: int = 3) -> str:
    """``"mean ± sd"`` of the values, both to ``digits`` decimals."""
    mean, sd = mean_sd(values)
    return f"{mean:.{digits}f} ± {sd:.{digits}f}"


def _resample_indices(n: int, n_samples: int, seed: int, chunk: int = 100):
    rng = np.random.default_rng(seed)
    for start in range(0, n_samples, chunk):
        yield rng.integers(0, n, size=(min(chunk, n_samples - start), n))


def bootstrap_rmse(
    truth: np.ndarray, predicted: np.ndarray, *, n_samples: int = N_BOOTSTRAP, seed: int = 0
) -> np.ndarray:
    """RMSE on ``n_samples`` bootstrap resamples of the test ratings.

    Returns:
        ``(n_samples,)`` RMSE values; their standard deviation is the
        bootstrap standard error, their 2.5 and 97.5 percentiles a 95 % interval.
    """
    squared = (np.asarray(truth, float) - np.asarray(predicted, float)) ** 2
    return np.concatenate(
        [np.sqrt(squared[index].mean(axis=1)) for index in _resample_indices(len(squared), n_samples, seed)]
    )


def paired_rmse_difference(
    truth: np.ndarray,
    predicted_a: np.ndarray,
    predicted_b: np.ndarray,
    *,
    n_samples: int = N_BOOTSTRAP,
    seed: int = 0,
) -> np.ndarray:
    """RMSE of A minus RMSE of B on the same bootstrap resamples of the test ratings."""
    truth = np.asarray(truth, float)
    squared_a = (truth - np.asarray(predicted_a, float)) ** 2
    squared_b = (truth - np.asarray(predicted_b, float)) ** 2
    parts = []
    for index in _resample_indices(len(truth), n_samples, seed):
        parts.append(np.sqrt(squared_a[index].mean(axis=1)) - np.sqrt(squared_b[index].mean(axis=1)))
    return np.concatenate(parts)


def bootstrap_mean_difference(
    values_a: np.ndarray, values_b: np.ndarray, *, n_samples: int = N_BOOTSTRAP, seed: int = 0
) -> np.ndarray:
    """Mean of A minus mean of B over the same resamples of paired units (e.g. users' NDCG)."""
    difference = np.asarray(values_a, float) - np.asarray(values_b, float)
    return np.concatenate(
        [difference[index].mean(axis=1) for index in _resample_indices(len(difference), n_samples, seed)]
    )


def interval(samples: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """The central ``level`` percentile interval of bootstrap samples."""
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(samples, [tail, 100 - tail])
    return float(low), float(high)

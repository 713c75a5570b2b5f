"""Uncertainty helpers of the book (book/_lib/stats.py), on small synthetic scores."""

from __future__ import annotations

import numpy as np
import pytest

from _lib import stats


def test_mean_sd_uses_the_sample_standard_deviation():
    assert stats.mean_sd([1.0, 2.0, 3.0]) == (2.0, 1.0)
    assert stats.mean_sd([4.0]) == (4.0, 0.0)
    assert stats.pm([0.9081, 0.9113, 0.9110]) == "0.910 ± 0.002"


def test_bootstrap_standard_error_matches_the_formula():
    """For a mean, the bootstrap standard error is about sd / sqrt(n); RMSE^2 is a mean."""
    rng = np.random.default_rng(1)
    truth = rng.integers(1, 6, size=4000).astype(float)
    predicted = truth + rng.normal(0, 1, size=4000)
    samples = stats.bootstrap_rmse(truth, predicted, n_samples=500)
    squared = (truth - predicted) ** 2
    expected = squared.std() / np.sqrt(len(squared)) / (2 * np.sqrt(squared.mean()))  # delta method
    assert samples.std() == pytest.approx(expected, rel=0.15)
    low, high = stats.interval(samples)
    assert low < np.sqrt(squared.mean()) < high


def test_bootstrap_is_seeded():
    truth, predicted = np.arange(10.0), np.arange(10.0)[::-1]
    assert np.array_equal(stats.bootstrap_rmse(truth, predicted, seed=3),
                          stats.bootstrap_rmse(truth, predicted, seed=3))


def test_a_paired_difference_varies_less_than_either_score():
    rng = np.random.default_rng(2)
    truth = rng.integers(1, 6, size=5000).astype(float)
    shared = rng.normal(0, 1, size=5000)  # the error both models make
    a = truth + shared + rng.normal(0, 0.1, size=5000)
    b = truth + shared + rng.normal(0, 0.25, size=5000)  # RMSE about 1.03 against 1.005
    difference = stats.paired_rmse_difference(truth, a, b)
    assert difference.std() < 0.5 * stats.bootstrap_rmse(truth, a).std()
    assert stats.interval(difference)[1] < 0  # a is better, and the paired interval shows it


def test_identical_models_differ_by_exactly_nothing():
    truth = np.array([1.0, 4.0, 5.0, 3.0])
    predicted = np.array([2.0, 3.5, 4.5, 3.0])
    assert not stats.paired_rmse_difference(truth, predicted, predicted).any()
    assert not stats.bootstrap_mean_difference(predicted, predicted).any()


def test_bootstrap_mean_difference_centres_on_the_mean_difference():
    a = np.linspace(0, 1, 900)
    b = a - 0.1
    samples = stats.bootstrap_mean_difference(a, b)
    assert samples.mean() == pytest.approx(0.1)

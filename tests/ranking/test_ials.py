"""iALS: exact alternating solves, a non-increasing objective, and agreement with the implicit library."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from recsys_ref.implicit import IALS, als_half_sweep, interaction_matrix_csr


def random_binary(seed: int, shape=(25, 18), density=0.25) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    matrix = (rng.random(shape) < density).astype(np.float32)
    matrix[3] = 0.0  # a row without interactions
    return sp.csr_matrix(matrix)


def test_half_sweep_is_the_weighted_least_squares_solution():
    interactions = random_binary(0)
    fixed = np.random.default_rng(1).normal(size=(18, 4))
    alpha, reg = 2.5, 0.7

    solved = als_half_sweep(fixed, interactions, alpha=alpha, reg=reg)

    dense = interactions.toarray()
    for row in range(dense.shape[0]):
        confidence = 1.0 + alpha * dense[row]  # the full (n_cols,) weights, zeros included
        a = fixed.T @ (confidence[:, None] * fixed) + reg * np.eye(4)
        b = fixed.T @ (confidence * dense[row])
        expected = np.linalg.solve(a, b)
        np.testing.assert_allclose(solved[row], expected, rtol=1e-10, atol=1e-12)
    assert (solved[3] == 0).all()


def test_objective_never_increases_and_matches_the_dense_formula():
    interactions = random_binary(2)
    model = IALS(n_factors=5, alpha=4.0, reg=0.5, n_iterations=10).fit_interactions(interactions)

    assert all(later <= earlier + 1e-9 for earlier, later in zip(model.losses, model.losses[1:]))
    dense = interactions.toarray()
    estimate = model.user_factors @ model.item_factors.T
    weights = 1.0 + 4.0 * dense
    expected = (weights * (dense - estimate) ** 2).sum() + 0.5 * (
        (model.user_factors**2).sum() + (model.item_factors**2).sum()
    )
    assert model.losses[-1] == pytest.approx(expected, rel=1e-10)


def test_iterations_use_the_seeded_initial_item_factors():
    interactions = random_binary(3)
    one = IALS(n_factors=3, n_iterations=1, seed=7, reg=1.0, alpha=1.0).fit_interactions(interactions)
    initial = np.random.default_rng(7).normal(0.0, 0.01, (18, 3))
    np.testing.assert_allclose(one.user_factors, als_half_sweep(initial, interactions, alpha=1.0, reg=1.0))


def test_matches_the_implicit_librarys_exact_solver():
    """Same model, same start, exact solves: implicit's c = alpha_implicit * x is ours with alpha + 1."""
    library = pytest.importorskip("implicit.cpu.als")
    interactions = random_binary(4, shape=(40, 30))
    alpha, reg, factors, iterations = 3.0, 2.0, 6, 5
    ours = IALS(n_factors=factors, alpha=alpha, reg=reg, n_iterations=iterations, seed=0).fit_interactions(
        interactions
    )

    with threadpool_limits(1, "blas"):  # implicit warns about a multi-threaded BLAS otherwise
        theirs = library.AlternatingLeastSquares(
            factors=factors, regularization=reg, alpha=1.0 + alpha, iterations=iterations,
            use_cg=False, dtype=np.float64, num_threads=1,
        )  # fmt: skip
        theirs.item_factors = np.random.default_rng(0).normal(0.0, 0.01, (30, factors))
        theirs.user_factors = np.zeros((40, factors))
        theirs.fit(interactions, show_progress=False)

    np.testing.assert_allclose(theirs.user_factors, ours.user_factors, atol=1e-8)
    np.testing.assert_allclose(theirs.item_factors, ours.item_factors, atol=1e-8)


def test_ials_refuses_bad_settings():
    with pytest.raises(ValueError, match="reg > 0"):
        IALS(reg=0.0)
    with pytest.raises(ValueError, match="alpha >= 0"):
        IALS(alpha=-1.0)


def test_sparse_input_from_ratings_is_used_without_densifying(tiny_ratings):
    model = IALS(n_factors=2, n_iterations=2, threshold=None).fit(tiny_ratings)
    matrix = interaction_matrix_csr(tiny_ratings, 4, 5, None)
    assert model.score_items([1, 2, 3, 4]).shape == (4, 5)
    assert model.user_factors.shape == (4, 2) and matrix.nnz == 9

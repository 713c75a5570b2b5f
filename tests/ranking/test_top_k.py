"""top_k: the K best unseen items, with the tie and padding rules stated in its docstring."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from recsys_ref.ranking import top_k


def no_seen(shape):
    return torch.zeros(shape, dtype=torch.bool)


def test_top_k_by_hand_skips_seen_items():
    scores = torch.tensor([[3.0, 1.0, 2.0, 5.0], [0.0, 4.0, -1.0, 2.0]])
    seen = torch.tensor([[False, False, False, True], [False, True, False, False]])

    assert top_k(scores, seen, 2).tolist() == [[0, 2], [3, 0]]
    assert top_k(scores, seen, 3).tolist() == [[0, 2, 1], [3, 0, 2]]


def test_ties_go_to_the_lower_item_index():
    scores = torch.tensor([[1.0, 2.0, 2.0, 2.0, 0.0, 2.0]])
    assert top_k(scores, no_seen(scores.shape), 3).tolist() == [[1, 2, 3]]
    seen = torch.tensor([[False, False, True, False, False, False]])
    assert top_k(scores, seen, 4).tolist() == [[1, 3, 5, 0]]


def test_fewer_candidates_than_k_pad_with_minus_one():
    scores = torch.tensor([[0.5, 0.7, 0.1], [1.0, 2.0, 3.0]])
    seen = torch.tensor([[False, True, False], [True, True, True]])

    assert top_k(scores, seen, 4).tolist() == [[0, 2, -1, -1], [-1, -1, -1, -1]]


def test_infinite_scores_are_ranked_and_minus_inf_is_still_a_candidate():
    scores = torch.tensor([[-np.inf, 1.0, np.inf, -np.inf]])
    seen = torch.tensor([[False, False, False, True]])

    assert top_k(scores, seen, 4).tolist() == [[2, 1, 0, -1]]


def test_nan_scores_are_refused_with_the_user_row_and_item():
    scores = torch.tensor([[1.0, 2.0], [0.0, float("nan")]])
    with pytest.raises(ValueError, match="item index 1 for user row 1 is NaN"):
        top_k(scores, no_seen(scores.shape), 1)


@pytest.mark.parametrize(
    ("scores", "seen", "k", "message"),
    [
        (torch.zeros((2, 3)), torch.zeros((2, 3), dtype=torch.bool), 0, "k must be a positive integer"),
        (torch.zeros((2, 3)), torch.zeros((2, 4), dtype=torch.bool), 1, "seen has"),
        (torch.zeros((2, 3)), torch.zeros((2, 3)), 1, "seen must be boolean"),
        (torch.zeros(3), torch.zeros(3, dtype=torch.bool), 1, "2-D"),
    ],
)
def test_bad_arguments_are_refused(scores, seen, k, message):
    with pytest.raises(ValueError, match=message):
        top_k(scores, seen, k)


def brute_force(scores: np.ndarray, seen: np.ndarray, k: int) -> np.ndarray:
    """Sort each row's unseen items by (-score, index) one by one."""
    result = np.full((scores.shape[0], k), -1)
    for u in range(scores.shape[0]):
        candidates = sorted((-scores[u, i], i) for i in range(scores.shape[1]) if not seen[u, i])
        best = [i for _, i in candidates[:k]]
        result[u, : len(best)] = best
    return result


@pytest.mark.parametrize("seed", range(3))
def test_matches_a_brute_force_ranking_on_random_scores_with_many_ties(seed):
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 4, size=(30, 25)).astype(float)  # four values: ties everywhere
    seen = rng.random((30, 25)) < rng.random((30, 1))  # some users have seen almost everything

    for k in (1, 5, 25, 30):
        result = top_k(torch.from_numpy(scores), torch.from_numpy(seen), k).numpy()
        np.testing.assert_array_equal(result, brute_force(scores, seen, k))
        picked = result >= 0
        assert not seen[np.nonzero(picked)[0], result[picked]].any()


def test_numpy_inputs_give_the_same_lists():
    scores = np.array([[0.3, 0.9, 0.1, 0.9]])
    seen = np.array([[False, False, True, False]])
    assert top_k(scores, seen, 3).tolist() == [[1, 3, 0]]


def test_random_tie_breaking_is_seeded_fair_and_respects_the_scores():
    scores = torch.tensor([[1.0, 3.0, 3.0, 3.0, 3.0, 2.0]]).repeat(4000, 1)
    seen = no_seen(scores.shape)

    first = top_k(scores, seen, 6, generator=torch.Generator().manual_seed(0))
    again = top_k(scores, seen, 6, generator=torch.Generator().manual_seed(0))
    assert torch.equal(first, again)
    # The four tied items come first in some order, then item 5 (score 2), then item 0.
    assert set(first[:, :4].flatten().tolist()) == {1, 2, 3, 4}
    assert (first[:, 4] == 5).all() and (first[:, 5] == 0).all()
    # Each tied item leads about a quarter of the lists (1000 of 4000, sd about 27).
    leads = torch.bincount(first[:, 0], minlength=6)[1:5]
    assert ((leads > 880) & (leads < 1120)).all(), leads

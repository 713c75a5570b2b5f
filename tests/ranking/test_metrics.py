"""Rating metrics and ranking metrics (dict and tensor forms), on examples small enough to compute by hand."""

from __future__ import annotations

from math import log2, sqrt

import numpy as np
import pandas as pd
import pytest
import torch

from recsys_ref.metrics import (
    accuracy_within,
    average_precision_at_k_per_user,
    hit_rate_at_k,
    hit_rate_at_k_per_user,
    hits_at_k,
    mae,
    map_at_k,
    mean_over_users,
    ndcg_at_k,
    ndcg_at_k_per_user,
    precision_at_k,
    precision_at_k_per_user,
    recall_at_k,
    recall_at_k_per_user,
    rmse,
)

# --- rating metrics -----------------------------------------------------------------------
#
# true  = [1, 2, 3, 4]
# pred  = [1, 3, 3, 2]     errors 0, -1, 0, 2
# RMSE  = sqrt((0 + 1 + 0 + 4) / 4) = sqrt(1.25) = 1.1180...
# MAE   = (0 + 1 + 0 + 2) / 4 = 0.75

TRUE = [1, 2, 3, 4]
PRED = [1, 3, 3, 2]


def test_rmse_by_hand():
    assert rmse(TRUE, PRED) == pytest.approx(sqrt(1.25))
    assert rmse([3.0], [3.0]) == 0.0


def test_mae_by_hand():
    assert mae(TRUE, PRED) == pytest.approx(0.75)


def test_rmse_is_not_mae():
    # Guards against the two being swapped or RMSE missing its square root.
    assert rmse([0, 0], [0, 2]) == pytest.approx(sqrt(2))
    assert mae([0, 0], [0, 2]) == pytest.approx(1.0)


def test_accuracy_within_half_a_star_by_hand():
    # |errors| = 0.4, 0.5, 0.0, 0.6: strictly below 0.5 (as the seed's `< 0.5`) are 2 of 4.
    assert accuracy_within([1, 2, 3, 4], [1.4, 2.5, 3.0, 4.6]) == pytest.approx(0.5)
    assert accuracy_within([1, 2, 3, 4], [1.4, 2.5, 3.0, 4.6], tolerance=1.0) == 1.0
    assert accuracy_within([1, 2, 3, 4], [1.4, 2.5, 3.0, 4.6], tolerance=0.1) == 0.25


def test_metrics_accept_the_networks_column_output_and_other_containers():
    predictions = torch.tensor([[1.0], [3.0], [3.0], [2.0]])  # RecommenderNet returns (batch, 1)

    assert rmse(pd.Series(TRUE), predictions.numpy()) == pytest.approx(sqrt(1.25))
    assert mae(np.array(TRUE), predictions) == pytest.approx(0.75)
    assert isinstance(rmse(TRUE, PRED), float)


@pytest.mark.parametrize("metric", [rmse, mae, accuracy_within])
def test_metrics_refuse_empty_input(metric):
    with pytest.raises(ValueError, match="zero ratings"):
        metric([], [])


@pytest.mark.parametrize("metric", [rmse, mae, accuracy_within])
def test_metrics_refuse_a_length_mismatch(metric):
    with pytest.raises(ValueError, match="3 values but y_pred has 2"):
        metric([1, 2, 3], [1, 2])


# --- ranking metrics ----------------------------------------------------------------------
#
# user 1: recommended [10, 20, 30, 40], relevant {20, 40, 99}
# user 2: recommended [50, 60, 70, 80], relevant {50}
#
# K = 2: user 1's top 2 hit {20}; user 2's hit {50}.
#   precision = (1/2 + 1/2) / 2 = 0.5
#   recall    = (1/3 + 1/1) / 2 = 2/3
#   NDCG: user 1 DCG = 1/log2(3), IDCG = 1 + 1/log2(3) (two relevant fit in the top 2);
#         user 2 DCG = IDCG = 1/log2(2) = 1.
# K = 4: user 1 hits 20 (rank 2) and 40 (rank 4).
#   precision = (2/4 + 1/4) / 2 = 0.375
#   recall    = (2/3 + 1) / 2 = 5/6
#   NDCG: user 1 DCG = 1/log2(3) + 1/log2(5), IDCG = 1 + 1/log2(3) + 1/log2(4); user 2: 1.

RECOMMENDED = {1: [10, 20, 30, 40], 2: [50, 60, 70, 80]}
RELEVANT = {1: {20, 40, 99}, 2: {50}}


def test_precision_at_k_by_hand():
    assert precision_at_k(RECOMMENDED, RELEVANT, k=2) == pytest.approx(0.5)
    assert precision_at_k(RECOMMENDED, RELEVANT, k=4) == pytest.approx(0.375)


def test_recall_at_k_by_hand():
    assert recall_at_k(RECOMMENDED, RELEVANT, k=2) == pytest.approx(2 / 3)
    assert recall_at_k(RECOMMENDED, RELEVANT, k=4) == pytest.approx(5 / 6)


def test_ndcg_at_k_by_hand():
    user_1_at_2 = (1 / log2(3)) / (1 + 1 / log2(3))
    user_1_at_4 = (1 / log2(3) + 1 / log2(5)) / (1 + 1 / log2(3) + 1 / log2(4))

    assert ndcg_at_k(RECOMMENDED, RELEVANT, k=2) == pytest.approx((user_1_at_2 + 1) / 2)
    assert ndcg_at_k(RECOMMENDED, RELEVANT, k=4) == pytest.approx((user_1_at_4 + 1) / 2)
    assert ndcg_at_k(RECOMMENDED, RELEVANT, k=2) == pytest.approx(0.6934264)


def test_ndcg_rewards_hits_higher_in_the_list():
    early = ndcg_at_k({1: [7, 8, 9]}, {1: {7}}, k=3)
    late = ndcg_at_k({1: [8, 9, 7]}, {1: {7}}, k=3)

    assert early == 1.0
    assert late == pytest.approx(1 / log2(4))


def test_a_perfect_list_scores_one():
    recommended = {1: [3, 1, 2, 9], 2: [5, 6, 0, 0]}
    relevant = {1: {1, 2, 3}, 2: {5, 6}}

    assert precision_at_k(recommended, relevant, k=2) == 1.0
    assert recall_at_k(recommended, relevant, k=3) == 1.0
    assert ndcg_at_k(recommended, relevant, k=2) == 1.0
    assert ndcg_at_k({1: [3, 1, 2]}, {1: {1, 2, 3}}, k=3) == 1.0


def test_no_hits_score_zero():
    recommended = {1: [4, 5, 6]}
    relevant = {1: {1, 2}}

    assert precision_at_k(recommended, relevant, k=3) == 0.0
    assert recall_at_k(recommended, relevant, k=3) == 0.0
    assert ndcg_at_k(recommended, relevant, k=3) == 0.0


@pytest.mark.parametrize("metric", [precision_at_k, recall_at_k, ndcg_at_k, map_at_k, hit_rate_at_k])
def test_users_without_relevant_items_are_skipped(metric):
    # User 3 has no relevant item (and user 4 none listed at all): they do not drag the mean to 0.
    recommended = {**RECOMMENDED, 3: [1, 2, 3, 4], 4: [1, 2]}
    relevant = {**RELEVANT, 3: set()}

    assert metric(recommended, relevant, k=2) == metric(RECOMMENDED, RELEVANT, k=2)


@pytest.mark.parametrize("metric", [precision_at_k, recall_at_k, ndcg_at_k, map_at_k, hit_rate_at_k])
def test_a_user_with_relevant_items_but_no_recommendations_raises(metric):
    with pytest.raises(ValueError, match="no recommendations for user 2"):
        metric({1: [10, 20]}, RELEVANT, k=2)


@pytest.mark.parametrize("metric", [precision_at_k, recall_at_k, ndcg_at_k, map_at_k, hit_rate_at_k])
def test_ranking_metrics_need_a_relevant_item_and_k_at_least_1(metric):
    with pytest.raises(ValueError, match="no user has a relevant item"):
        metric({1: [1, 2]}, {1: set()}, k=2)
    with pytest.raises(ValueError, match="k must be at least 1"):
        metric(RECOMMENDED, RELEVANT, k=0)


def test_precision_divides_by_k_even_when_the_list_is_shorter():
    assert precision_at_k({1: [7]}, {1: {7}}, k=4) == 0.25
    assert ndcg_at_k({1: [7]}, {1: {7}}, k=4) == 1.0


def test_ranking_metrics_accept_numpy_lists_and_list_relevance():
    recommended = {1: np.array([10, 20, 30, 40]), 2: np.array([50, 60, 70, 80])}
    relevant = {1: [20, 40, 99], 2: [50]}

    assert precision_at_k(recommended, relevant, k=2) == pytest.approx(0.5)
    assert recall_at_k(recommended, relevant, k=2) == pytest.approx(2 / 3)
    assert ndcg_at_k(recommended, relevant, k=2) == pytest.approx(0.6934264)


def test_repeated_relevant_items_count_once():
    # A relevant list that repeats an item describes the same set {5, 6}.
    assert recall_at_k({1: [5, 1]}, {1: [5, 5, 6]}, k=2) == pytest.approx(0.5)
    assert ndcg_at_k({1: [5, 6]}, {1: [5, 5, 6]}, k=2) == pytest.approx(1.0)


@pytest.mark.parametrize("metric", [precision_at_k, recall_at_k, ndcg_at_k, map_at_k, hit_rate_at_k])
def test_a_list_that_repeats_an_item_is_refused(metric):
    # Repeating a relevant item would count it twice in DCG: NDCG = 1.63 > 1.
    with pytest.raises(ValueError, match="repeats item 5"):
        metric({1: [5, 5]}, {1: {5}}, k=2)
    # Repeats below the top K do not enter the metric.
    assert metric({1: [5, 6, 6]}, {1: {5, 6}}, k=2) == 1.0


@pytest.mark.parametrize("metric", [precision_at_k, recall_at_k, ndcg_at_k, map_at_k, hit_rate_at_k])
def test_ranking_metrics_stay_in_0_1_on_random_lists(metric):
    rng = np.random.default_rng(0)
    recommended = {u: list(rng.permutation(50)[:10]) for u in range(20)}
    relevant = {u: set(rng.choice(50, size=rng.integers(0, 15), replace=False).tolist()) for u in range(20)}

    for k in (1, 5, 10):
        assert 0.0 <= metric(recommended, relevant, k=k) <= 1.0


# --- MAP@K and hit rate@K (dict form) --------------------------------------------------------
#
# Same lists. K = 4, user 1: hits at ranks 2 and 4, precision@2 = 1/2, precision@4 = 2/4;
#   AP@4 = (1/2 + 2/4) / min(4, 3) = 1/3. User 2: hit at rank 1, AP = 1 / min(4, 1) = 1.
#   MAP@4 = (1/3 + 1) / 2 = 2/3.
# K = 1: user 1 misses (AP 0), user 2 hits (AP 1): MAP@1 = 0.5; hit rate@1 = 0.5, @2 = 1.


def test_map_at_k_by_hand():
    assert map_at_k(RECOMMENDED, RELEVANT, k=4) == pytest.approx(2 / 3)
    assert map_at_k(RECOMMENDED, RELEVANT, k=2) == pytest.approx((0.5 / 2 + 1) / 2)
    assert map_at_k(RECOMMENDED, RELEVANT, k=1) == pytest.approx(0.5)


def test_map_divides_by_the_hits_a_perfect_list_could_have():
    # 5 relevant items, K = 2: a perfect top 2 scores 1 (dividing by |R| = 5 would give 0.4).
    assert map_at_k({1: [1, 2]}, {1: {1, 2, 3, 4, 5}}, k=2) == 1.0
    # A hit at rank 2 only: precision@2 = 1/2, divided by min(2, 5) = 2.
    assert map_at_k({1: [9, 2]}, {1: {1, 2, 3, 4, 5}}, k=2) == pytest.approx(0.25)


def test_hit_rate_at_k_by_hand():
    assert hit_rate_at_k(RECOMMENDED, RELEVANT, k=1) == pytest.approx(0.5)
    assert hit_rate_at_k(RECOMMENDED, RELEVANT, k=2) == 1.0
    assert hit_rate_at_k({1: [4, 5, 6]}, {1: {1, 2}}, k=3) == 0.0


# --- the tensor form -------------------------------------------------------------------------
#
# The same two users as 0-based indices over 8 items: user row 0 recommended [0, 1, 2, 3] with
# relevant {1, 3, 7}; user row 1 recommended [4, 5, 6, 7] with relevant {4}. A third user row has
# no relevant item and gets NaN.

TOP = torch.tensor([[0, 1, 2, 3], [4, 5, 6, 7], [0, 1, 2, 3]])
HELD = torch.zeros((3, 8), dtype=torch.bool)
HELD[0, [1, 3, 7]] = True
HELD[1, 4] = True


def test_tensor_form_matches_the_hand_computed_values_per_user():
    at_2 = {
        precision_at_k_per_user: [0.5, 0.5],
        recall_at_k_per_user: [1 / 3, 1.0],
        ndcg_at_k_per_user: [(1 / log2(3)) / (1 + 1 / log2(3)), 1.0],
        average_precision_at_k_per_user: [0.5 / 2, 1.0],
        hit_rate_at_k_per_user: [1.0, 1.0],
    }
    for metric, expected in at_2.items():
        values = metric(TOP, HELD, 2)
        assert values.dtype == torch.float64 and values.shape == (3,)
        assert values[:2].tolist() == pytest.approx(expected), metric.__name__
        assert torch.isnan(values[2]), metric.__name__


def test_tensor_and_dict_forms_agree():
    for per_user, dict_form in [
        (precision_at_k_per_user, precision_at_k),
        (recall_at_k_per_user, recall_at_k),
        (ndcg_at_k_per_user, ndcg_at_k),
        (average_precision_at_k_per_user, map_at_k),
        (hit_rate_at_k_per_user, hit_rate_at_k),
    ]:
        for k in (1, 2, 4, 6):
            assert mean_over_users(per_user(TOP, HELD, k)) == pytest.approx(
                dict_form(RECOMMENDED, RELEVANT, k)
            )


def test_k_defaults_to_the_width_and_may_exceed_it_as_padding():
    assert recall_at_k_per_user(TOP, HELD)[:2].tolist() == pytest.approx([2 / 3, 1.0])
    # K = 6 > width 4: the two missing places are misses; precision divides by 6.
    assert precision_at_k_per_user(TOP, HELD, 6)[:2].tolist() == pytest.approx([2 / 6, 1 / 6])


def test_padding_is_a_miss_and_precision_still_divides_by_k():
    top = torch.tensor([[3, -1, -1]])
    held = torch.zeros((1, 5), dtype=torch.bool)
    held[0, [3, 4]] = True

    assert precision_at_k_per_user(top, held, 3).item() == pytest.approx(1 / 3)
    assert recall_at_k_per_user(top, held, 3).item() == pytest.approx(0.5)
    assert ndcg_at_k_per_user(top, held, 3).item() == pytest.approx(1 / (1 + 1 / log2(3)))
    assert average_precision_at_k_per_user(top, held, 3).item() == pytest.approx(0.5)
    # An empty list (all padding) scores 0, not NaN: the user had something to find.
    empty = torch.full((1, 3), -1)
    assert ndcg_at_k_per_user(empty, held, 3).item() == 0.0
    assert hits_at_k(empty, held, 3).tolist() == [[False, False, False]]


def test_tensor_form_accepts_numpy_and_0_1_matrices():
    values = ndcg_at_k_per_user(TOP.numpy(), HELD.numpy().astype(int), 2)
    assert values[:2].tolist() == pytest.approx(ndcg_at_k_per_user(TOP, HELD, 2)[:2].tolist())


@pytest.mark.parametrize(
    ("top", "message"),
    [
        ([[0, 0, 1]], "row 0 of top_k repeats item index 0"),
        ([[0, 8, 1]], r"top_k\[0, 1\] = 8 is not an item index"),
        ([[0, -2, 1]], r"top_k\[0, 1\] = -2"),
        ([[0, -1, 1]], "item after a -1"),
    ],
)
def test_tensor_form_refuses_invalid_lists(top, message):
    held = torch.ones((1, 8), dtype=torch.bool)
    with pytest.raises(ValueError, match=message):
        ndcg_at_k_per_user(torch.tensor(top), held, 3)


def test_tensor_form_refuses_bad_shapes_and_types():
    with pytest.raises(ValueError, match="3 rows"):
        recall_at_k_per_user(TOP, HELD[:2], 2)
    with pytest.raises(ValueError, match="integer item indices"):
        recall_at_k_per_user(TOP.float(), HELD, 2)
    with pytest.raises(ValueError, match="boolean"):
        recall_at_k_per_user(TOP, HELD.float() * 2, 2)
    with pytest.raises(ValueError, match="k must be at least 1"):
        recall_at_k_per_user(TOP, HELD, 0)
    # Repeats beyond the first k places do not count, as in the dict form.
    assert recall_at_k_per_user(torch.tensor([[1, 3, 3]]), HELD[:1], 2).item() == pytest.approx(2 / 3)


def test_mean_over_users_skips_nan_and_refuses_all_nan():
    assert mean_over_users(torch.tensor([1.0, float("nan"), 0.0])) == 0.5
    assert mean_over_users(np.array([0.25])) == 0.25
    with pytest.raises(ValueError, match="no user has a relevant item"):
        mean_over_users(torch.tensor([float("nan")]))


def test_dict_form_keeps_any_item_labels():
    # Titles as labels: the dict form maps them to indices internally.
    recommended = {"ann": ["Heat", "Alien", "Fargo"]}
    relevant = {"ann": {"Fargo", "Casablanca"}}
    assert recall_at_k(recommended, relevant, k=3) == 0.5
    assert map_at_k(recommended, relevant, k=3) == pytest.approx((1 / 3) / 2)

"""evaluate_ranking: full ranking over unseen items for any object with score_items."""

from __future__ import annotations

from math import log2

import numpy as np
import pandas as pd
import pytest

from recsys_ref.ranking import RankingReport, evaluate_ranking


class FixedScores:
    """A model whose scores are a given matrix (row = user id - 1), with the optional n_items keyword."""

    def __init__(self, scores):
        self.scores = np.asarray(scores, dtype=float)
        self.calls = []

    def score_items(self, user_ids, *, n_items=None):
        self.calls.append(list(user_ids))
        scores = self.scores[np.asarray(user_ids) - 1]
        if n_items is not None and n_items > scores.shape[1]:
            scores = np.hstack([scores, np.zeros((len(scores), n_items - scores.shape[1]))])
        return scores


class OnlyScoreItems:
    """The bare contract: score_items(user_ids), nothing else."""

    def __init__(self, scores):
        self.scores = np.asarray(scores, dtype=float)

    def score_items(self, user_ids):
        return self.scores[np.asarray(user_ids) - 1]


def frame(rows):
    return pd.DataFrame(rows, columns=["user_id", "item_id", "rating"])


# 3 users, 5 items. Scores favour item 5, then 4, 3, 2, 1 for everybody except user 2.
SCORES = [[1, 2, 3, 4, 5], [5, 4, 3, 2, 1], [1, 2, 3, 4, 5]]
# Training: user 1 rated item 5, user 2 items 1 and 2, user 3 item 1 (2 stars: still seen).
TRAIN = frame([(1, 5, 4), (2, 1, 5), (2, 2, 3), (3, 1, 2)])
# Test: user 1 liked items 3 and 1; user 2 liked 5 (and rated 4 three stars); user 3 liked nothing.
TEST = frame([(1, 3, 4), (1, 1, 5), (2, 5, 4), (2, 4, 3), (3, 2, 1)])


def test_report_by_hand():
    report = evaluate_ranking(FixedScores(SCORES), TRAIN, TEST, k=2)

    assert isinstance(report, RankingReport)
    # User 3 has no relevant test item: left out. Lists are 0-based, seen items skipped.
    assert report.per_user.index.tolist() == [1, 2]
    assert report.top_k.tolist() == [[3, 2], [2, 3]]  # user 1: items 4, 3; user 2: items 3, 4
    per_user = report.per_user
    # User 1: relevant {3, 1}, list [4, 3]: hit at rank 2.
    assert per_user.loc[1, "precision"] == 0.5
    assert per_user.loc[1, "recall"] == 0.5
    assert per_user.loc[1, "ndcg"] == pytest.approx((1 / log2(3)) / (1 + 1 / log2(3)))
    assert per_user.loc[1, "ap"] == pytest.approx(0.5 / 2)
    assert per_user.loc[1, "hit_rate"] == 1.0
    # User 2: relevant {5}, list [3, 4]: no hit.
    assert per_user.loc[2, ["precision", "recall", "ndcg", "ap", "hit_rate"]].tolist() == [0, 0, 0, 0, 0]
    assert per_user["n_relevant"].tolist() == [2, 1]
    assert per_user["n_candidates"].tolist() == [4, 3]
    # Popularity in training users: item 1 -> 2, 2 -> 1, 5 -> 1, items 3, 4 -> 0; 3 training users.
    assert per_user.loc[1, "arp"] == 0.0 and per_user.loc[2, "arp"] == 0.0
    assert per_user.loc[1, "novelty"] == pytest.approx(log2(3))  # unseen items count as 1 user
    assert report.coverage == pytest.approx(2 / 5)
    summary = report.summary()
    assert list(summary) == ["precision", "recall", "ndcg", "map", "hit_rate", "coverage", "novelty", "arp"]
    assert summary["recall"] == pytest.approx(0.25)
    assert summary["map"] == pytest.approx(0.125)


def test_threshold_decides_the_relevant_items():
    report = evaluate_ranking(FixedScores(SCORES), TRAIN, TEST, k=2, threshold=3.0)
    # User 2's 3-star rating of item 4 now counts: list [3, 4] hits it at rank 2.
    assert report.per_user.loc[2, "recall"] == 0.5


def test_batches_do_not_change_the_result_and_bound_the_scored_users():
    model = FixedScores(SCORES)
    one_by_one = evaluate_ranking(model, TRAIN, TEST, k=3, batch_size=1)
    assert all(len(call) == 1 for call in model.calls)
    together = evaluate_ranking(FixedScores(SCORES), TRAIN, TEST, k=3)
    pd.testing.assert_frame_equal(one_by_one.per_user, together.per_user)


def test_the_bare_contract_is_enough():
    report = evaluate_ranking(OnlyScoreItems(SCORES), TRAIN, TEST, k=2)
    assert report.n_items == 5


def test_n_items_is_passed_to_score_items():
    model = FixedScores(SCORES)
    report = evaluate_ranking(model, TRAIN, TEST, k=2, n_items=7)
    assert report.n_items == 7
    assert report.top_k.tolist() == [[3, 2], [2, 3]]


def test_ties_use_the_index_rule_or_a_seeded_random_order():
    constant = FixedScores(np.zeros((3, 5)))

    by_index = evaluate_ranking(constant, TRAIN, TEST, k=2)
    assert by_index.top_k.tolist() == [[0, 1], [2, 3]]  # lowest unseen ids first
    random_a = evaluate_ranking(constant, TRAIN, TEST, k=4, tie_seed=1)
    random_b = evaluate_ranking(constant, TRAIN, TEST, k=4, tie_seed=1)
    assert random_a.top_k.tolist() == random_b.top_k.tolist()
    assert sorted(random_a.top_k[0].tolist()) == [0, 1, 2, 3]  # user 1's four unseen items
    lists = {tuple(evaluate_ranking(constant, TRAIN, TEST, k=4, tie_seed=s).top_k[0]) for s in range(20)}
    assert len(lists) > 5


def test_short_candidate_lists_are_padded():
    report = evaluate_ranking(FixedScores(SCORES), TRAIN, TEST, k=5)
    assert report.top_k[1].tolist() == [2, 3, 4, -1, -1]  # user 2 has 3 unseen items


@pytest.mark.parametrize(
    ("model", "train", "test", "message"),
    [
        (FixedScores([[1, 2, np.nan, 4, 5]] * 3), TRAIN, TEST, "NaN scores for user 1"),
        (OnlyScoreItems(np.zeros((3, 4))), TRAIN, TEST, "item_id 5, but the model scores only 4 items"),
        (
            FixedScores(SCORES),
            pd.concat([TRAIN, frame([(2, 5, 1)])]),
            TEST,
            "user 2 has item 5 both in train",
        ),
        (FixedScores(SCORES), TRAIN, TEST.assign(rating=1), "no test rating is >= 4.0"),
        (FixedScores(SCORES), TRAIN, TEST.drop(columns="rating"), "no column 'rating'"),
        (FixedScores(SCORES), TRAIN.assign(user_id=0), TEST, "ids start at 1"),
    ],
)
def test_bad_inputs_are_refused_with_the_culprit(model, train, test, message):
    with pytest.raises(ValueError, match=message):
        evaluate_ranking(model, train, test, k=2)


def test_a_model_returning_the_wrong_shape_is_refused():
    class Wrong:
        def score_items(self, user_ids):
            return np.zeros((len(user_ids) + 1, 5))

    with pytest.raises(ValueError, match="returned shape"):
        evaluate_ranking(Wrong(), TRAIN, TEST, k=2)


def test_a_rating_predictor_is_ranked_by_its_unclipped_scores(planted):
    """The RatingPredictor contract (recsys_ref.base) works as it is, n_items included."""
    from recsys_ref.baselines import BiasBaseline

    model = BiasBaseline().fit(planted.train)
    report = evaluate_ranking(model, planted.train, planted.test, k=5, n_items=planted.n_items + 3)

    assert report.n_items == planted.n_items + 3
    # For a fixed user the bias baseline ranks by item bias: every list starts with the same
    # best unseen items, never with an item the user rated in training.
    scores = model.score_items([1], n_items=planted.n_items)[0]
    seen = planted.train.loc[planted.train["user_id"] == 1, "item_id"].to_numpy() - 1
    candidates = np.setdiff1d(np.arange(planted.n_items), seen)
    best = candidates[np.argsort(-scores[candidates], kind="stable")[:5]]
    assert report.top_k[0].tolist() == best.tolist()

"""The checks of the assignment ``rank``, without a notebook: the reference passes them, the sampler's statistics.

The cases of ``tests/cases_rank.py`` (correct styles, planted mistakes, the untouched release)
are graded through the notebook in ``tests/grader/test_cases_in_process.py`` and, through the
real ``make grade`` path, in ``tests/pipeline``. Here the recorders of
:mod:`recsys_ref.grading.rank` run reference code directly on the grader's probes, and the
checks of :mod:`grader.checks.rank` score what they recorded:

* every check passes the reference implementation, for several students' probes;
* the statistical test of the sampler passes correct samplers of several styles on every seed
  tried, and fails a sampler that returns a positive 1 % of the time, one that favours one item
  per user, one that ignores its generator, and one that never ends.
"""

from __future__ import annotations

import functools

import pytest
import torch

from grader import scoring
from grader.checks import Context, Failure
from grader.checks import rank as checks
from recsys_ref.grading import rank as records
from recsys_ref.grading.exchange import EXCHANGE_ENV, RECORDS
from recsys_ref.grading.recording import record_calls
from recsys_ref.implicit import BPRModel, batch_l2, bpr_loss, interaction_matrix, sample_negatives
from recsys_ref.metrics.ranking import ndcg_at_k_per_user, recall_at_k_per_user
from recsys_ref.ranking import top_k

SEEDS = range(8)


class ReferenceModel(BPRModel):
    """The reference model with the notebook's signature, BPRModel(n_users, n_items, n_factors=32)."""

    def __init__(self, n_users, n_items, n_factors=checks.DEFAULT_FACTORS):
        super().__init__(n_users, n_items, n_factors)


def reference_l2(user_weight, item_weight, users, positives, negatives):
    return batch_l2(user_weight[users], item_weight[positives], item_weight[negatives])


REFERENCE = {
    "interaction_matrix": interaction_matrix,
    "sample_negatives": sample_negatives,
    "bpr_loss": bpr_loss,
    "l2_penalty": reference_l2,
    "BPRModel": ReferenceModel,
    "top_k": top_k,
    "recall_at_k_per_user": recall_at_k_per_user,
    "ndcg_at_k_per_user": ndcg_at_k_per_user,
}
RECORDERS = (("interaction_matrix", records.record_interactions), ("sample_negatives", records.record_negatives),
             ("bpr_loss", records.record_bpr_loss), ("l2_penalty", records.record_l2_penalty),
             ("BPRModel", records.record_bpr_model), ("top_k", records.record_top_k),
             ("recall_at_k_per_user", records.record_recall), ("ndcg_at_k_per_user", records.record_ndcg))


def grade(pieces: dict, student: str, tmp_path, monkeypatch) -> dict:
    """Every task's result when the hidden tests record ``pieces`` (name -> function or class)."""
    exchange = tmp_path / student
    (exchange / RECORDS).mkdir(parents=True)
    probes = scoring.write_probes("rank", student, {}, exchange)
    with monkeypatch.context() as patch:
        patch.setenv(EXCHANGE_ENV, str(exchange))
        for name, recorder in RECORDERS:
            recorder(pieces.get(name))
    return {r.grade_id: r for r in scoring.score("rank", scoring.read_records(exchange / RECORDS), probes, {}, {})}


@pytest.mark.parametrize("student", ["ada", "grace", "alan"])
def test_the_reference_passes_every_check(student, tmp_path, monkeypatch):
    results = grade(REFERENCE, student, tmp_path, monkeypatch)
    assert [r.grade_id for r in results.values()] == [t.grade_id for t in checks.TASKS]
    assert all(r.score > 0 for r in results.values()), {g: r.message for g, r in results.items() if not r.score}


def test_nothing_defined_fails_every_task_with_its_own_message(tmp_path, monkeypatch):
    results = grade({}, "nobody", tmp_path, monkeypatch)
    assert all(r.score == 0 for r in results.values())
    assert "interaction_matrix is not defined" in results["task1-interactions-test"].message
    assert "BPRModel to be a class derived from nn.Module" in results["task4-model-test"].message
    assert all(r.message.startswith(task.title) for r, task in zip(results.values(), checks.TASKS))


def test_probes_are_fresh_per_student_and_reproducible():
    first, again = scoring.build_probes("rank", "ada", {}), scoring.build_probes("rank", "ada", {})
    other = scoring.build_probes("rank", "grace", {})
    assert set(first) == {records.INTERACTIONS, records.NEGATIVES, records.BPR_LOSS, records.L2_PENALTY, records.MODEL,
                          records.TOP_K, records.RECALL, records.NDCG}
    for key, bundle in first.items():
        assert bundle.meta == again[key].meta
        assert all(torch.equal(t, again[key].tensors[name]) for name, t in bundle.tensors.items())
    assert any(not torch.equal(t, other[records.TOP_K].tensors[name]) for name, t in first[records.TOP_K].tensors.items())


# --------------------------------------------------------------------------- the sampler's statistics


def check_sampler(sampler, seed: int) -> None:
    """Run the sampler on a negatives probe drawn with ``seed`` and check it (raises Failure)."""
    probe = checks.negatives_probe(torch.Generator().manual_seed(seed))[records.NEGATIVES]
    record = record_calls(sampler, probe, name="sample_negatives")
    checks.check_negatives(Context({records.NEGATIVES: record}, {records.NEGATIVES: probe}))


def rejection(users, interactions, generator):
    negatives = torch.randint(0, interactions.shape[1], users.shape, generator=generator)
    rejected = interactions[users, negatives] > 0
    while rejected.any():
        negatives[rejected] = torch.randint(0, interactions.shape[1], (int(rejected.sum()),), generator=generator)
        rejected = interactions[users, negatives] > 0
    return negatives


def multinomial(users, interactions, generator):
    return torch.multinomial(1.0 - interactions[users], 1, generator=generator)[:, 0]


def per_pair_loop(users, interactions, generator):
    picks = []
    for user in users.tolist():
        candidates = (interactions[user] == 0).nonzero().flatten()
        picks.append(int(candidates[int(torch.rand(1, generator=generator) * len(candidates))]))
    return torch.tensor(picks)


@pytest.mark.parametrize("sampler", [sample_negatives, rejection, multinomial, per_pair_loop],
                         ids=["reference", "rejection", "multinomial", "per-pair-loop"])
def test_correct_samplers_pass_on_every_seed(sampler):
    for seed in SEEDS:
        check_sampler(sampler, seed)


def leaking(rate: float):
    """A correct sampler that returns one of the user's positives instead with probability ``rate``."""

    def sampler(users, interactions, generator):
        negatives = sample_negatives(users, interactions, generator)
        leak = torch.rand(len(users), generator=generator) < rate
        for b in leak.nonzero().flatten().tolist():
            positives = interactions[users[b]].nonzero().flatten()
            if len(positives):
                negatives[b] = positives[int(torch.randint(len(positives), (1,), generator=generator))]
        return negatives

    return sampler


def favouring_one_item(users, interactions, generator):
    """Each user's first unseen item gets twice the chance of the others."""
    weights = 1.0 - interactions[users]
    first = weights.argmax(dim=1)
    weights[torch.arange(len(users)), first] = 2.0
    return torch.multinomial(weights, 1, generator=generator)[:, 0]


def fixed_seed(users, interactions, generator):
    return rejection(users, interactions, torch.Generator().manual_seed(0))


@pytest.mark.parametrize(("sampler", "message"), [
    (leaking(0.01), "are positives"),
    (favouring_one_item, "far from uniform"),
    (fixed_seed, "ignores the generator"),
], ids=["positive-1-percent", "one-item-twice-as-likely", "fixed-seed"])
def test_wrong_samplers_fail_on_every_seed(sampler, message):
    for seed in SEEDS:
        with pytest.raises(Failure, match=message):
            check_sampler(sampler, seed)


def test_uniformity_p_value_tells_uniform_from_skewed_draws():
    generator = torch.Generator().manual_seed(0)
    matrix = torch.zeros(2, 6)
    matrix[0, 0] = 1.0
    users = torch.arange(2).repeat_interleave(3000)
    uniform = torch.where(users == 0, 1 + torch.randint(0, 5, users.shape, generator=generator),
                          torch.randint(0, 6, users.shape, generator=generator))
    skewed = torch.where(torch.rand(users.shape, generator=generator) < 0.1, torch.full_like(users, 5), uniform)
    assert checks.uniformity_p_value([users], [uniform], [matrix]) > 1e-3
    assert checks.uniformity_p_value([users], [skewed], [matrix]) < checks.UNIFORMITY_P


def test_a_sampler_that_never_ends_is_stopped_and_named(tmp_path, monkeypatch):
    def endless(users, interactions, generator):
        while True:
            pass

    monkeypatch.setattr(records, "SAMPLER_SECONDS", 0.2)
    results = grade({**REFERENCE, "sample_negatives": endless}, "endless", tmp_path, monkeypatch)
    assert results["task2-negatives-test"].score == 0
    assert "SamplerTimeout" in results["task2-negatives-test"].message
    assert "rejection loop that never ends" in results["task2-negatives-test"].message
    assert all(r.score > 0 for g, r in results.items() if g != "task2-negatives-test")


# --------------------------------------------------------------------------- the training cell's pieces


def test_ranking_pieces_keep_working_pieces_and_replace_broken_ones(capsys):
    broken_loss = functools.partial(lambda p, n: -torch.log(torch.sigmoid(p - n)).mean())
    namespace = {**REFERENCE, "bpr_loss": broken_loss, "top_k": None}
    pieces = records.ranking_pieces(namespace)
    assert pieces.substituted == ["bpr_loss", "top_k"]
    assert pieces.sample_negatives is sample_negatives and pieces.bpr_loss is bpr_loss
    assert "bpr_loss, top_k" in capsys.readouterr().out
    assert records.ranking_pieces(REFERENCE, verbose=False).substituted == []

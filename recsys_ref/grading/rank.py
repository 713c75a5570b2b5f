"""What the hidden tests of the assignment ``rank`` record in the student's kernel, and the training cell's pieces.

Each ``record_*`` function is one hidden test: it runs the student's piece on
the grader's probe (fresh inputs, see :mod:`recsys_ref.grading.exchange`) and
writes what happened. It decides nothing; the grader's checks
(``grader/checks/rank.py``) compare the record with the reference
(:mod:`recsys_ref.implicit`, :mod:`recsys_ref.ranking`,
:mod:`recsys_ref.metrics.ranking`) and give the score and the message.
Outside grading (no exchange folder) the functions do nothing.

* :func:`record_interactions` (Task 1): ``interaction_matrix(ratings, n_users,
  n_items, threshold)`` on the probe's rating frames, and whether a call
  changed its frame.
* :func:`record_negatives` (Task 2): ``sample_negatives(users, interactions,
  generator)`` on large batches (for the grader's statistical test), twice
  with the same generator seed under different global seeds, and with
  another seed.
* :func:`record_bpr_loss`, :func:`record_l2_penalty` (Task 3), with gradients.
* :func:`record_bpr_model` (Task 4): builds ``BPRModel`` with the probe's
  sizes and records its modules and parameters (names, shapes, initial
  spread), then gives every parameter random values and records them and
  what ``score`` returns on the probe's pairs, with the gradients.
* :func:`record_top_k` (Task 5), :func:`record_recall`, :func:`record_ndcg` (Task 6).

:func:`ranking_pieces` is for the provided training cell, on the student's
machine only: the student's pieces where they work on a small example, the
reference's where they do not (it imports the reference lazily; the grading
sandbox has none and skips that cell).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import functools
import signal as _signal
import threading

import pandas as pd
import torch
from torch import nn

from recsys_ref.grading.deep import describe_module, find_modules
from recsys_ref.grading.exchange import Bundle, exchange_dir, read_probe, write_record
from recsys_ref.grading.recording import (
    decode_input,
    describe_error,
    encode,
    isolated,
    keep_global_rng,
    plain_copy,
    record_call,
    record_calls,
    type_name,
)

INTERACTIONS = "rank.interactions"
NEGATIVES = "rank.negatives"
BPR_LOSS = "rank.bpr_loss"
L2_PENALTY = "rank.l2_penalty"
MODEL = "rank.model"
TOP_K = "rank.top_k"
RECALL = "rank.recall"
NDCG = "rank.ndcg"

#: The attributes Task 4 names (the item bias is optional).
MODEL_ATTRIBUTES = ("user_factors", "item_factors", "item_bias")

# Bound at import, before student code runs.
_DataFrame = pd.DataFrame
_Module = nn.Module
_Embedding = nn.Embedding
_isinstance, _issubclass, _callable, _getattr = isinstance, issubclass, callable, getattr
_no_grad = torch.no_grad
_randn = torch.randn
_Generator = torch.Generator
_current_thread, _main_thread = threading.current_thread, threading.main_thread
_get_num_threads, _set_num_threads = torch.get_num_threads, torch.set_num_threads


def _grading() -> bool:
    return exchange_dir() is not None


def one_thread(recorder: Callable) -> Callable:
    """Run a recorder with one torch thread (the previous setting restored afterwards).

    :func:`~recsys_ref.grading.recording.isolated` runs recorders in a forked
    child; GNU OpenMP is not fork-safe, and a child whose parent ran a parallel
    torch operation hangs in its first one. With one thread torch never enters
    an OpenMP region. (The notebook's setup cell sets one thread too.)
    """

    @functools.wraps(recorder)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        previous = _get_num_threads()
        _set_num_threads(1)
        try:
            return recorder(*args, **kwargs)
        finally:
            _set_num_threads(previous)

    return wrapper


# --------------------------------------------------------------------------- Task 1


def _frames_changed(before: list[tuple[Any, Any]]) -> bool:
    for frame, copy in before:
        try:
            if not (_isinstance(frame, _DataFrame) and frame.equals(copy) and list(frame.columns) == list(copy.columns)
                    and (frame.dtypes == copy.dtypes).all()):
                return True
        except Exception:  # noqa: BLE001 - a frame the student broke beyond comparison
            return True
    return False


@isolated
@one_thread
@keep_global_rng
def record_interactions(interaction_matrix: Any) -> None:
    """Task 1: run ``interaction_matrix(ratings, n_users, n_items[, threshold])`` on the probe's frames.

    Besides :func:`~recsys_ref.grading.recording.record_call`'s outcome, each
    call's record says whether the frame was changed (``frame_modified``).
    """
    if not _grading():
        return
    probe = read_probe(INTERACTIONS)
    bundle = Bundle({"name": "interaction_matrix", "defined": interaction_matrix is not None,
                     "callable": _callable(interaction_matrix), "type": type_name(interaction_matrix), "calls": []})
    if _callable(interaction_matrix):
        for call in probe.meta.get("calls", []):
            changed: list[bool] = []

            def watched(*args: Any, **kwargs: Any) -> Any:
                frames = [(a, a.copy(deep=True)) for a in (*args, *kwargs.values()) if _isinstance(a, _DataFrame)]
                try:
                    return interaction_matrix(*args, **kwargs)
                finally:
                    changed.append(_frames_changed(frames))

            torch.manual_seed(int(call.get("seed", 0)))
            outcome = record_call(watched, call, probe, bundle)
            outcome["frame_modified"] = bool(changed and changed[0])
            bundle.meta["calls"].append(outcome)
    write_record(INTERACTIONS, bundle)


# --------------------------------------------------------------------------- Tasks 2, 3, 5, 6: functions


#: Seconds a call of the student's sampler may take (a correct one, even a Python loop, takes well under one):
#: a rejection loop that can never accept (an upper bound one too low) is stopped and recorded as such.
SAMPLER_SECONDS = 10.0


class SamplerTimeout(Exception):
    """Raised in the student's sampler when a call takes longer than :data:`SAMPLER_SECONDS`."""


def _time_limited(function: Callable, seconds: float) -> Callable:
    """``function``, interrupted by :class:`SamplerTimeout` after ``seconds`` (main thread only; else unlimited)."""
    if _current_thread() is not _main_thread() or not hasattr(_signal, "setitimer"):
        return function

    def alarm(signum: int, frame: Any) -> None:
        raise SamplerTimeout(f"did not finish within {seconds:g} s")

    def limited(*args: Any, **kwargs: Any) -> Any:
        previous = _signal.signal(_signal.SIGALRM, alarm)
        _signal.setitimer(_signal.ITIMER_REAL, seconds)
        try:
            return function(*args, **kwargs)
        finally:
            _signal.setitimer(_signal.ITIMER_REAL, 0)
            _signal.signal(_signal.SIGALRM, previous)

    return limited


@isolated
@one_thread
@keep_global_rng
def record_negatives(sample_negatives: Any) -> None:
    """Task 2: run ``sample_negatives(users, interactions, generator)`` on the grader's batches.

    Each call is stopped after :data:`SAMPLER_SECONDS` (recorded as a ``SamplerTimeout`` error).
    """
    if not _grading():
        return
    bundle = record_calls(_time_limited(sample_negatives, SAMPLER_SECONDS) if _callable(sample_negatives)
                          else sample_negatives, read_probe(NEGATIVES), name="sample_negatives")
    bundle.meta.update(defined=sample_negatives is not None, type=type_name(sample_negatives))
    write_record(NEGATIVES, bundle)


@isolated
@one_thread
@keep_global_rng
def record_bpr_loss(bpr_loss: Any) -> None:
    """Task 3: run ``bpr_loss(positive_scores, negative_scores)`` on the grader's scores, with gradients."""
    if _grading():
        write_record(BPR_LOSS, record_calls(bpr_loss, read_probe(BPR_LOSS), name="bpr_loss"))


@isolated
@one_thread
@keep_global_rng
def record_l2_penalty(l2_penalty: Any) -> None:
    """Task 3: run ``l2_penalty(user_weight, item_weight, users, positives, negatives)``, with gradients."""
    if _grading():
        write_record(L2_PENALTY, record_calls(l2_penalty, read_probe(L2_PENALTY), name="l2_penalty"))


@isolated
@one_thread
@keep_global_rng
def record_top_k(top_k: Any) -> None:
    """Task 5: run ``top_k(scores, seen, k)`` on the grader's score matrices."""
    if _grading():
        write_record(TOP_K, record_calls(top_k, read_probe(TOP_K), name="top_k"))


@isolated
@one_thread
@keep_global_rng
def record_recall(recall_at_k_per_user: Any) -> None:
    """Task 6: run ``recall_at_k_per_user(top_k, held_out)`` on the grader's lists."""
    if _grading():
        write_record(RECALL, record_calls(recall_at_k_per_user, read_probe(RECALL), name="recall_at_k_per_user"))


@isolated
@one_thread
@keep_global_rng
def record_ndcg(ndcg_at_k_per_user: Any) -> None:
    """Task 6: run ``ndcg_at_k_per_user(top_k, held_out)`` on the grader's lists."""
    if _grading():
        write_record(NDCG, record_calls(ndcg_at_k_per_user, read_probe(NDCG), name="ndcg_at_k_per_user"))


# --------------------------------------------------------------------------- Task 4


def _attribute(model: Any, name: str) -> dict[str, Any]:
    try:
        value = _getattr(model, name, None)
    except Exception as error:  # noqa: BLE001 - a property that raises
        return describe_error(error)
    if value is None:
        return {"kind": "none"}
    if _isinstance(value, _Module):
        facts = describe_module(value)
        facts["kind_of"] = "module"
        return facts
    if _isinstance(value, torch.Tensor):
        return {"kind_of": "tensor", "type": type_name(value), "shape": [int(n) for n in value.shape],
                "is_parameter": _isinstance(value, nn.Parameter)}
    return {"kind_of": "other", "type": type_name(value)}


def _spread(tensor: torch.Tensor) -> dict[str, Any]:
    values = plain_copy(tensor).to(torch.float64)
    finite = bool(torch.isfinite(values).all())
    return {"finite": finite, "std": float(values.std()) if finite and values.numel() > 1 else 0.0,
            "max_abs": float(values.abs().max()) if finite and values.numel() else 0.0}


def _score(model: Any, call: dict[str, Any], probe: Bundle, bundle: Bundle) -> dict[str, Any]:
    users, items = decode_input(call["users"], probe), decode_input(call["items"], probe)
    before = (plain_copy(users), plain_copy(items))
    outcome: dict[str, Any] = {"result": None, "error": None, "grads": {}, "modified": []}
    for parameter in model.parameters():
        parameter.grad = None
    try:
        out = model.score(users, items)
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # noqa: BLE001 - the student's answer
        outcome["error"] = describe_error(error)
        return outcome
    outcome["result"] = encode(out, bundle)
    outcome["modified"] = [i for i, (old, new) in enumerate(zip(before, (users, items)))
                           if old.shape != new.shape or not torch.equal(old, plain_copy(new))]
    if _isinstance(out, torch.Tensor) and out.requires_grad:
        try:
            out.sum().backward()
            for name, parameter in model.named_parameters():
                outcome["grads"][name] = (encode(parameter.grad, bundle) if parameter.grad is not None
                                          else {"kind": "none"})
        except Exception as error:  # noqa: BLE001
            outcome["backward_error"] = describe_error(error)
    return outcome


@isolated
@one_thread
@keep_global_rng
def record_bpr_model(cls: Any) -> None:
    """Task 4: build ``cls`` with each probe configuration; record its modules, parameters and ``score`` outputs."""
    if not _grading():
        return
    probe = read_probe(MODEL)
    bundle = Bundle({"type": type_name(cls), "is_module_class": _isinstance(cls, type) and _issubclass(cls, _Module),
                     "configs": []})
    if bundle.meta["is_module_class"]:
        for config in probe.meta["configs"]:
            torch.manual_seed(int(config.get("seed", 0)))
            facts: dict[str, Any] = {"error": None}
            try:
                model = cls(config["n_users"], config["n_items"], **config.get("kwargs", {}))
            except KeyboardInterrupt:
                raise
            except BaseException as error:  # noqa: BLE001
                facts["error"] = describe_error(error)
                bundle.meta["configs"].append(facts)
                continue
            facts["is_module"] = _isinstance(model, _Module)
            facts["type"] = type_name(model)
            if not facts["is_module"]:
                bundle.meta["configs"].append(facts)
                continue
            facts["modules"] = [dict(describe_module(m), path=path, registered=registered)
                                for path, m, registered in find_modules(model)]
            facts["attributes"] = {name: _attribute(model, name) for name in MODEL_ATTRIBUTES}
            parameters = list(model.named_parameters())
            facts["parameters"] = [{"name": name, "shape": [int(n) for n in p.shape], "requires_grad": p.requires_grad,
                                    "initial": _spread(p)} for name, p in parameters]
            facts["has_score"] = _callable(_getattr(model, "score", None))
            generator = _Generator().manual_seed(int(config.get("weight_seed", 0)))
            with _no_grad():
                for _, p in parameters:
                    if p.is_floating_point():
                        p.copy_(_randn(p.shape, generator=generator, dtype=torch.float64).to(p.dtype))
            facts["weights"] = {name: bundle.add_tensor("w", plain_copy(p)) for name, p in parameters}
            facts["scores"] = ([_score(model, call, probe, bundle) for call in config["calls"]]
                               if facts["has_score"] else [])
            bundle.meta["configs"].append(facts)
    write_record(MODEL, bundle)


# --------------------------------------------------------------------------- the training cell's pieces


@dataclass
class RankingPieces:
    """What the provided training cell uses, and which of the student's pieces were replaced by the reference's."""

    interaction_matrix: Callable
    sample_negatives: Callable
    bpr_loss: Callable
    l2_penalty: Callable
    BPRModel: Callable
    top_k: Callable
    recall_at_k_per_user: Callable
    ndcg_at_k_per_user: Callable
    substituted: list[str] = field(default_factory=list)


def _same(a: Any, b: torch.Tensor, *, atol: float = 1e-5) -> bool:
    if not _isinstance(a, torch.Tensor) or tuple(a.shape) != tuple(b.shape):
        return False
    a, b = a.detach().to(torch.float64), b.detach().to(torch.float64)
    return bool(torch.equal(torch.isnan(a), torch.isnan(b))
                and torch.allclose(torch.nan_to_num(a), torch.nan_to_num(b), atol=atol, rtol=1e-4))


def _works(test: Callable[[], bool]) -> bool:
    try:
        return bool(test())
    except Exception:  # noqa: BLE001 - the student's code may raise anything
        return False


def ranking_pieces(namespace: dict, *, verbose: bool = True) -> RankingPieces:
    """The pieces the provided training cell uses, on the student's machine.

    Each of the student's pieces in ``namespace`` (the notebook's ``globals()``)
    is used when it gives the reference's answer on a small example;
    otherwise the reference's: :func:`recsys_ref.implicit.interaction_matrix`,
    :func:`~recsys_ref.implicit.sample_negatives`, :func:`~recsys_ref.implicit.bpr_loss`,
    :func:`~recsys_ref.implicit.batch_l2` on the batch's rows,
    :class:`~recsys_ref.implicit.BPRModel`, :func:`recsys_ref.ranking.top_k`
    and the per-user metrics of :mod:`recsys_ref.metrics.ranking`. A quick
    test, not the grade.

    Returns:
        A :class:`RankingPieces`; ``substituted`` names the replaced pieces.
    """
    from recsys_ref import implicit as reference
    from recsys_ref.metrics.ranking import ndcg_at_k_per_user, recall_at_k_per_user
    from recsys_ref.ranking import top_k as reference_top_k

    generator = torch.Generator().manual_seed(0)
    frame = pd.DataFrame({"user_id": [1, 1, 2, 3, 3, 3, 4], "item_id": [1, 3, 2, 5, 1, 5, 4],
                          "rating": [5, 2, 4, 4, 3, 5, 1], "timestamp": [0] * 7})
    matrix = reference.interaction_matrix(frame, 4, 6, threshold=4.0)
    pos, neg = 6.0 * torch.randn(9, generator=generator), 6.0 * torch.randn(9, generator=generator)
    pos[0], neg[0] = -100.0, 100.0  # log(sigmoid(-200)) is -inf in float32, the training's dtype
    table_u, table_i = torch.randn(4, 3, generator=generator), torch.randn(6, 3, generator=generator)
    u, i, j = torch.tensor([0, 0, 2, 3]), torch.tensor([2, 2, 4, 0]), torch.tensor([1, 5, 1, 1])
    scores = torch.randint(0, 3, (4, 6), generator=generator).float()
    seen = matrix > 0
    lists = reference_top_k(scores, seen, 4)
    held = torch.tensor([[0, 0, 0, 0, 0, 1], [1, 0, 0, 1, 0, 0], [0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 0]]).bool()

    def sampler_ok(sample: Callable) -> bool:
        users = torch.arange(4).repeat(150)
        drawn = sample(users, matrix.clone(), torch.Generator().manual_seed(1))
        if not _isinstance(drawn, torch.Tensor) or drawn.dtype != torch.int64 or tuple(drawn.shape) != (600,):
            return False
        if bool((matrix[users, drawn.clamp(0, 5)] > 0).any()) or bool(((drawn < 0) | (drawn > 5)).any()):
            return False
        return all(set(drawn[users == user].tolist()) == set((matrix[user] == 0).nonzero().flatten().tolist())
                   for user in range(4))

    def model_ok(cls: Any) -> bool:
        model = cls(4, 6, 3)
        p, q = model.user_factors.weight, model.item_factors.weight
        if tuple(p.shape) != (4, 3) or tuple(q.shape) != (6, 3):
            return False
        bias = _getattr(model, "item_bias", None)
        b = (bias.weight if _isinstance(bias, nn.Module) else bias) if bias is not None else None
        out = model.score(u, i)
        expected = (p[u] * q[i]).sum(-1) + (b.reshape(-1)[i] if b is not None else 0.0)
        return _same(out, expected) and out.requires_grad

    def reference_l2(user_weight, item_weight, users, positives, negatives):
        return reference.batch_l2(user_weight[users], item_weight[positives], item_weight[negatives])

    def reference_model(n_users, n_items, n_factors=32):
        return reference.BPRModel(n_users, n_items, n_factors, seed=0)

    tests: dict[str, tuple[Callable, Callable[[Any], bool]]] = {
        "interaction_matrix": (reference.interaction_matrix, lambda f: (
            _same(f(frame.copy(), 4, 6, 4.0), matrix) and f(frame.copy(), 4, 6, 4.0).is_floating_point()
            and _same(f(frame.copy(), 4, 6, None), reference.interaction_matrix(frame, 4, 6, threshold=None)))),
        "sample_negatives": (reference.sample_negatives, sampler_ok),
        "bpr_loss": (reference.bpr_loss, lambda f: _same(f(pos.clone(), neg.clone()).reshape(()),
                                                         reference.bpr_loss(pos, neg))),
        "l2_penalty": (reference_l2, lambda f: _same(f(table_u, table_i, u, i, j).reshape(()),
                                                     reference_l2(table_u, table_i, u, i, j))),
        "BPRModel": (reference_model, model_ok),
        "top_k": (reference_top_k, lambda f: _same(f(scores.clone(), seen.clone(), 4), lists)
                  and _same(f(scores.clone(), seen.clone(), 8), reference_top_k(scores, seen, 8))),
        "recall_at_k_per_user": (recall_at_k_per_user, lambda f: _same(f(lists, held), recall_at_k_per_user(lists, held))),
        "ndcg_at_k_per_user": (ndcg_at_k_per_user, lambda f: _same(f(lists, held), ndcg_at_k_per_user(lists, held))),
    }
    chosen: dict[str, Callable] = {}
    substituted = []
    for name, (fallback, works) in tests.items():
        candidate = namespace.get(name)
        if _callable(candidate) and _works(lambda: works(candidate)):
            chosen[name] = candidate
        else:
            chosen[name] = fallback
            substituted.append(name)
    if verbose:
        if len(substituted) == len(tests):
            print("Using the reference's pieces: none of yours gives the expected answer on a small example yet "
                  "(see the tests above).")
        elif substituted:
            print("Using the reference's " + ", ".join(substituted) + " in place of yours (they do not give the "
                  "expected answer on a small example: see their tests above); your other pieces are used.")
        else:
            print("Using your pieces: every one of them works on a small example.")
    return RankingPieces(**chosen, substituted=substituted)


__all__ = [
    "BPR_LOSS",
    "INTERACTIONS",
    "L2_PENALTY",
    "MODEL",
    "NDCG",
    "NEGATIVES",
    "RECALL",
    "SAMPLER_SECONDS",
    "TOP_K",
    "RankingPieces",
    "SamplerTimeout",
    "ranking_pieces",
    "record_bpr_loss",
    "record_bpr_model",
    "record_interactions",
    "record_l2_penalty",
    "record_ndcg",
    "record_negatives",
    "record_recall",
    "record_top_k",
]


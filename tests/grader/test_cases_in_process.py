"""Every case of the case tables that can be graded without a kernel, graded in-process (fast).

Each case (``tests/cases_*.py``, ``in_process=True``) is graded once by
:func:`notebook_cases.grade_in_process` (the instructor's notebook with the
case's answer code, the hidden tests' recorders and the grader's checks, no
kernel or sandbox) and must get its expected score on every task, and the
message fragment it names on a task it loses. The real path (staging,
sandboxed kernels, nbgrader, feedback, flags) grades the same cases in
``tests/pipeline``.

Cases the grader is known to get wrong are listed in :data:`WRONG_SCORES`
and :data:`WRONG_MESSAGES` with what should happen (a case table may add
its own in dicts of the same names): they are strict ``xfail`` here, so
fixing the grader turns them into failures that ask to remove them from the
list.

For speed, without changing a verdict: two deterministic, expensive steps are
cached across cases (loading MovieLens 100K in the notebook's set-up cell,
and the Training replay of ``grader.checks.mf``, keyed by the factors' values
and the optimizer's class and settings; most cases share the solution's), and
the recorders run in place instead of in a forked child (their documented
behaviour where ``os.fork`` does not exist; the fork is a defence against a
student's threads, tested with the kernel side, and costs this large test
process a fork per recorder).
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import os
from pathlib import Path

import pytest
import torch

import recsys_ref.data
from grader.checks import mf as mf_checks
from notebook_cases import Case, grade_in_process

#: The case tables graded here (those that exist; the pipeline grades all of them).
CASE_MODULES = ("cases_mf", "cases_deep", "cases_wrappers", "cases_attacks", "cases_rank")

#: Case name -> what the grader gets wrong in the scores, and what it should do (empty: none known).
WRONG_SCORES: dict[str, str] = {}

#: Case name -> what is wrong with the message (the scores are right).
WRONG_MESSAGES: dict[str, str] = {}


def _case_tables() -> list:
    modules = []
    for name in CASE_MODULES:
        try:
            modules.append(importlib.import_module(name))
        except ModuleNotFoundError as error:
            if error.name != name:
                raise
    return modules


ALL_CASES = [case for module in _case_tables() for case in module.CASES]
for _module in _case_tables():
    WRONG_SCORES.update(getattr(_module, "WRONG_SCORES", {}))
    WRONG_MESSAGES.update(getattr(_module, "WRONG_MESSAGES", {}))
CASES = [case for case in ALL_CASES if case.in_process]


def _param(case: Case, known: dict[str, str]):
    reason = known.get(case.name)
    marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
    return pytest.param(case, id=case.name, marks=marks)


def _memoized_replay(replay):
    """``replay_training`` cached by its inputs' values (it is deterministic: the check seeds it)."""
    cache: dict[tuple, list[float]] = {}

    def digest(tensor: torch.Tensor) -> str:
        return hashlib.sha1(tensor.detach().contiguous().numpy().tobytes()).hexdigest()

    @functools.wraps(replay)
    def cached(user_factors, movies_factors, optimizer, ratings, exist, *args, **kwargs):
        groups = [([("user" if p is user_factors else "movies" if p is movies_factors else "?") for p in g["params"]],
                   sorted((k, repr(v)) for k, v in g.items() if k != "params")) for g in optimizer.param_groups]
        key = (type(optimizer).__module__, type(optimizer).__qualname__, repr(groups), digest(user_factors),
               digest(movies_factors), digest(ratings), digest(exist), args, tuple(sorted(kwargs.items())))
        if key not in cache:
            cache[key] = replay(user_factors, movies_factors, optimizer, ratings, exist, *args, **kwargs)
        return list(cache[key])

    return cached


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Case name -> grade id -> TaskResult, each case graded once, on first use."""
    cache: dict[str, dict | Exception] = {}
    folder: Path = tmp_path_factory.mktemp("in-process")
    patches = pytest.MonkeyPatch()
    patches.setattr(mf_checks, "replay_training", _memoized_replay(mf_checks.replay_training))
    patches.setattr(recsys_ref.data, "load_movielens_100k", functools.cache(recsys_ref.data.load_movielens_100k))
    patches.delattr(os, "fork", raising=False)  # recsys_ref.grading.recording.isolated: record in place

    def grade(case: Case) -> dict:
        if case.name not in cache:
            try:
                cache[case.name] = grade_in_process(case.assignment, case.answers(), student=case.name, tmp=folder)
            except Exception as error:  # noqa: BLE001 - a grader crash is the case's outcome: raise it for each test
                cache[case.name] = error
        if isinstance(cache[case.name], Exception):
            raise cache[case.name]
        return cache[case.name]

    yield grade
    patches.undo()


def test_case_names_are_unique_and_usable_as_student_ids():
    names = [case.name for case in ALL_CASES]
    assert len(names) == len(set(names))
    assert all(name and all(ch.isalnum() or ch == "-" for ch in name) for name in names)


def test_every_known_wrong_case_exists():
    assert set(WRONG_SCORES) | set(WRONG_MESSAGES) <= {case.name for case in CASES}


@pytest.mark.parametrize("case", [_param(c, WRONG_SCORES) for c in CASES])
def test_scores(graded, case):
    results = graded(case)
    observed = {gid: result.score for gid, result in results.items()}
    assert observed == case.expected_scores(), f"{case.what}\n" + "\n".join(
        f"{r.grade_id}: {r.score:g}/{r.max_score:g} {r.message}" for r in results.values())


@pytest.mark.parametrize("case", [_param(c, WRONG_MESSAGES) for c in CASES if c.message])
def test_messages(graded, case):
    results = graded(case)
    lost = " ".join(r.message for r in results.values() if r.score < r.max_score)
    assert case.message in lost, f"{case.what}: {lost or 'no task lost points'}"

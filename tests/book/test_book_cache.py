"""The book's on-disk cache (book/_lib/cache.py): computed once, keyed by settings and code."""

from __future__ import annotations

import json

import pytest

from _lib import cache


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.ENVIRONMENT_VARIABLE, str(tmp_path))
    return tmp_path


def counting():
    calls = []

    def compute():
        calls.append(1)
        return {"value": len(calls)}

    return compute, calls


def test_a_result_is_computed_once_and_read_back(folder):
    compute, calls = counting()
    first = cache.cached("run", {"model": "a", "split": 0}, compute)
    second = cache.cached("run", {"model": "a", "split": 0}, compute)
    assert first == second == {"value": 1} and len(calls) == 1
    assert len(list(folder.glob("run-*.pkl"))) == 1


def test_another_key_or_kind_is_computed_again(folder):
    compute, calls = counting()
    cache.cached("run", {"model": "a", "split": 0}, compute)
    cache.cached("run", {"model": "a", "split": 1}, compute)
    cache.cached("other", {"model": "a", "split": 0}, compute)
    assert len(calls) == 3


def test_the_key_is_kept_in_clear_beside_the_entry(folder):
    cache.cached("run", {"model": "BiasedMF", "split": [1, 2]}, lambda: 1)
    (entry,) = folder.glob("run-*.json")
    written = json.loads(entry.read_text())
    assert written["key"] == {"model": "BiasedMF", "split": [1, 2]} and written["version"] == cache.code_version()


def test_a_changed_function_is_computed_again(folder):
    compute, calls = counting()

    def first_version():
        return 1

    def second_version():
        return 2

    cache.cached("run", {"x": 1}, compute, code=first_version)
    cache.cached("run", {"x": 1}, compute, code=first_version)
    cache.cached("run", {"x": 1}, compute, code=second_version)
    assert len(calls) == 2


def test_a_changed_code_version_is_computed_again(folder, monkeypatch):
    compute, calls = counting()
    cache.cached("run", {"x": 1}, compute)
    monkeypatch.setattr(cache, "code_version", lambda: "another version")
    cache.cached("run", {"x": 1}, compute)
    assert len(calls) == 2


def test_the_code_version_covers_the_reference_and_the_original_notebook():
    covered = {name.split("/")[0] for name in cache.VERSIONED_CODE}
    assert {"recsys_ref", "original_notebook", "book"} <= covered
    assert len(cache.code_version()) == 64


def test_off_computes_every_time_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.ENVIRONMENT_VARIABLE, "off")
    monkeypatch.chdir(tmp_path)
    compute, calls = counting()
    cache.cached("run", {"x": 1}, compute)
    cache.cached("run", {"x": 1}, compute)
    assert len(calls) == 2 and cache.cache_dir() is None


def test_a_failed_computation_leaves_no_entry(folder):
    def fail():
        raise RuntimeError("training diverged")

    with pytest.raises(RuntimeError):
        cache.cached("run", {"x": 1}, fail)
    assert list(folder.iterdir()) == []


def test_the_default_folder_is_under_build(monkeypatch):
    monkeypatch.delenv(cache.ENVIRONMENT_VARIABLE, raising=False)
    assert cache.cache_dir() == cache.ROOT / "_build" / "book_cache"


def test_docstrings_and_comments_do_not_change_the_code():
    plain = "def f(x):\n    return x + 1\n"
    documented = '"""A module."""\n\n\ndef f(x):\n    """Add one."""\n    # the answer\n    return x + 1  # so\n'
    assert cache.code_of(plain) == cache.code_of(documented)
    assert cache.code_of(plain) != cache.code_of(plain.replace("+ 1", "+ 2"))
    assert cache.code_of('def g():\n    """Only a docstring."""\n') == cache.code_of("def g():\n    pass\n")

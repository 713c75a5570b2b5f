"""An explicit on-disk cache for the book's expensive results.

Why
    Several chapters score the same model on the same split: BiasedMF on three
    random splits appears in the evaluation, matrix factorization and
    RecommenderNet chapters. Training it once per build keeps a cold build of
    the book short, and a chapter that is re-executed after an edit finds its
    trained models again instead of retraining them.

Where
    ``_build/book_cache/`` at the root of the repository, beside the execution
    cache of the chapters (``make clean`` deletes both). The environment
    variable ``RECSYS_BOOK_CACHE`` names another folder; ``RECSYS_BOOK_CACHE=off``
    turns the cache off, so that everything is recomputed.

Key
    An entry's file name is the SHA-256 of

    1. its *kind* and *key*: a JSON-able mapping that names the model, its
       settings and the split (see :mod:`_lib.experiments`);
    2. the *code version*: the code of every module of ``recsys_ref`` and
       ``original_notebook``, of this module and of :mod:`_lib.experiments`
       (their syntax trees without docstrings, so that editing a comment or a
       docstring keeps the entries), and the versions of Python, NumPy, pandas
       and PyTorch;
    3. the source of any function passed as ``code`` (a function defined in a
       chapter, which the code version cannot see).

    Change any of these and the entry is computed afresh. An entry whose key
    no longer occurs is never read; it stays on disk until ``make clean``.

Format
    One pickle per entry, written to a temporary file and renamed, so that an
    interrupted build never leaves half an entry; a ``.json`` file beside it
    holds the key in clear text. Only this book writes these files, and it
    reads only files whose name it computed, so unpickling them is safe.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import inspect
import json
import os
import pickle
import platform
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

#: The repository root (this file is ``book/_lib/cache.py``).
ROOT = Path(__file__).resolve().parents[2]

#: The code whose source is part of every key: the two packages, and this folder's modules
#: that compute results (``stats.py`` and ``prose.py`` only read results).
VERSIONED_CODE = ("recsys_ref", "original_notebook", "book/_lib/cache.py", "book/_lib/experiments.py")

ENVIRONMENT_VARIABLE = "RECSYS_BOOK_CACHE"


def cache_dir() -> Path | None:
    """The cache folder, or ``None`` when ``RECSYS_BOOK_CACHE=off``."""
    setting = os.environ.get(ENVIRONMENT_VARIABLE, "")
    if setting.lower() == "off":
        return None
    return Path(setting).expanduser() if setting else ROOT / "_build" / "book_cache"


def code_of(source: str) -> str:
    """A module's code without docstrings, comments or layout: its syntax tree, dumped."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree, include_attributes=False)


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """SHA-256 of the versioned modules' code (:func:`code_of`) and the library versions."""
    import numpy
    import pandas
    import torch

    digest = hashlib.sha256()
    for name in VERSIONED_CODE:
        location = ROOT / name
        for path in sorted(location.rglob("*.py")) if location.is_dir() else [location]:
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(code_of(path.read_text(encoding="utf-8")).encode())
    versions = (platform.python_version(), numpy.__version__, pandas.__version__, torch.__version__)
    digest.update(repr(versions).encode())
    return digest.hexdigest()


def _jsonable(value: Any) -> Any:
    """What ``json.dumps`` cannot write itself: mappings, NumPy scalars, anything else by repr."""
    if isinstance(value, Mapping):
        return {str(k): value[k] for k in value}
    if hasattr(value, "item") and callable(value.item):  # NumPy scalars
        return value.item()
    return repr(value)


def entry_name(kind: str, key: Mapping[str, Any], code: Iterable[Callable] = ()) -> tuple[str, str]:
    """``(file stem, key as JSON)`` of an entry."""
    sources = [inspect.getsource(function) for function in code]
    text = json.dumps(
        {"kind": kind, "key": key, "code": sources, "version": code_version()},
        sort_keys=True,
        default=_jsonable,
    )
    return f"{kind}-{hashlib.sha256(text.encode()).hexdigest()[:20]}", text


def cached(
    kind: str,
    key: Mapping[str, Any],
    compute: Callable[[], T],
    *,
    code: Callable | Iterable[Callable] = (),
) -> T:
    """``compute()``, read from the cache when an entry with this kind, key and code exists.

    Args:
        kind: A short name for the kind of result (``"model-run"``); it starts the file name.
        key: Everything the result depends on besides the code: settings, split, data.
        compute: Computes the result; it must be picklable.
        code: Functions (defined in a chapter) whose source the result depends on.

    Returns:
        The result, computed now or read back.
    """
    functions = [code] if callable(code) else list(code)
    folder = cache_dir()
    if folder is None:
        return compute()
    stem, text = entry_name(kind, key, functions)
    path = folder / f"{stem}.pkl"
    if path.is_file():
        with path.open("rb") as file:
            return pickle.load(file)
    result = compute()
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, suffix=".tmp", delete=False) as file:
        pickle.dump(result, file, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(file.name, path)
    (folder / f"{stem}.json").write_text(text + "\n", encoding="utf-8")
    return result

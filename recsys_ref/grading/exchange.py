"""The exchange between a grading kernel and the grader: probes in, records out, as data.

While ``make grade`` autogrades a notebook, the grader (a trusted process that
never runs student code) writes a *probe* for each graded task: the inputs on
which to run the student's work, chosen fresh for every submission. The hidden
test of the task, running in the student's sandboxed kernel, reads the probe,
runs the student's function, class or object on it and writes a *record* of
what happened: values, dtypes, shapes, errors, module structure, weights. The
grader then compares the record with the reference implementation and decides
the score. Nothing is pickled: tensors travel as `safetensors
<https://huggingface.co/docs/safetensors>`_ files and everything else as JSON,
so a record can only ever be data.

Layout of the exchange folder (``$RECSYS_GRADING_EXCHANGE``, inside the
sandbox ``/grading``)::

    probes/<key>.json            what to run (read-only for the kernel)
    probes/<key>.safetensors     the probe's tensors
    records/<key>.json           what happened (written by the kernel)
    records/<key>.safetensors    the record's tensors
    records/events.jsonl         the kernel guard's log (see recsys_ref.grading.guard)

``<key>`` names a task's record, e.g. ``mf.calc_loss`` (constants in
:mod:`recsys_ref.grading.mf`, :mod:`~recsys_ref.grading.deep` and
:mod:`~recsys_ref.grading.rank`). This module is the one definition of the
format: the kernel writes with it and the grader reads with it.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file as _load_file
from safetensors.torch import save_file as _save_file

#: Environment variable that points a grading kernel at the exchange folder.
EXCHANGE_ENV = "RECSYS_GRADING_EXCHANGE"
PROBES = "probes"
RECORDS = "records"
EVENTS = "events.jsonl"
_KEY = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")

# Bound at import, before any student code runs in a grading kernel: a cell that
# replaces json.dumps or open later does not change how records are written.
_dumps, _loads, _open = json.dumps, json.loads, open


def exchange_dir() -> Path | None:
    """The exchange folder of this grading kernel, or ``None`` outside grading."""
    folder = os.environ.get(EXCHANGE_ENV)
    return Path(folder) if folder else None


def _check_key(key: str) -> str:
    if not _KEY.match(key):
        raise ValueError(f"not a record key: {key!r} (expected e.g. 'mf.calc_loss')")
    return key


@dataclass
class Bundle:
    """A probe or a record: JSON-able ``meta`` plus named tensors.

    Attributes:
        meta: Any JSON-serialisable mapping.
        tensors: Name -> tensor; stored contiguous on the CPU (safetensors).
    """

    meta: dict[str, Any] = field(default_factory=dict)
    tensors: dict[str, torch.Tensor] = field(default_factory=dict)

    def add_tensor(self, prefix: str, tensor: torch.Tensor) -> str:
        """Store a tensor under a fresh name starting with ``prefix``; returns the name."""
        name = f"{prefix}{len(self.tensors)}"
        self.tensors[name] = tensor
        return name


def write_bundle(folder: str | Path, key: str, bundle: Bundle) -> None:
    """Write ``<folder>/<key>.json`` and ``<folder>/<key>.safetensors``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _check_key(key)
    tensors = {name: t.detach().cpu().contiguous().clone() for name, t in bundle.tensors.items()}
    _save_file(tensors, str(folder / f"{key}.safetensors"))
    with _open(folder / f"{key}.json", "w", encoding="utf-8") as handle:
        handle.write(_dumps(bundle.meta, allow_nan=True))


def read_bundle(folder: str | Path, key: str) -> Bundle | None:
    """Read a bundle written by :func:`write_bundle`, or ``None`` if it is missing.

    Raises:
        ValueError: When the files exist but are not a valid bundle (damaged
            or written by something else).
    """
    folder = Path(folder)
    meta_path, tensor_path = folder / f"{_check_key(key)}.json", folder / f"{key}.safetensors"
    if not meta_path.is_file():
        return None
    try:
        with _open(meta_path, encoding="utf-8") as handle:
            meta = _loads(handle.read())
        tensors = _load_file(str(tensor_path)) if tensor_path.is_file() else {}
    except Exception as error:  # noqa: BLE001 - any damage is reported the same way
        raise ValueError(f"{meta_path.name}: not a readable record ({type(error).__name__}: {error})") from None
    if not isinstance(meta, dict):
        raise ValueError(f"{meta_path.name}: not a readable record (not a JSON object)")
    return Bundle(meta, tensors)


def read_probe(key: str) -> Bundle:
    """The probe for ``key`` in this grading kernel's exchange folder.

    Raises:
        RuntimeError: Outside grading, or when the grader wrote no probe for ``key``.
    """
    folder = exchange_dir()
    if folder is None:
        raise RuntimeError(f"no grading exchange folder (${EXCHANGE_ENV} is not set): {key} is only recorded while grading")
    bundle = read_bundle(folder / PROBES, key)
    if bundle is None:
        raise RuntimeError(f"the grader wrote no probe for {key}")
    return bundle


def write_record(key: str, bundle: Bundle) -> None:
    """Write the record for ``key`` into this grading kernel's exchange folder."""
    folder = exchange_dir()
    if folder is None:
        raise RuntimeError(f"no grading exchange folder (${EXCHANGE_ENV} is not set)")
    write_bundle(folder / RECORDS, key, bundle)


def append_event(event: dict[str, Any]) -> None:
    """Append one line to ``records/events.jsonl`` (the kernel guard's log); silently nothing outside grading."""
    folder = exchange_dir()
    if folder is None:
        return
    try:
        (folder / RECORDS).mkdir(parents=True, exist_ok=True)
        with _open(folder / RECORDS / EVENTS, "a", encoding="utf-8") as handle:
            handle.write(_dumps(event) + "\n")
    except OSError:
        pass


def read_events(folder: str | Path) -> list[dict[str, Any]]:
    """The events an exchange folder's kernel logged, in order (damaged lines are skipped)."""
    path = Path(folder) / RECORDS / EVENTS
    if not path.is_file():
        return []
    events = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(event, dict):
            events.append(event)
    return events

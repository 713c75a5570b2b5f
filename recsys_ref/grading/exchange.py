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
    probes/seal.json             the seal channel, written by the sandbox's launcher (read-only)

**Seals.** A record is a file the kernel could change after the test wrote
it (a thread of the student's, waiting for it). So the recorder, in its own
forked process with every other process of the sandbox stopped
(:func:`recsys_ref.grading.recording.isolated`), also writes one line,
``seal <key> <sha256>``, into a pipe whose other end is outside the sandbox
(the launcher copies it into the grader's seal log). The grader accepts a
record only if exactly one seal names its key and the digest matches the
files it collected (:func:`check_seals`): a record changed after it was
written, written by anything but a recorder, or sealed twice, counts as
forged. The pipe is found by its inode (``seal.json``), so a cell that moves
or replaces the kernel's copy of it only stops its own records from being
sealed.

``<key>`` names a task's record, e.g. ``mf.calc_loss`` (constants in
:mod:`recsys_ref.grading.mf`, :mod:`~recsys_ref.grading.deep` and
:mod:`~recsys_ref.grading.rank`). This module is the one definition of the
format: the kernel writes with it and the grader reads with it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file as _load_file
from safetensors.torch import save as _save_bytes

#: Environment variable that points a grading kernel at the exchange folder.
EXCHANGE_ENV = "RECSYS_GRADING_EXCHANGE"
PROBES = "probes"
RECORDS = "records"
EVENTS = "events.jsonl"
#: In the probes folder: ``{"inode": <the seal pipe's inode>, "stop_others": <bool>}`` (see the module docstring).
SEAL = "seal.json"
_SEAL_LINE = re.compile(r"seal ([a-z][a-z0-9_.]*) ([0-9a-f]{64})")
_KEY = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")

# Bound at import, before any student code runs in a grading kernel: a cell that
# replaces json.dumps, open or os.write later does not change how records are written and sealed.
_dumps, _loads, _open = json.dumps, json.loads, open
_listdir, _fstat, _os_write, _is_fifo, _sha256 = os.listdir, os.fstat, os.write, stat.S_ISFIFO, hashlib.sha256


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


def bundle_bytes(bundle: Bundle) -> tuple[bytes, bytes]:
    """The bytes of ``<key>.json`` and ``<key>.safetensors`` for ``bundle``."""
    tensors = {name: t.detach().cpu().contiguous().clone() for name, t in bundle.tensors.items()}
    return _dumps(bundle.meta, allow_nan=True).encode("utf-8"), _save_bytes(tensors)


def digest(meta: bytes, tensors: bytes) -> str:
    """The SHA-256 a seal gives a record: of its JSON bytes, a zero byte, and its safetensors bytes."""
    return _sha256(meta + b"\0" + tensors).hexdigest()


def write_bundle(folder: str | Path, key: str, bundle: Bundle) -> str:
    """Write ``<folder>/<key>.json`` and ``<folder>/<key>.safetensors``; returns their :func:`digest`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _check_key(key)
    meta, tensors = bundle_bytes(bundle)
    with _open(folder / f"{key}.safetensors", "wb") as handle:
        handle.write(tensors)
    with _open(folder / f"{key}.json", "wb") as handle:
        handle.write(meta)
    return digest(meta, tensors)


def file_digest(folder: str | Path, key: str) -> str | None:
    """The :func:`digest` of the record files ``<folder>/<key>.*`` as they are, or ``None`` if the JSON is missing."""
    folder = Path(folder)
    meta_path, tensor_path = folder / f"{_check_key(key)}.json", folder / f"{key}.safetensors"
    if not meta_path.is_file():
        return None
    return digest(meta_path.read_bytes(), tensor_path.read_bytes() if tensor_path.is_file() else b"")


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


def _seal_at_start() -> tuple[str, int, bool] | None:
    """``(exchange folder, seal pipe inode, stop others)`` as the kernel found them when this module was imported.

    The grading kernel imports this module at start-up, before any student code (the guard extension does), and
    keeps the answer in a module constant that the guard restores before every record: a cell that changes the
    environment or writes another ``seal.json`` later cannot point the recorders at a channel of its own.
    """
    folder = os.environ.get(EXCHANGE_ENV)
    if not folder:
        return None
    try:
        with _open(os.path.join(folder, PROBES, SEAL), encoding="utf-8") as handle:
            settings = _loads(handle.read())
        return folder, int(settings["inode"]), bool(settings.get("stop_others"))
    except (OSError, ValueError, KeyError, TypeError):
        return None


_SEAL_AT_START = _seal_at_start()


def seal_settings() -> dict[str, Any] | None:
    """This grading kernel's seal channel as found at start-up (see the module docstring), or ``None``."""
    if _SEAL_AT_START is None:
        return None
    folder, inode, stop_others = _SEAL_AT_START
    return {"exchange": folder, "inode": inode, "stop_others": stop_others}


def _seal_fd(inode: int) -> int | None:
    """The descriptor of the seal pipe among this process's open files (found by its inode), or ``None``."""
    for name in _listdir("/proc/self/fd"):
        try:
            info = _fstat(int(name))
        except (OSError, ValueError):
            continue
        if _is_fifo(info.st_mode) and info.st_ino == inode:
            return int(name)
    return None


def write_record(key: str, bundle: Bundle) -> None:
    """Write the record for ``key`` into this grading kernel's exchange folder, and seal it where records are sealed.

    Raises:
        RuntimeError: Outside grading, or when the seal pipe cannot be found (it was closed or replaced).
    """
    settings = seal_settings()
    folder = Path(settings["exchange"]) if settings is not None else exchange_dir()
    if folder is None:
        raise RuntimeError(f"no grading exchange folder (${EXCHANGE_ENV} is not set)")
    sealed = write_bundle(folder / RECORDS, key, bundle)
    if settings is None:
        return
    fd = _seal_fd(settings["inode"])
    if fd is None:
        raise RuntimeError("the grader's seal channel is gone from this kernel: the record cannot be sealed")
    _os_write(fd, f"seal {key} {sealed}\n".encode("ascii"))


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


def check_seals(folder: str | Path, seal_log: str | Path) -> dict[str, str]:
    """Which records in ``folder`` the grader must not trust, with why (key -> reason); see the module docstring.

    Every record needs exactly one well-formed seal line for its key in ``seal_log`` with the digest of its
    files as they are; anything else that looks like a seal (a line for another key, a malformed one) for a
    key that has a record also makes it untrusted.
    """
    folder = Path(folder)
    text = Path(seal_log).read_text(encoding="ascii", errors="replace") if Path(seal_log).is_file() else ""
    seals: dict[str, list[str]] = {}
    damaged: set[str] = set()
    for line in text.splitlines():
        for part in line.split("seal ")[1:]:
            found = _SEAL_LINE.fullmatch("seal " + part.strip())
            if found:
                seals.setdefault(found.group(1), []).append(found.group(2))
            else:
                damaged.add(part.split(" ")[0])
    untrusted = {}
    for path in sorted(folder.glob("*.json")):
        key = path.stem
        given = seals.get(key, [])
        if key in damaged:
            untrusted[key] = "a damaged seal line names it"
        elif not given:
            untrusted[key] = "no recorder sealed it (it was written by something else)"
        elif len(given) > 1:
            untrusted[key] = f"it was sealed {len(given)} times (something else wrote a seal too)"
        elif file_digest(folder, key) != given[0]:
            untrusted[key] = "it was changed after the recorder wrote and sealed it"
    return untrusted

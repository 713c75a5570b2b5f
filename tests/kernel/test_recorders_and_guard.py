"""The kernel side of grading: the recorders describe what happened as data, and the guard restores and logs.

The recorders (:mod:`recsys_ref.grading.recording`, :mod:`~recsys_ref.grading.exchange`) run a student's
function on a probe and write a record: types, dtypes, shapes, gradient facts, values, in-place changes and
exceptions (``SystemExit`` included), as JSON and safetensors (never a pickle). The guard
(:mod:`recsys_ref.grading.guard`) is tested in a fresh IPython shell in a subprocess, so that its patches and
restores never touch this test process.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from recsys_ref.grading import exchange
from recsys_ref.grading.exchange import EXCHANGE_ENV, Bundle, read_bundle, write_bundle
from recsys_ref.grading.recording import (
    describe_error,
    encode,
    keep_global_rng,
    record_call,
    record_calls,
    type_name,
)


def _probe(*tensors: torch.Tensor) -> Bundle:
    return Bundle({}, {f"t{i}": t for i, t in enumerate(tensors)})


# --------------------------------------------------------------------------- encode


def test_a_tensor_is_described_by_its_facts_and_stored_as_a_plain_float64_copy():
    leaf = torch.tensor([[1.5, 2.0], [3.0, 4.0]], requires_grad=True)
    bundle = Bundle()
    facts = encode(leaf * 2, bundle)
    assert facts | {"tensor": None} == {"kind": "tensor", "type": "torch.Tensor", "dtype": "torch.float32",
                                        "shape": [2, 2], "requires_grad": True, "has_grad_fn": True,
                                        "is_leaf": False, "device": "cpu", "tensor": None}
    stored = bundle.tensors[facts["tensor"]]
    assert type(stored) is torch.Tensor and stored.dtype == torch.float64 and not stored.requires_grad
    assert torch.equal(stored, (leaf * 2).detach().double())
    assert encode(leaf, Bundle())["is_leaf"] is True


@pytest.mark.parametrize(("value", "dtype", "stored"), [
    (torch.tensor([1, 2, 3], dtype=torch.int32), "torch.int32", torch.int64),
    (torch.tensor([True, False]), "torch.bool", torch.bool),
    (torch.tensor([0.5], dtype=torch.float16), "torch.float16", torch.float64),
    (torch.tensor([0.5], dtype=torch.bfloat16), "torch.bfloat16", torch.float64),
])
def test_dtypes_are_reported_as_given_and_stored_widened(value, dtype, stored):
    bundle = Bundle()
    facts = encode(value, bundle)
    assert facts["dtype"] == dtype
    assert bundle.tensors[facts["tensor"]].dtype == stored


def test_parameters_arrays_numbers_none_sequences_and_other_values():
    bundle = Bundle()
    assert encode(torch.nn.Parameter(torch.zeros(2)), bundle)["type"] == "torch.nn.Parameter"
    array = encode(np.arange(6, dtype=np.int16).reshape(2, 3), bundle)
    assert (array["kind"], array["dtype"], array["shape"]) == ("array", "int16", [2, 3])
    assert bundle.tensors[array["tensor"]].dtype == torch.int64
    assert encode(np.float32(2.5), bundle) == {"kind": "number", "type": "numpy.float32", "value": 2.5}
    assert encode(float("nan"), bundle)["value"] == "nan"  # JSON has no nan
    assert encode(True, bundle) == {"kind": "number", "type": "bool", "value": True}
    assert encode(None, bundle) == {"kind": "none"}
    sequence = encode((1, torch.ones(1)), bundle)
    assert sequence["kind"] == "sequence" and sequence["length"] == 2 and sequence["items"][1]["kind"] == "tensor"
    assert encode({"a": 1}, bundle) == {"kind": "other", "type": "dict", "repr": "{'a': 1}"}


def test_a_tensor_subclass_is_named_as_such_and_its_overrides_are_not_called():
    class Loud(torch.Tensor):
        calls = 0

        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            cls.calls += 1
            return super().__torch_function__(func, types, args, kwargs or {})

    value = torch.arange(4.0).as_subclass(Loud)
    Loud.calls = 0
    bundle = Bundle()
    facts = encode(value, bundle)
    assert "Loud" in facts["type"] and facts["type"] != "torch.Tensor"
    assert Loud.calls == 0
    assert type(bundle.tensors[facts["tensor"]]) is torch.Tensor


def test_a_subclass_cannot_lie_about_its_facts_or_its_name():
    class Tensor(torch.Tensor):
        @property
        def is_leaf(self):
            return True

        @property
        def requires_grad(self):
            return True

    Tensor.__module__ = "torch"
    computed = (torch.randn(3, requires_grad=True) * 2).as_subclass(Tensor)
    plain = torch.zeros(3).as_subclass(Tensor)
    facts = encode(computed, Bundle())
    assert facts["type"] != "torch.Tensor"
    assert facts["is_leaf"] is False
    assert encode(plain, Bundle())["requires_grad"] is False


# --------------------------------------------------------------------------- record_call


def test_record_call_records_result_gradients_and_nothing_modified():
    probe = _probe(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([0.5, 0.5, 0.5]))
    call = {"args": [{"tensor": "t0"}, {"tensor": "t1", "requires_grad": True}], "backward": True}
    bundle = Bundle()
    outcome = record_call(lambda a, b: (a * b ** 2).sum(), call, probe, bundle)
    assert outcome["error"] is None and outcome["modified"] == []
    assert outcome["result"]["shape"] == [] and outcome["result"]["requires_grad"]
    assert list(outcome["grads"]) == ["1"]
    assert torch.allclose(bundle.tensors[outcome["grads"]["1"]["tensor"]], torch.tensor([1.0, 2.0, 3.0]).double())
    assert outcome["seconds"] >= 0


def test_record_call_sees_in_place_changes_of_values_and_shapes():
    probe = _probe(torch.tensor([1.0, -2.0]), torch.zeros(2, 2))
    call = {"args": [{"tensor": "t0"}, {"tensor": "t1"}]}

    def clamps_and_resizes(x, y):
        x.clamp_(min=0)
        y.resize_(4)
        return x

    assert record_call(clamps_and_resizes, call, probe, Bundle())["modified"] == [0, 1]
    assert record_call(lambda x, y: x.clamp(min=0), call, probe, Bundle())["modified"] == []


def test_record_call_does_not_change_the_probe():
    probe = _probe(torch.tensor([1.0, -2.0]))
    record_call(lambda x: x.mul_(0), {"args": [{"tensor": "t0"}]}, probe, Bundle())
    assert torch.equal(probe.tensors["t0"], torch.tensor([1.0, -2.0]))


@pytest.mark.parametrize(("exception", "name"), [(ValueError("bad shape\nsecond line"), "ValueError"),
                                                 (SystemExit(3), "SystemExit"),
                                                 (NotImplementedError(), "NotImplementedError")])
def test_exceptions_are_recorded_not_raised(exception, name):
    def raises(*args):
        raise exception

    outcome = record_call(raises, {"args": []}, Bundle(), Bundle())
    assert outcome["error"]["kind"] == "error" and outcome["error"]["type"] == name
    assert "\n" not in outcome["error"]["message"]
    assert outcome["result"] is None


def test_keyboard_interrupt_still_interrupts():
    def interrupted():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        record_call(interrupted, {"args": []}, Bundle(), Bundle())


def test_an_exception_whose_str_raises_is_still_described():
    class Odd(Exception):
        def __str__(self):
            raise RuntimeError("no")

    assert describe_error(Odd()) == {"kind": "error", "type": "Odd", "message": ""}


def test_record_calls_records_a_missing_or_uncallable_answer_without_calls():
    probe = Bundle({"calls": [{"args": []}]})
    assert record_calls(None, probe, name="f").meta == {"name": "f", "defined": False, "callable": False,
                                                      "type": "NoneType", "calls": []}
    assert record_calls(3, probe, name="f").meta["callable"] is False


def test_record_calls_seeds_each_call_and_keep_global_rng_leaves_the_global_state():
    probe = Bundle({"calls": [{"args": [], "seed": 7}, {"args": [], "seed": 7}]})
    state = torch.random.get_rng_state()
    record = keep_global_rng(record_calls)(lambda: torch.rand(3), probe, name="r")
    first, second = (record.tensors[c["result"]["tensor"]] for c in record.meta["calls"])
    assert torch.equal(first, second)
    assert torch.equal(torch.random.get_rng_state(), state)


def test_type_names():
    assert type_name(torch.zeros(1)) == "torch.Tensor"
    assert type_name(np.zeros(1)) == "numpy.ndarray"
    assert type_name(1.0) == "float"


# --------------------------------------------------------------------------- the exchange format


def test_a_record_is_json_and_safetensors_and_reads_back(tmp_path):
    bundle = Bundle({"x": [1, 2.5, None, "nan"]}, {"a": torch.arange(6.0).reshape(2, 3).t()})  # not contiguous
    write_bundle(tmp_path, "mf.calc_loss", bundle)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mf.calc_loss.json", "mf.calc_loss.safetensors"]
    assert json.loads((tmp_path / "mf.calc_loss.json").read_text()) == {"x": [1, 2.5, None, "nan"]}
    back = read_bundle(tmp_path, "mf.calc_loss")
    assert back.meta == bundle.meta and torch.equal(back.tensors["a"], bundle.tensors["a"])
    assert read_bundle(tmp_path, "mf.estimate") is None


def test_nothing_is_pickled(tmp_path):
    with pytest.raises(TypeError):  # a value JSON cannot hold is refused, not pickled
        write_bundle(tmp_path, "mf.factors", Bundle({"model": object()}))
    marker = tmp_path / "unpickled"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (marker,))

    (tmp_path / "mf.factors.json").write_text("{}")
    (tmp_path / "mf.factors.safetensors").write_bytes(pickle.dumps(Payload()))
    with pytest.raises(ValueError, match="not a readable record"):
        read_bundle(tmp_path, "mf.factors")
    torch.save({"a": Payload()}, tmp_path / "mf.factors.safetensors")  # a torch.save file (a zip of pickles)
    with pytest.raises(ValueError, match="not a readable record"):
        read_bundle(tmp_path, "mf.factors")
    assert not marker.exists()


@pytest.mark.parametrize("meta", ["[1, 2]", "not json", '{"a": '])
def test_a_damaged_record_reads_as_an_error(tmp_path, meta):
    (tmp_path / "mf.estimate.json").write_text(meta)
    with pytest.raises(ValueError, match="mf.estimate.json"):
        read_bundle(tmp_path, "mf.estimate")


@pytest.mark.parametrize("key", ["../escape", "mf", "MF.loss", "mf.loss/x", "mf..loss"])
def test_record_keys_cannot_name_other_files(tmp_path, key):
    with pytest.raises(ValueError, match="not a record key"):
        write_bundle(tmp_path, key, Bundle())


def test_writing_uses_the_functions_bound_at_import(tmp_path, monkeypatch):
    monkeypatch.setattr(json, "dumps", lambda *a, **k: "forged")
    monkeypatch.setattr("safetensors.torch.save_file", lambda *a, **k: None)
    write_bundle(tmp_path, "mf.factors", Bundle({"a": 1}, {"t": torch.ones(1)}))
    assert json.loads((tmp_path / "mf.factors.json").read_text()) == {"a": 1}
    assert (tmp_path / "mf.factors.safetensors").stat().st_size > 0


def test_recorders_do_nothing_outside_grading(tmp_path, monkeypatch):
    from recsys_ref.grading import record_calc_loss, record_factors

    monkeypatch.delenv(EXCHANGE_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    record_factors(torch.zeros(2, 3), torch.zeros(2, 4))
    record_calc_loss(lambda *a: None)
    assert list(tmp_path.iterdir()) == []
    exchange.append_event({"event": "x"})  # no folder: silently nothing
    assert list(tmp_path.iterdir()) == []


def test_a_hidden_test_records_the_students_function_on_the_probe(tmp_path, monkeypatch):
    from recsys_ref.grading import record_calc_loss

    monkeypatch.setenv(EXCHANGE_ENV, str(tmp_path))
    true_r = torch.tensor([[5.0, -1.0], [3.0, 1.0]])
    exist = (true_r > 0).float()
    probe = Bundle({"calls": [{"args": [{"tensor": "r", "dtype": "float32"},
                                        {"tensor": "e", "dtype": "float32", "requires_grad": True},
                                        {"tensor": "x", "dtype": "float32"}], "backward": True}]},
                   {"r": true_r.double(), "e": torch.full((2, 2), 3.0, dtype=torch.float64), "x": exist.double()})
    write_bundle(tmp_path / "probes", "mf.calc_loss", probe)
    record_calc_loss(lambda t, e, x: ((t - e) ** 2 * x).sum() / x.sum())
    record = read_bundle(tmp_path / "records", "mf.calc_loss")
    (call,) = record.meta["calls"]
    assert call["result"]["dtype"] == "torch.float32"  # the probe's dtype reached the function
    assert float(record.tensors[call["result"]["tensor"]]) == pytest.approx((4 + 0 + 4) / 3)
    assert call["grads"]["1"]["shape"] == [2, 2]


# --------------------------------------------------------------------------- the guard, in a fresh IPython shell

GUARD_SCRIPT = textwrap.dedent('''
    import json, sys, threading, time
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    shell = InteractiveShell.instance(config=config)
    from recsys_ref.grading import guard
    guard.load_ipython_extension(shell)
    import torch, builtins
    import recsys_ref.grading.mf as recorder
    originals = {"allclose": torch.allclose, "encode": recorder.encode, "len": builtins.len,
                 "showtraceback": shell.showtraceback, "displayhook": sys.displayhook,
                 "backward": vars(torch.Tensor)["backward"]}
    results = {}

    def run(name, code):
        outcome = shell.run_cell(code)
        results[name] = {"ok": outcome.success}

    run("patch", "import torch, builtins, sys\\n"
                 "torch.allclose = lambda *a, **k: True\\n"
                 "vars(builtins)['len'] = lambda x: 0\\n"
                 "setattr(sys.modules['recsys_ref.grading.mf'], 'encode', lambda *a, **k: {})\\n"
                 "get_ipython().showtraceback = lambda *a, **k: None\\n"
                 "sys.displayhook = lambda *a: None\\n"
                 "get_ipython().set_custom_exc((AssertionError,), lambda *a, **k: None)\\n"
                 "torch.Tensor.backward = lambda self, *a, **k: None\\n")
    results["restored"] = {
        "allclose": torch.allclose is originals["allclose"], "encode": recorder.encode is originals["encode"],
        "len": builtins.len is originals["len"], "displayhook": sys.displayhook is originals["displayhook"],
        "showtraceback": shell.showtraceback == originals["showtraceback"],
        "custom_exceptions": shell.custom_exceptions == (),
        "backward": vars(torch.Tensor)["backward"] is originals["backward"],
    }
    run("quiet", "x = 1")
    stop = threading.Event()
    run("thread", "import threading\\n"
                  "threading.Thread(target=lambda: __import__('time').sleep(30), daemon=True, name='sleeper').start()")
    run("repatching_thread", "import sys, threading, time\\n"
        "def keep():\\n"
        "    while True:\\n"
        "        setattr(sys.modules['recsys_ref.grading.mf'], 'encode', lambda *a, **k: {'forged': True})\\n"
        "        time.sleep(0.001)\\n"
        "threading.Thread(target=keep, daemon=True, name='repatcher').start()\\n")
    time.sleep(0.05)  # the kernel waits between cells; the thread runs
    run("record", "import torch\\n"
                  "from recsys_ref.grading import record_factors\\n"
                  "computed = torch.randn(3, 4, requires_grad=True) * 2  # not a leaf\\n"
                  "record_factors(computed, computed * 1)\\n")
    run("hidden_threads", "import functools, threading, time\\n"
                          "timer = threading.Timer(30, lambda: None)\\n"
                          "timer.name, timer.daemon = 'timer', True\\n"
                          "timer.start()\\n"
                          "threading.Thread(target=functools.partial(time.sleep, 30), name='partial', "
                          "daemon=True).start()\\n")
    shell.run_cell("pass")
    print(json.dumps(results))
''')


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    """The guard script's results and the events it logged."""
    folder = tmp_path_factory.mktemp("guard")
    env = {**os.environ, EXCHANGE_ENV: str(folder)}
    done = subprocess.run([sys.executable, "-c", GUARD_SCRIPT], capture_output=True, text=True, env=env, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    return results, exchange.read_events(folder), folder


def test_the_guard_restores_what_a_cell_replaced(guarded):
    results, _, _ = guarded
    assert results["patch"]["ok"], "the patching cell itself failed"
    assert results["restored"] == dict.fromkeys(results["restored"], True)


def test_the_guard_logs_cells_and_what_it_restored(guarded):
    _, events, _ = guarded
    assert events[0] == {"event": "start"}
    cells = [e for e in events if e["event"] == "cell"]
    assert [e["n"] for e in cells] == list(range(1, len(cells) + 1))
    restored = [e for e in events if e["event"] == "restored"]
    assert restored[0]["n"] == 1
    names = set(restored[0]["names"])
    # (sys.displayhook is IPython's own business during a cell: its display trap puts it back itself)
    assert {"torch.allclose", "builtins.len", "recsys_ref.grading.mf.encode",
            "IPython shell showtraceback", "IPython shell custom_exceptions", "torch.Tensor.backward"} <= names, names
    assert not [e for e in restored if e["n"] == 2], "a cell that patches nothing is logged as restoring"


def test_the_guard_logs_threads_a_cell_left_running(guarded):
    _, events, _ = guarded
    threads = [e for e in events if e["event"] == "threads"]
    assert threads and threads[0]["names"] == ["sleeper"]
    assert "repatcher" in threads[1]["names"]


def test_a_thread_that_keeps_patching_the_recorders_does_not_change_a_record(guarded):
    results, _, folder = guarded
    assert results["record"]["ok"]
    record = read_bundle(folder / "records", "mf.factors")
    assert "forged" not in record.meta["user_factors"]
    assert record.meta["user_factors"]["is_leaf"] is False and record.meta["user_factors"]["has_grad_fn"] is True


def test_the_guard_logs_threads_started_through_timer_or_partial(guarded):
    _, events, _ = guarded
    names = {name for e in events if e["event"] == "threads" for name in e["names"]}
    assert {"timer", "partial"} <= names, names


def test_threads_of_libraries_are_not_a_students():
    """A thread on a library's (or the standard library's) Python code is not logged; one on cell code is."""
    import functools
    import queue
    import threading

    from recsys_ref.grading.guard import _students

    cell_code = compile("def work():\n    pass\n", "<ipython-input-1>", "exec")
    namespace: dict = {}
    exec(cell_code, namespace)
    assert not _students(threading.Thread(target=queue.Queue().get))
    assert not _students(threading.Timer(1, functools.partial(queue.Queue().put, 1)))
    assert not _students(threading.Thread())
    assert _students(threading.Thread(target=namespace["work"]))
    assert _students(threading.Timer(1, functools.partial(namespace["work"])))


# --------------------------------------------------------------------------- seals


def _sealed_record(tmp_path, key="mf.factors"):
    from recsys_ref.grading.exchange import Bundle, write_bundle

    folder = tmp_path / "collected"
    sealed = write_bundle(folder, key, Bundle({"is_leaf": False}, {"t0": torch.ones(3)}))
    return folder, sealed


def test_a_record_with_one_matching_seal_is_trusted(tmp_path):
    from recsys_ref.grading.exchange import check_seals

    folder, sealed = _sealed_record(tmp_path)
    (tmp_path / "seals.log").write_text(f"seal mf.factors {sealed}\n")
    assert check_seals(folder, tmp_path / "seals.log") == {}


@pytest.mark.parametrize("what, log, change", [
    ("changed after sealing", "seal mf.factors {sealed}\n", True),
    ("sealed twice", "seal mf.factors {sealed}\nseal mf.factors {sealed}\n", False),
    ("never sealed", "seal mf.optimizer {sealed}\n", False),
    ("a damaged seal line", "garbage seal mf.factors 12ab\nseal mf.factors {sealed}\n", False),
])
def test_a_record_the_seals_do_not_vouch_for_is_untrusted(tmp_path, what, log, change):
    from recsys_ref.grading.exchange import check_seals

    folder, sealed = _sealed_record(tmp_path)
    (tmp_path / "seals.log").write_text(log.format(sealed=sealed))
    if change:
        path = folder / "mf.factors.json"
        path.write_text(path.read_text().replace("false", "true"))
    assert list(check_seals(folder, tmp_path / "seals.log")) == ["mf.factors"], what

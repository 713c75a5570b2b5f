"""How training grows with the data: time per epoch and peak memory at 100K, 1M and 10M ratings.

Usage::

    python benchmarks/scale.py                         # every size and model (about 15 minutes)
    python benchmarks/scale.py --sizes 100K 1M --models biased_mf sparse_mf

The parent generates the ratings of each size once and saves them. Each
(model, size) pair then trains for one epoch in a fresh Python process that
loads them, so that the peak memory is that run's alone: its peak resident set
size (``ru_maxrss`` from ``os.wait4``), which includes the interpreter, torch
and the ratings. (The children are started by a small launcher process: a
child forked from the benchmark itself would count the benchmark's memory too.) The row ``data only`` is a
child that loads the ratings and trains nothing, for comparison. Wall time
depends on what else the machine runs; the CPU time of the epoch much less.

The ratings are synthetic, in the shapes of MovieLens 100K, 1M and 10M
(users x items), with skewed item popularity and user activity and a planted
low-rank structure, drawn pair by pair by
:func:`recsys_ref.data.sample_synthetic_ratings` (no users x items matrix).

The dense matrix factorization of the original notebook is not trained; the
table says for each size how much memory it would need and whether
:func:`recsys_ref.mf.check_dense_mf_fits` lets it run on this machine.

Target (issue 12): at 10M ratings one epoch of BiasedMF in at most 60 s and
under 4 GB on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd

from recsys_ref.data import sample_synthetic_ratings

#: name -> (users, items, ratings): the shapes of MovieLens 100K, 1M and 10M.
SIZES = {
    "100K": (943, 1_682, 100_000),
    "1M": (6_040, 3_706, 1_000_000),
    "10M": (69_878, 10_677, 10_000_000),
}
MODELS = {
    "data": "data only (load the ratings, train nothing)",
    "biased_mf": "BiasedMF, 1 epoch (optimizer='auto', the default: 'sparse_adam' from 1M ratings)",
    "dense_adam": "BiasedMF, 1 epoch (optimizer='adam')",
    "sparse_mf": "BiasedMF, 1 epoch (optimizer='sparse_adam')",
    "net": "RecommenderNet (RECOMMENDER_NET_TUNED), 1 epoch",
}


def child(model: str, path: str) -> None:
    """Load the ratings saved at ``path``, train one epoch, print a JSON line with the timings."""
    import torch  # every child holds torch and has run it once, so that the rows compare

    from recsys_ref.mf import BiasedMF

    BiasedMF(n_factors=2, epochs=1).fit(pd.DataFrame({"user_id": [1], "item_id": [1], "rating": [3]}))
    torch.nn.Linear(2, 1)(torch.zeros(1, 2)).sum().backward()
    with np.load(path) as arrays:
        ratings = pd.DataFrame({name: arrays[name] for name in arrays.files})
    wall, cpu = time.perf_counter(), time.process_time()
    result = {}
    if model in ("biased_mf", "dense_adam", "sparse_mf"):
        optimizer = {"biased_mf": "auto", "dense_adam": "adam", "sparse_mf": "sparse_adam"}[model]
        BiasedMF(epochs=1, optimizer=optimizer, seed=0).fit(ratings)
    elif model == "net":
        from recsys_ref.nn import RECOMMENDER_NET_TUNED
        from recsys_ref.nn_training import RecommenderNetPredictor

        fitted = RecommenderNetPredictor(RECOMMENDER_NET_TUNED, training={"epochs": 1}, seed=0).fit(ratings)
        result["valid MSE"] = fitted.history.valid_loss[-1]
    result["epoch s"] = time.perf_counter() - wall
    result["epoch cpu s"] = time.process_time() - cpu
    print(json.dumps(result))


#: A small process that starts the children and reports how they ended. A child forked from
#: a process counts that process's resident memory in its own peak (ru_maxrss), so the
#: children are started from this launcher, which holds almost nothing, and not from the
#: benchmark, which holds the generated ratings.
LAUNCHER = """
import json, os, subprocess, sys
for line in sys.stdin:
    process = subprocess.Popen(json.loads(line), stdout=subprocess.PIPE, text=True)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    print(json.dumps({"code": os.waitstatus_to_exitcode(status), "output": output,
                      "maxrss_kb": usage.ru_maxrss}), flush=True)
"""


def run(launcher: subprocess.Popen, model: str, path: str) -> dict:
    """One child process: its timings and its peak resident memory in MB (from ``os.wait4``)."""
    command = [sys.executable, os.path.abspath(__file__), "--child", model, path]
    launcher.stdin.write(json.dumps(command) + "\n")
    launcher.stdin.flush()
    report = json.loads(launcher.stdout.readline())
    if report["code"] != 0:
        raise RuntimeError(f"{' '.join(command)} failed with exit code {report['code']}.")
    return {**json.loads(report["output"].strip().splitlines()[-1]), "peak MB": report["maxrss_kb"] / 1024}


def dense_row(size: str) -> str:
    from recsys_ref.mf import available_memory_bytes, check_dense_mf_fits, dense_mf_bytes

    n_users, n_items, _ = SIZES[size]
    try:
        check_dense_mf_fits(n_users, n_items)
        verdict = "would run"
    except MemoryError:
        verdict = "refused (MemoryError)"
    available = available_memory_bytes() or 0
    return (
        f"| {size} | dense MF of the original notebook: not trained | | | "
        f"{dense_mf_bytes(n_users, n_items) / 1e6:,.0f} needed | | "
        f"{verdict}, {available / 1e9:.1f} GB available |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", choices=list(SIZES), default=list(SIZES))
    parser.add_argument("--models", nargs="+", choices=[m for m in MODELS if m != "data"], default=None)
    parser.add_argument("--child", nargs=2, metavar=("MODEL", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    models = ["data", *(args.models or [m for m in MODELS if m != "data"])]
    lines = [
        "| size | model | epoch s | epoch CPU s | peak MB | x time | x memory |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    generated = []
    previous: dict[str, dict] = {}
    load = os.getloadavg()[0]
    launcher = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    with tempfile.TemporaryDirectory() as folder, launcher:
        for size in args.sizes:
            started = time.perf_counter()
            ratings = sample_synthetic_ratings(*SIZES[size])
            generated.append(f"{size}: {time.perf_counter() - started:.1f} s")
            path = os.path.join(folder, f"{size}.npz")
            np.savez(path, **{name: ratings[name].to_numpy() for name in ratings.columns})
            del ratings
            for model in models:
                row = run(launcher, model, path)
                growth = ("", "")
                if model in previous:
                    before = previous[model]
                    growth = (
                        f"{row['epoch s'] / before['epoch s']:.1f}" if model != "data" else "",
                        f"{row['peak MB'] / before['peak MB']:.1f}",
                    )
                previous[model] = row
                timing = ("", "") if model == "data" else (f"{row['epoch s']:.1f}", f"{row['epoch cpu s']:.1f}")
                lines.append(
                    f"| {size} | {MODELS[model]} | {timing[0]} | {timing[1]} | {row['peak MB']:,.0f} | "
                    f"{growth[0]} | {growth[1]} |"
                )
                print(lines[-1], file=sys.stderr, flush=True)
            lines.append(dense_row(size))
        launcher.stdin.close()
    import torch

    print(
        "Synthetic ratings in the shapes of MovieLens 100K (943 x 1,682), 1M (6,040 x 3,706) and "
        "10M (69,878 x 10,677), generated in " + ", ".join(generated) + ". Each row is one fresh "
        "process that loads the ratings and trains one epoch; peak MB is that process's peak resident "
        "memory (interpreter, torch and ratings included; 'data only' trains nothing); x time and "
        "x memory compare with the size before.\n"
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__}, Python {platform.python_version()}; load average {load:.1f} at the start.\n"
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()

"""Where the submissions are graded: here, in a pool of processes, or on a Dask cluster.

All three run the same function, :func:`grader.autograde.grade_submission`,
on the same plain-data jobs, so they give identical results:

* ``serial``: one after the other in this process (``make grade``);
* ``jobs=N``: N worker processes on this machine (``make grade JOBS=N``),
  with :mod:`concurrent.futures`;
* ``scheduler=ADDRESS``: the workers of a `Dask <https://distributed.dask.org>`_
  cluster (``make grade DASK_SCHEDULER=tcp://host:8786``), which also runs on
  Kubernetes and HPC batch systems. Start its workers with one thread each
  (``dask worker ADDRESS --nthreads 1``): a worker grades one notebook at a
  time, in its own sandbox.

A job that fails, or a worker that dies under it, becomes a failed result for
that submission only; the others carry on. A progress bar (to stderr) shows
the notebooks graded and an estimate of the time left.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

from grader.autograde import Job, Result, grade_submission


def _failed(job: Job, why: str) -> Result:
    return Result(job.student, job.assignment, "failed",
                  error=f"the grader failed on this submission ({why}); the other submissions are not affected")


def _progress(total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, unit="notebook", file=sys.stderr, disable=not enabled or total == 0,
                dynamic_ncols=True, desc="grading")


def run_jobs(jobs: Sequence[Job], *, workers: int = 1, scheduler: str | None = None, progress: bool = True,
             on_result: Callable[[Result], None] | None = None) -> list[Result]:
    """Grade every job; results in the jobs' order.

    Args:
        workers: Processes on this machine (1: in this process).
        scheduler: A Dask scheduler's address (``tcp://host:8786``); overrides ``workers``.
        progress: Show a progress bar on stderr.
        on_result: Called with each result as it arrives (e.g. to write its files at once).
    """
    results: dict[int, Result] = {}
    with _progress(len(jobs), progress) as bar:
        def done(index: int, result: Result) -> None:
            results[index] = result
            bar.set_postfix_str(f"{result.assignment}/{result.student}", refresh=False)
            bar.update(1)
            if on_result is not None:
                on_result(result)

        if scheduler:
            _run_dask(jobs, scheduler, done)
        elif workers > 1:
            _run_pool(jobs, workers, done)
        else:
            for index, job in enumerate(jobs):
                done(index, grade_submission(job))
    return [results[i] for i in range(len(jobs))]


def _run_pool(jobs: Sequence[Job], workers: int, done: Callable[[int, Result], None]) -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    pending = list(range(len(jobs)))
    attempts = dict.fromkeys(pending, 0)
    while pending:
        retry = []
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {pool.submit(grade_submission, jobs[i]): i for i in pending}
            for future in as_completed(futures):
                index = futures[future]
                try:
                    done(index, future.result())
                except BrokenProcessPool:
                    attempts[index] += 1
                    if attempts[index] < 2:
                        retry.append(index)
                    else:
                        done(index, _failed(jobs[index], "its worker process died twice while grading it"))
                except Exception as error:  # noqa: BLE001 - one job must not stop the batch
                    done(index, _failed(jobs[index], f"{type(error).__name__}: {error}"))
        pending = retry


def _run_dask(jobs: Sequence[Job], scheduler: str, done: Callable[[int, Result], None]) -> None:
    from distributed import Client, as_completed

    with Client(scheduler) as client:
        futures = {client.submit(grade_submission, job, pure=False, retries=1,
                                 key=f"grade-{job.assignment}-{index}-{job.student}"): index
                   for index, job in enumerate(jobs)}
        for future in as_completed(futures):
            index = futures[future]
            try:
                done(index, future.result())
            except Exception as error:  # noqa: BLE001 - a lost worker or a failed task
                done(index, _failed(jobs[index], f"on the Dask cluster: {type(error).__name__}: {error}"))

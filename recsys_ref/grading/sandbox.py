"""The kernel launcher `make grade` uses: resource limits for each submission's kernel.

``scripts/grade.py`` writes a kernel spec whose command is

    python -m recsys_ref.grading.sandbox --limits '<json>' -- python -m ipykernel_launcher -f {connection_file} ...

and makes nbgrader use it (``--Execute.kernel_name``) for autograding only;
students' own kernels are unaffected. The launcher starts the kernel as its
child, in the same process group (so the interrupts nbgrader sends on a cell
timeout still reach it), with these limits (all configurable in
``nbgrader_config.py``, ``c.GradingLimits``; 0 turns one off):

* ``memory_mb``: address space (RLIMIT_AS): a huge allocation raises
  ``MemoryError`` in the student's cell instead of exhausting the machine;
* ``file_mb``: the largest file the kernel may write (RLIMIT_FSIZE; Python
  then gets ``OSError: File too large``);
* ``processes``: RLIMIT_NPROC (counted per user by Linux, not enforced for
  root): a brake on fork bombs;
* ``cpu_seconds``: total CPU time of the kernel (RLIMIT_CPU);
* ``notebook_seconds``: wall time of the whole notebook: when it is up, the
  kernel and everything it started are killed (``scripts/grade.py`` then
  grades the notebook again without the cell that stalled it).

When the kernel ends, whatever it left running in its process group is killed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys

MB = 1024 * 1024


def _set_limits(limits: dict) -> None:
    """Apply the limits to the current process (inherited by the kernel)."""
    pairs = (
        ("memory_mb", resource.RLIMIT_AS, MB),
        ("file_mb", resource.RLIMIT_FSIZE, MB),
        ("processes", resource.RLIMIT_NPROC, 1),
        ("cpu_seconds", resource.RLIMIT_CPU, 1),
    )
    for key, which, unit in pairs:
        value = int(limits.get(key) or 0)
        if value > 0:
            soft, hard = resource.getrlimit(which)
            wanted = value * unit
            if hard != resource.RLIM_INFINITY:
                wanted = min(wanted, hard)
            resource.setrlimit(which, (wanted, wanted if which != resource.RLIMIT_CPU else hard))


def main(argv: list[str] | None = None) -> int:
    """Start the kernel command under the limits; returns its exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limits", default="{}", help="JSON: memory_mb, file_mb, processes, cpu_seconds, notebook_seconds")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    limits = json.loads(args.limits)
    # The kernel handles SIGINT (a cell timeout's interrupt); the launcher must survive it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    child = subprocess.Popen(command, preexec_fn=lambda: (signal.signal(signal.SIGINT, signal.SIG_DFL), _set_limits(limits)))

    def stop(signum=None, frame=None):
        try:
            child.kill()
        except OSError:
            pass

    signal.signal(signal.SIGTERM, lambda s, f: (stop(), sys.exit(143)))
    wall = float(limits.get("notebook_seconds") or 0) or None
    try:
        status = child.wait(timeout=wall)
    except subprocess.TimeoutExpired:
        print(f"grading: the notebook exceeded its wall-time limit ({wall:g} s); the kernel was stopped.",
              file=sys.stderr, flush=True)
        stop()
        status = child.wait()
    # Processes the student started and left behind share our process group: end them.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if os.getpgid(0) == os.getpid():  # only when we lead our own group (jupyter starts kernels in a new session)
        try:
            os.killpg(os.getpid(), signal.SIGKILL)
        except OSError:
            pass
    return status


if __name__ == "__main__":
    raise SystemExit(main())

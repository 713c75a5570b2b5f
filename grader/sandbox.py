"""Every grading kernel runs in an OS sandbox made by bubblewrap, under resource limits.

The kernel spec the grader writes for each submission starts the kernel
through this module's launcher::

    python -m grader.sandbox <spec.json> -- python -m ipykernel_launcher -f {connection_file} ...

The launcher puts the command under `bubblewrap <https://github.com/containers/bubblewrap>`_
(``bwrap``) with:

* the whole system read-only (``--ro-bind / /``), and then hidden behind
  empty ``tmpfs`` folders: the course (``solutions/``, the gradebook, other
  students' work, ``.git``), the repository, the home folders, ``/tmp``,
  ``/run``; re-exposed read-only: the Python installation and the virtual
  environment, the MovieLens cache, and the parts of ``recsys_ref`` a
  student's notebook may use (``data`` and the kernel-side ``grading``; the
  reference implementations of the graded tasks are not there);
* writable: the kernel's working folder (a tmpfs of ``workspace_mb``, in
  memory: the kernel writes nothing on the host's disk), a private ``/tmp`` of
  the same size, the folder its records go to, and the folder of the kernel's
  IPC sockets (the kernel talks to the grader over Unix sockets: there is no
  network in the sandbox);
* new user, PID, IPC, UTS, cgroup and network namespaces
  (``--unshare-all``), no capabilities, a minimal environment
  (``--clearenv``), and death with the launcher (``--die-with-parent``).

Limits (``c.GradingLimits`` in ``nbgrader_config.py``): address space and
file size (``setrlimit``), CPU seconds, the number of processes and threads
(a ``pids`` cgroup where the machine offers one; else ``RLIMIT_NPROC``, which
root ignores), and the wall time of the whole notebook, after which the
sandbox is killed. nbgrader's per-cell timeout interrupts the kernel by a
message on its control channel (``interrupt_mode: message``), which crosses
the sandbox.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

MB = 1024 * 1024
#: Where a grading kernel finds its exchange folder inside the sandbox (see recsys_ref.grading.exchange).
EXCHANGE_MOUNT = "/run/grading"
CGROUP_PARENT = "recsys-grading"


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create its namespaces on this machine."""


@dataclass
class SandboxSpec:
    """What one kernel's sandbox holds; written as JSON next to the kernel spec."""

    cwd: str
    writable: list[str]
    readable: list[str]
    hidden: list[str]
    mounts: dict[str, str] = field(default_factory=dict)  # host path -> path inside (writable)
    readonly_mounts: dict[str, str] = field(default_factory=dict)  # host path -> path inside (read-only)
    env: dict[str, str] = field(default_factory=dict)
    limits: dict[str, int] = field(default_factory=dict)
    enabled: bool = True
    cgroup: str = ""
    log: str = ""  # where the kernel's own stdout and stderr go (its banner, crashes)
    workspace: str = ""  # the kernel's working folder: a size-limited tmpfs (in memory), not the host's disk

    def write(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(asdict(self), indent=1), encoding="utf-8")

    @classmethod
    def read(cls, path: str | Path) -> "SandboxSpec":
        return cls(**json.loads(Path(path).read_text(encoding="utf-8")))


def bwrap_command(spec: SandboxSpec, command: list[str]) -> list[str]:
    """The ``bwrap`` command line that runs ``command`` in ``spec``'s sandbox."""
    args = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    workspace_bytes = str(max(int(spec.limits.get("workspace_mb") or 0), 1) * MB)
    # Hide first (shallow paths before deep ones), then re-expose what the kernel needs. Every tmpfs has a
    # size: /tmp as much as the workspace, the others (hiding folders) next to nothing.
    for path in sorted(set(spec.hidden), key=lambda p: (p.count("/"), p)):
        if Path(path).exists():
            args += ["--size", workspace_bytes if path == "/tmp" else str(MB), "--tmpfs", path]
    for path in sorted(set(spec.readable), key=lambda p: (p.count("/"), p)):
        if Path(path).exists():
            args += ["--ro-bind", path, path]
    for host, inside in spec.readonly_mounts.items():
        args += ["--ro-bind", host, inside]
    for path in spec.writable:
        args += ["--bind", path, path]
    for host, inside in spec.mounts.items():
        args += ["--bind", host, inside]
    if spec.workspace:
        args += ["--size", workspace_bytes, "--tmpfs", spec.workspace]
    args += ["--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--clearenv"]
    for key, value in spec.env.items():
        args += ["--setenv", key, value]
    args += ["--chdir", spec.cwd, "--", *command]
    return args


def check_bwrap() -> str:
    """bubblewrap's version, after checking that it can make a sandbox here.

    Raises:
        SandboxUnavailable: With what to do (install it, or enable user namespaces).
    """
    if shutil.which("bwrap") is None:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed: `apt-get install bubblewrap` (the Makefile "
                                 "does this for `make grade`), or grade without a sandbox with UNSANDBOXED=1, which "
                                 "the report records")
    probe = subprocess.run(["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-all",
                            "--die-with-parent", "--", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        raise SandboxUnavailable(f"bubblewrap cannot create a sandbox on this machine ({probe.stderr.strip()}): "
                                 "user namespaces may be disabled (sysctl kernel.unprivileged_userns_clone / "
                                 "user.max_user_namespaces); or grade without a sandbox with UNSANDBOXED=1")
    return subprocess.run(["bwrap", "--version"], capture_output=True, text=True).stdout.strip()


# --------------------------------------------------------------------------- the launcher (runs per kernel)


def _cgroup_dir(name: str) -> Path | None:
    """A fresh pids cgroup for one sandbox (cgroup v2, or v1's pids hierarchy), or None."""
    for root in (Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/pids")):
        controllers = root / "cgroup.controllers"
        if root.name == "cgroup" and not (controllers.is_file() and "pids" in controllers.read_text().split()):
            continue
        try:
            parent = root / CGROUP_PARENT
            parent.mkdir(exist_ok=True)
            if (root / "cgroup.subtree_control").is_file():
                (root / "cgroup.subtree_control").write_text("+pids")
                (parent / "cgroup.subtree_control").write_text("+pids")
            folder = parent / name
            folder.mkdir(exist_ok=True)
            if (folder / "pids.max").is_file():
                return folder
        except OSError:
            continue
    return None


def remove_cgroup(name: str) -> None:
    """Kill whatever is left in a sandbox's cgroup and remove it (safe to call when there is none)."""
    for root in (Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/pids")):
        folder = root / CGROUP_PARENT / name
        if not folder.is_dir():
            continue
        try:
            if (folder / "cgroup.kill").exists():
                (folder / "cgroup.kill").write_text("1")
            for attempt in range(200):  # killed processes take a moment to leave the cgroup
                pids = [int(p) for p in (folder / "cgroup.procs").read_text().split()]
                if not pids:
                    break
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
                time.sleep(0.01 * min(attempt + 1, 10))
            folder.rmdir()
        except OSError:
            pass


def _set_limits(limits: dict[str, int], cgroup: Path | None) -> None:
    """Apply the limits to the current process (the sandbox inherits them); runs between fork and exec."""
    pairs = [("memory_mb", resource.RLIMIT_AS, MB), ("file_mb", resource.RLIMIT_FSIZE, MB),
             ("cpu_seconds", resource.RLIMIT_CPU, 1)]
    if cgroup is None:
        pairs.append(("processes", resource.RLIMIT_NPROC, 1))
    for key, which, unit in pairs:
        value = int(limits.get(key) or 0)
        if value > 0:
            _, hard = resource.getrlimit(which)
            wanted = value * unit if hard == resource.RLIM_INFINITY else min(value * unit, hard)
            resource.setrlimit(which, (wanted, hard if which == resource.RLIMIT_CPU else wanted))
    if cgroup is not None:
        (cgroup / "cgroup.procs").write_text(str(os.getpid()))


def main(argv: list[str] | None = None) -> int:
    """Start the kernel command in the sandbox under the limits; returns its exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", help="the sandbox's JSON spec")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    spec = SandboxSpec.read(args.spec)
    cgroup = None
    processes = int(spec.limits.get("processes") or 0)
    if processes > 0 and spec.cgroup:
        cgroup = _cgroup_dir(spec.cgroup)
        if cgroup is not None:
            (cgroup / "pids.max").write_text(str(processes))
    if spec.enabled:
        command = bwrap_command(spec, command)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    else:
        env = {**os.environ, **spec.env}
        env.pop("JPY_PARENT_PID", None)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # interrupts reach the kernel as messages, not signals
    output = open(spec.log, "ab") if spec.log else None  # noqa: SIM115 - open for the child's lifetime
    child = subprocess.Popen(command, cwd=spec.cwd, env=env, stdout=output, stderr=output,
                             preexec_fn=lambda: _set_limits(spec.limits, cgroup))

    def stop(signum=None, frame=None):
        try:
            child.kill()
        except OSError:
            pass

    signal.signal(signal.SIGTERM, lambda s, f: (stop(), sys.exit(143)))
    wall = float(spec.limits.get("notebook_seconds") or 0) or None
    try:
        status = child.wait(timeout=wall)
    except subprocess.TimeoutExpired:
        print(f"grading: the notebook exceeded its wall-time limit ({wall:g} s); the kernel was stopped.",
              file=sys.stderr, flush=True)
        stop()
        status = child.wait()
    if spec.cgroup:
        remove_cgroup(spec.cgroup)
    return status


if __name__ == "__main__":
    raise SystemExit(main())

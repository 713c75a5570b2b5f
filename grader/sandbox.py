"""Every grading kernel runs in an OS sandbox made by bubblewrap, under resource limits.

The kernel spec the grader writes for each submission starts the kernel
through this module's launcher::

    python -m grader.sandbox <spec.json> -- python -m ipykernel_launcher -f {connection_file} ...

The launcher puts the command under `bubblewrap <https://github.com/containers/bubblewrap>`_
(``bwrap``) with:

* an empty root in which only this is mounted, read-only: the system's
  programs and libraries (:data:`SYSTEM_PATHS`: ``/usr``, ``/lib``... and a
  few files of ``/etc``, not ``/etc/shadow``), the Python installation and the
  virtual environment, the MovieLens cache, and the parts of ``recsys_ref`` a
  student's notebook may use (``data`` and the kernel-side ``grading``; the
  reference implementations of the graded tasks are not there, and neither
  are the grader and the original notebook's code, wherever they are
  installed). Nothing else of the machine exists in the sandbox: not the
  course (``solutions/``, the gradebook, other students' work, ``.git``),
  not another checkout, not the home folders;
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
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

MB = 1024 * 1024
#: The parts of the host system a kernel sees (read-only): the programs and libraries, and the few files of
#: /etc that the C library and Python read. Nothing else of the host exists in the sandbox unless a spec
#: names it (the Python installation, the environment, the data cache, the allowed parts of recsys_ref).
SYSTEM_PATHS = (
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/sys",
    "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/nsswitch.conf",
    "/etc/passwd", "/etc/group", "/etc/hosts", "/etc/host.conf", "/etc/ssl", "/etc/ca-certificates",
    "/etc/alternatives", "/etc/fonts", "/etc/mime.types",
)
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
    system: list[str] = field(default_factory=lambda: list(SYSTEM_PATHS))  # host paths every sandbox sees
    # The seal channel (recsys_ref.grading.exchange): the launcher writes the pipe's inode into seal_info (inside
    # the folder the kernel reads its probes from) and copies what comes out of the pipe into seal_log.
    seal_info: str = ""
    seal_log: str = ""

    def write(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(asdict(self), indent=1), encoding="utf-8")

    @classmethod
    def read(cls, path: str | Path) -> "SandboxSpec":
        return cls(**json.loads(Path(path).read_text(encoding="utf-8")))


def bwrap_command(spec: SandboxSpec, command: list[str]) -> list[str]:
    """The ``bwrap`` command line that runs ``command`` in ``spec``'s sandbox.

    The root is empty: only what the spec names is mounted, shallow paths before deep ones (a hidden folder
    inside a readable tree, e.g. the package inside the environment, is covered by an empty tmpfs after the
    tree is mounted, and its allowed parts are mounted again on top).
    """
    args = ["bwrap", "--dev", "/dev", "--proc", "/proc"]
    workspace_bytes = str(max(int(spec.limits.get("workspace_mb") or 0), 1) * MB)
    for path in spec.system:
        host = Path(path)
        if host.is_symlink():
            args += ["--symlink", os.readlink(host), path]
        elif host.exists():
            args += ["--ro-bind", path, path]
    mounts = [(p, 0) for p in set(spec.readable) if Path(p).exists()]
    mounts += [(p, 1) for p in set(spec.hidden) if Path(p).exists() or p in ("/tmp", "/run", "/var/tmp", "/dev/shm")]
    # Every tmpfs has a size: /tmp as much as the workspace, the others (covering folders) next to nothing.
    for path, kind in sorted(mounts, key=lambda m: (m[0].rstrip("/").count("/"), m[1], m[0])):
        if kind == 0:
            args += ["--ro-bind", path, path]
        else:
            args += ["--size", workspace_bytes if path == "/tmp" else str(MB), "--tmpfs", path]
    for host, inside in spec.readonly_mounts.items():
        args += ["--ro-bind", host, inside]
    for path in spec.writable:
        args += ["--bind", path, path]
    for host, inside in spec.mounts.items():
        args += ["--bind", host, inside]
    if spec.workspace:
        args += ["--size", workspace_bytes, "--tmpfs", spec.workspace]
    # The empty root and the covering tmpfs folders become read-only once everything is mounted: the kernel
    # writes only in its workspace, /tmp and the records folder.
    for path in sorted({p for p, kind in mounts if kind == 1} - {"/tmp"}, key=lambda p: -p.count("/")):
        args += ["--remount-ro", path]
    args += ["--remount-ro", "/"]
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
    seal_fds, copier = _open_seal_channel(spec)
    child = subprocess.Popen(command, cwd=spec.cwd, env=env, stdout=output, stderr=output, pass_fds=seal_fds,
                             preexec_fn=lambda: _set_limits(spec.limits, cgroup))
    for fd in seal_fds:
        os.close(fd)  # the kernel holds the write end now; the copier sees the end of the pipe when it exits
    if copier is not None:
        copier.start()  # after the fork: preexec_fn must not run while another thread holds a lock

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
    if copier is not None:
        copier.join(timeout=2)
    if spec.cgroup:
        remove_cgroup(spec.cgroup)
    return status


def _open_seal_channel(spec: SandboxSpec) -> tuple[tuple[int, ...], threading.Thread | None]:
    """The seal pipe: its write end (to pass to the kernel) and a thread (to start) copying its read end into
    ``seal_log``.

    Writes ``{"inode": ..., "stop_others": ...}`` into ``spec.seal_info`` first; ``stop_others`` only in the
    sandbox, whose PID namespace holds nothing but the kernel and what it started.
    """
    if not spec.seal_log or not spec.seal_info:
        return (), None
    read_end, write_end = os.pipe()
    Path(spec.seal_info).write_text(json.dumps({"inode": os.fstat(write_end).st_ino, "stop_others": spec.enabled}),
                                    encoding="utf-8")

    def copy() -> None:
        with open(spec.seal_log, "ab", buffering=0) as log:
            while chunk := os.read(read_end, 65536):
                log.write(chunk)
        os.close(read_end)

    return (write_end,), threading.Thread(target=copy, name="seal-copier", daemon=True)


if __name__ == "__main__":
    raise SystemExit(main())

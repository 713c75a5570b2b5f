"""The grading sandbox (``python -m grader.sandbox <spec> -- command``) hides, exposes and limits what its docstring says.

Small commands run under the launcher with specs written here: hidden folders are empty, re-exposed ones
readable, everything else read-only; no network; a PID namespace of its own; the pids limit stops a fork bomb;
the wall time kills a stalled command (and everything it started); address-space, file-size and CPU limits
hold. The sandbox :mod:`grader.autograde` builds for a submission hides the reference implementations. An
ipykernel started through the launcher answers over IPC and is interrupted by a message. No nbgrader here.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from grader import sandbox
from grader.sandbox import SandboxSpec, bwrap_command

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="bubblewrap runs on Linux")
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", autouse=True)
def _bwrap_works():
    try:
        sandbox.check_bwrap()
    except sandbox.SandboxUnavailable as error:
        pytest.skip(str(error))


def _python_readable() -> list[str]:
    return [p for p in {sys.prefix, sys.base_prefix, str(Path(sys.executable).resolve().parent.parent)} if Path(p).exists()]


def make_spec(tmp_path: Path, **changes) -> SandboxSpec:
    """A spec like the grader's: /tmp, /run and the home folders hidden, the Python installation readable."""
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    spec = SandboxSpec(cwd=str(work), writable=[str(work)], readable=_python_readable(),
                       hidden=["/tmp", "/run", "/var/tmp", "/dev/shm", str(Path.home()), "/home", "/root"],
                       env={"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": "/tmp/home"})
    for key, value in changes.items():
        setattr(spec, key, value)
    return spec


def run_in(tmp_path: Path, code: str, timeout: float = 60, **changes) -> subprocess.CompletedProcess:
    """Run ``python -c code`` in a sandbox (``changes`` edit the spec); stdout, stderr and status."""
    spec = make_spec(tmp_path, **changes)
    spec.write(tmp_path / "spec.json")
    return subprocess.run([sys.executable, "-m", "grader.sandbox", str(tmp_path / "spec.json"), "--",
                           sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout, check=False)


def outcome(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def processes_with(marker: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if marker.encode() in (proc / "cmdline").read_bytes():
                    found.append(int(proc.name))
            except OSError:
                pass
    return found


def _wait_gone(marker: str, seconds: float = 10) -> list[int]:
    deadline = time.monotonic() + seconds
    while processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    return processes_with(marker)


# --------------------------------------------------------------------------- the command line


def test_the_command_line_hides_then_exposes_then_binds(tmp_path):
    for folder in ("a/b/c", "w", "x"):
        (tmp_path / folder).mkdir(parents=True)
    a, b, c = tmp_path / "a", tmp_path / "a" / "b", tmp_path / "a" / "b" / "c"
    spec = SandboxSpec(cwd=str(tmp_path / "w"), writable=[str(tmp_path / "w")], readable=[str(c)],
                       hidden=[str(b), str(a), str(tmp_path / "missing")], mounts={str(tmp_path / "x"): "/run/x"},
                       env={"HOME": "/tmp/home"})
    args = bwrap_command(spec, ["python", "-c", "pass"])
    assert args[:5] == ["bwrap", "--dev", "/dev", "--proc", "/proc"]  # an empty root: nothing of / unless named
    assert "/" not in [args[i + 1] for i, arg in enumerate(args) if arg in ("--bind", "--ro-bind")]
    last_remount = len(args) - 1 - args[::-1].index("--remount-ro")
    assert args[last_remount + 1] == "/"  # the root becomes read-only once everything is mounted
    position = {tuple(args[i:i + 3]): i for i in range(len(args) - 2)}
    tmpfs_a, tmpfs_b = args.index(str(a)), args.index(str(b))
    assert args[tmpfs_a - 1] == args[tmpfs_b - 1] == "--tmpfs" and tmpfs_a < tmpfs_b  # shallow before deep
    assert position[("--ro-bind", str(c), str(c))] > tmpfs_b  # re-exposed after being hidden
    assert position[("--bind", str(tmp_path / "w"), str(tmp_path / "w"))] > tmpfs_b
    assert ("--bind", str(tmp_path / "x"), "/run/x") in position
    assert str(tmp_path / "missing") not in args
    for flag in ("--unshare-all", "--die-with-parent", "--new-session", "--clearenv"):
        assert flag in args
    assert args[args.index("--cap-drop") + 1] == "ALL"
    assert ("--setenv", "HOME", "/tmp/home") in position
    assert args[-5:] == [str(tmp_path / "w"), "--", "python", "-c", "pass"]


# --------------------------------------------------------------------------- files


def test_hidden_folders_are_empty_and_what_is_reexposed_is_readable(tmp_path):
    repo = tmp_path / "repo"
    (repo / "pkg").mkdir(parents=True)
    (repo / "secret.txt").write_text("the answers")
    (repo / "pkg" / "visible.txt").write_text("allowed")
    result = run_in(tmp_path, f"""
        import json, os
        def read(path):
            try:
                return open(path).read()
            except OSError as error:
                return type(error).__name__
        print(json.dumps({{"listing": sorted(os.listdir({str(repo)!r})), "visible": read({str(repo / 'pkg/visible.txt')!r}),
                          "secret": read({str(repo / 'secret.txt')!r}), "home": os.listdir({str(Path.home())!r})}}))
    """, hidden=make_spec(tmp_path).hidden + [str(repo)], readable=_python_readable() + [str(repo / "pkg")])
    home = Path.home()
    reexposed = sorted({Path(p).relative_to(home).parts[0] for p in _python_readable() if home in Path(p).parents})
    assert outcome(result) == {"listing": ["pkg"], "visible": "allowed", "secret": "FileNotFoundError",
                               "home": reexposed}


def test_writing_outside_the_writable_folders_fails_read_only(tmp_path):
    result = run_in(tmp_path, f"""
        import json
        found = {{}}
        for path in ({str(Path(sys.prefix) / 'intruder.txt')!r}, "/etc/intruder.txt", {str(REPO / 'intruder.txt')!r},
                     "mine.txt"):
            try:
                with open(path, "w") as handle:
                    handle.write("x")
                found[path] = "written"
            except OSError as error:
                found[path] = error.strerror
        print(json.dumps(found))
    """)
    found = outcome(result)
    assert found.pop("mine.txt") == "written"
    assert (tmp_path / "work" / "mine.txt").read_text() == "x"
    for path, what in found.items():
        assert not Path(path).exists(), f"{path} reached the host's disk"
        # Under /tmp (a checkout in /tmp, as CI makes) a write lands in the sandbox's private /tmp, in memory.
        if not path.startswith("/tmp/"):
            assert what == "Read-only file system", found


def test_tmp_is_private_and_hidden_folders_are_read_only(tmp_path):
    marker = f"sandbox-{uuid.uuid4().hex}"
    result = run_in(tmp_path, f"""
        import json, os
        open("/tmp/{marker}", "w").write("x")
        try:
            os.makedirs("/run/{marker}")
            run = "created"
        except OSError as error:
            run = error.strerror
        print(json.dumps({{"tmp": sorted(os.listdir("/tmp")), "run": run}}))
    """)
    found = outcome(result)
    assert marker in found["tmp"] and found["run"] == "Read-only file system"
    assert not Path(f"/tmp/{marker}").exists() and not Path(f"/run/{marker}").exists()


def test_the_environment_is_only_the_specs_and_there_are_no_capabilities(tmp_path):
    result = run_in(tmp_path, """
        import json, os
        caps = [line.split()[1] for line in open("/proc/self/status") if line.startswith("CapEff")]
        print(json.dumps({"env": sorted(os.environ), "caps": caps, "cwd": os.getcwd()}))
    """, env={"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": "/tmp/home", "ANSWER": "42"})
    found = outcome(result)
    # bubblewrap sets PWD (--chdir) and Python coerces the C locale (LC_CTYPE, PEP 538): nothing of the host's
    assert set(found["env"]) - {"PWD", "LC_CTYPE"} == {"ANSWER", "HOME", "PATH"}
    assert int(found["caps"][0], 16) == 0
    assert found["cwd"] == str(tmp_path / "work")


# --------------------------------------------------------------------------- network and processes


def test_the_network_is_unreachable(tmp_path):
    result = run_in(tmp_path, """
        import json, socket
        try:
            socket.create_connection(("1.1.1.1", 53), timeout=5)
            error = "connected"
        except OSError as exc:
            error = exc.strerror
        print(json.dumps({"error": error, "interfaces": [name for _, name in socket.if_nameindex()]}))
    """)
    assert outcome(result) == {"error": "Network is unreachable", "interfaces": ["lo"]}


def test_the_sandbox_has_its_own_pid_namespace(tmp_path):
    result = run_in(tmp_path, """
        import json, os
        print(json.dumps({"pid": os.getpid(), "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit())}))
    """)
    found = outcome(result)
    assert found["pid"] <= 3 and max(found["pids"]) <= 3, found
    assert os.getpid() not in found["pids"] or os.getpid() <= 3


def _cgroups_available() -> bool:
    name = f"probe-{uuid.uuid4().hex[:8]}"
    try:
        return sandbox._cgroup_dir(name) is not None
    finally:
        sandbox.remove_cgroup(name)


@pytest.fixture(scope="module")
def fork_bomb(tmp_path_factory) -> dict:
    """A fork bomb (children keep their process slots) run once under a pids limit of 24."""
    if not _cgroups_available():
        pytest.skip("no pids cgroup here (RLIMIT_NPROC does not bind root)")
    marker = f"bomb-{uuid.uuid4().hex}"
    cgroup = f"test-{uuid.uuid4().hex[:8]}"
    result = run_in(tmp_path_factory.mktemp("bomb"), f"""
        import json, os, time
        MARK = "{marker}"
        made, child = 0, False
        try:
            while True:
                pid = os.fork()
                if pid == 0:
                    child = True
                    continue
                made += 1
        except OSError as error:
            if child:
                time.sleep(600)
            print(json.dumps({{"made": made, "error": type(error).__name__, "message": error.strerror}}))
    """, limits={"processes": 24}, cgroup=cgroup)
    return {"found": outcome(result), "marker": marker, "cgroup": cgroup}


def test_the_pids_limit_stops_a_fork_bomb(fork_bomb):
    found = fork_bomb["found"]
    assert found["error"] == "BlockingIOError" and found["message"] == "Resource temporarily unavailable"
    assert 0 < found["made"] < 24
    assert not _wait_gone(fork_bomb["marker"]), "the bomb's processes outlived the sandbox"


def test_the_sandboxs_cgroup_is_removed_after_a_fork_bomb(fork_bomb):
    folders = [root / sandbox.CGROUP_PARENT / fork_bomb["cgroup"]
               for root in (Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/pids"))]
    try:
        assert not any(folder.exists() for folder in folders)
    finally:
        _wait_gone(fork_bomb["marker"])
        sandbox.remove_cgroup(fork_bomb["cgroup"])  # this test's own leftover
        for folder in folders:
            if folder.exists():
                folder.rmdir()


def test_the_wall_time_kills_a_stalled_command_and_everything_it_started(tmp_path):
    marker = f"stall-{uuid.uuid4().hex}"
    started = time.monotonic()
    result = run_in(tmp_path, f"""
        import os, signal, subprocess, time
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        subprocess.Popen(["sleep", "300", "{marker}"])
        time.sleep(300)  # {marker}
    """, limits={"notebook_seconds": 2})
    assert time.monotonic() - started < 30
    assert result.returncode != 0
    assert "exceeded its wall-time limit (2 s)" in result.stderr
    assert not _wait_gone(marker), "processes of the stalled sandbox are still running"


def test_the_sandbox_dies_with_its_launcher(tmp_path):
    marker = f"orphan-{uuid.uuid4().hex}"
    spec = make_spec(tmp_path)
    spec.write(tmp_path / "spec.json")
    launcher = subprocess.Popen([sys.executable, "-m", "grader.sandbox", str(tmp_path / "spec.json"), "--",
                                 "sleep", "300", marker])
    deadline = time.monotonic() + 20
    while len(processes_with(marker)) < 2 and time.monotonic() < deadline:  # the launcher and the sleep
        time.sleep(0.1)
    launcher.kill()
    launcher.wait()
    assert not _wait_gone(marker)


def test_address_space_limit_makes_a_huge_allocation_fail_and_cannot_be_lifted(tmp_path):
    result = run_in(tmp_path, """
        import json, resource
        try:
            hoard = bytearray(8 * 1024 ** 3)
            allocation = "allocated"
        except MemoryError:
            allocation = "MemoryError"
        try:
            resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
            lifted = "lifted"
        except (ValueError, OSError) as error:
            lifted = type(error).__name__
        print(json.dumps({"allocation": allocation, "lifted": lifted,
                          "limit_mb": resource.getrlimit(resource.RLIMIT_AS)[0] // 2 ** 20}))
    """, limits={"memory_mb": 1024})
    assert outcome(result) == {"allocation": "MemoryError", "lifted": "ValueError", "limit_mb": 1024}


def test_file_size_limit_makes_a_big_write_fail(tmp_path):
    result = run_in(tmp_path, """
        import json
        try:
            with open("big.bin", "wb") as handle:
                for _ in range(8):
                    handle.write(b"x" * 2 ** 20)
            error = "written"
        except OSError as exc:
            error = exc.strerror
        print(json.dumps({"error": error}))
    """, limits={"file_mb": 4})
    assert outcome(result) == {"error": "File too large"}
    assert (tmp_path / "work" / "big.bin").stat().st_size == 4 * 2 ** 20


def test_the_workspace_is_a_size_limited_folder_in_memory(tmp_path):
    """What a kernel writes goes to a tmpfs of workspace_mb (not the host's disk); hidden folders are read-only."""
    result = run_in(tmp_path, """
        import json, os
        def fill(folder):
            written = 0
            try:
                for i in range(64):
                    with open(os.path.join(folder, f"filler-{i}.bin"), "wb") as handle:
                        handle.write(b"x" * 2 ** 20)
                    written += 1
                return [written, "done"]
            except OSError as error:
                return [written, error.strerror]
        print(json.dumps({"work": fill("."), "tmp": fill("/tmp"), "hidden": fill("/run")}))
    """, workspace=str(tmp_path / "work"), limits={"workspace_mb": 16})
    found = outcome(result)
    assert found["work"][1] == found["tmp"][1] == "No space left on device", found
    assert found["hidden"] == [0, "Read-only file system"], found
    assert 8 <= found["work"][0] <= 16 and 8 <= found["tmp"][0] <= 16, found
    assert not list((tmp_path / "work").iterdir()), "the workspace's files reached the host's disk"


def test_cpu_seconds_limit_stops_a_busy_loop(tmp_path):
    started = time.monotonic()
    result = run_in(tmp_path, "while True:\n    pass\n", limits={"cpu_seconds": 1})
    assert result.returncode != 0 and time.monotonic() - started < 30


# --------------------------------------------------------------------------- the grader's own spec


def test_the_graders_sandbox_hides_the_reference_and_the_course(tmp_path):
    """A submission's sandbox (grader.autograde) imports recsys_ref.data and the recorders, not the reference."""
    from grader.autograde import Job, _sandbox_spec, job_settings
    from grader.settings import load_settings

    course = tmp_path / "course"
    (course / "solutions" / "mf").mkdir(parents=True)
    (course / "solutions" / "mf" / "mf.ipynb").write_text("{}")
    root = tmp_path / "scratch"
    for folder in ("ipc", "exchange/probes", "exchange/records"):
        (root / folder).mkdir(parents=True)
    spec = _sandbox_spec(root, Job("alice", "mf", {}, b""), job_settings(load_settings(REPO), [str(course)]))
    spec.log = ""
    spec.write(tmp_path / "spec.json")
    code = textwrap.dedent(f"""
        import importlib, json, os
        found = {{}}
        for name in ("recsys_ref.data", "recsys_ref.grading", "recsys_ref.mf", "recsys_ref.nn", "recsys_ref.training",
                     "recsys_ref.metrics", "recsys_ref.baselines", "original_notebook"):
            try:
                importlib.import_module(name)
                found[name] = "imported"
            except ImportError as error:
                found[name] = type(error).__name__
        for path in ({str(course / 'solutions/mf/mf.ipynb')!r}, {str(REPO / 'solutions/mf/mf.ipynb')!r}):
            found[path] = os.path.exists(path)
        print(json.dumps(found))
    """)
    result = subprocess.run([sys.executable, "-m", "grader.sandbox", str(tmp_path / "spec.json"), "--",
                             sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            check=False)
    found = outcome(result)
    assert found.pop("recsys_ref.data") == found.pop("recsys_ref.grading") == "imported"
    assert set(found.values()) <= {"ModuleNotFoundError", False}, found


# --------------------------------------------------------------------------- an ipykernel through the launcher


@pytest.fixture
def kernel(tmp_path):
    """A KernelClient of an ipykernel started through the launcher (IPC transport, message interrupts)."""
    from jupyter_client import KernelManager
    from jupyter_client.kernelspec import KernelSpecManager

    ipc = tmp_path / "ipc"
    ipc.mkdir()
    spec = make_spec(tmp_path, writable=[str(tmp_path / "work"), str(ipc)],
                     env={"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": "/tmp/home",
                          "IPYTHONDIR": "/tmp/ipython"})
    spec.write(tmp_path / "spec.json")
    kernels = tmp_path / "kernels" / "sandboxed"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "grader.sandbox", str(tmp_path / "spec.json"), "--", sys.executable, "-m",
                 "ipykernel_launcher", "-f", "{connection_file}", "--HistoryManager.hist_file=:memory:"],
        "display_name": "sandboxed", "language": "python", "interrupt_mode": "message"}))
    manager = KernelManager(kernel_name="sandboxed", transport="ipc", ip=str(ipc / "kernel"),
                            connection_file=str(ipc / "connection.json"),
                            kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(tmp_path / "kernels")]))
    manager.start_kernel()
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        yield manager, client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def _execute(client, code: str, timeout: float = 30) -> tuple[dict, str]:
    texts = []
    reply = client.execute_interactive(code, timeout=timeout, output_hook=lambda msg: texts.append(
        msg["content"].get("text", "")) if msg["msg_type"] == "stream" else None)
    return reply["content"], "".join(texts)


def test_an_ipykernel_in_the_sandbox_answers_over_ipc(kernel, tmp_path):
    manager, client = kernel
    (tmp_path / "secret.txt").write_text("beside the kernel's folders, under the hidden /tmp")
    reply, text = _execute(client, f"import os\nprint(os.getpid(), os.path.exists({str(tmp_path / 'secret.txt')!r}))")
    assert reply["status"] == "ok", reply
    pid, visible = text.split()
    assert int(pid) <= 3 and visible == "False"  # its own PID namespace; /tmp hidden
    assert json.loads(Path(manager.connection_file).read_text())["transport"] == "ipc"


def test_a_message_interrupts_a_busy_sandboxed_kernel(kernel):
    manager, client = kernel
    assert manager.kernel_spec.interrupt_mode == "message"
    # stop_on_error=False as nbclient sends cells while grading (otherwise the kernel aborts what comes next)
    msg_id = client.execute("import time\nwhile True:\n    time.sleep(0.05)", stop_on_error=False)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # wait until the cell runs
        msg = client.get_iopub_msg(timeout=30)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "busy" \
                and msg["parent_header"].get("msg_id") == msg_id:
            break
    time.sleep(0.5)
    started = time.monotonic()
    manager.interrupt_kernel()
    reply = client.get_shell_msg(timeout=30)
    while reply["parent_header"].get("msg_id") != msg_id:  # earlier replies (kernel_info)
        reply = client.get_shell_msg(timeout=30)
    assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "KeyboardInterrupt"
    assert time.monotonic() - started < 10
    reply, text = _execute(client, "print('still alive')")
    assert (reply["status"], text) == ("ok", "still alive\n"), reply


def test_the_launcher_ignores_sigint(tmp_path):
    """Interrupts reach the kernel as messages: a SIGINT to the launcher's group does not stop the sandbox."""
    marker = f"sigint-{uuid.uuid4().hex}"
    spec = make_spec(tmp_path)
    spec.write(tmp_path / "spec.json")
    launcher = subprocess.Popen([sys.executable, "-m", "grader.sandbox", str(tmp_path / "spec.json"), "--",
                                 sys.executable, "-c", f"import time; time.sleep(3)  # {marker}"],
                                start_new_session=True)
    time.sleep(1.5)
    launcher.send_signal(signal.SIGINT)
    assert launcher.wait(timeout=30) == 0


def test_the_seal_pipe_reaches_the_kernel_and_its_lines_the_seal_log(tmp_path):
    """The launcher writes the pipe's inode where the kernel reads probes; a line the kernel writes into the pipe
    (found by that inode among its open files) ends up in the seal log, outside the sandbox."""
    probes = tmp_path / "probes"
    probes.mkdir()
    result = run_in(tmp_path, """
        import json, os, stat
        info = json.load(open("/run/probes/seal.json"))
        found = []
        for name in os.listdir("/proc/self/fd"):
            try:
                st = os.fstat(int(name))
            except OSError:  # the listing's own descriptor, closed by now
                continue
            if stat.S_ISFIFO(st.st_mode) and st.st_ino == info["inode"]:
                found.append(int(name))
        os.write(found[0], b"seal mf.factors " + b"0" * 64 + b"\\n")
        print(json.dumps({"stop_others": info["stop_others"], "found": len(found)}))
    """, readonly_mounts={str(probes): "/run/probes"}, seal_info=str(probes / "seal.json"),
        seal_log=str(tmp_path / "seals.log"))
    assert outcome(result) == {"stop_others": True, "found": 1}
    assert (tmp_path / "seals.log").read_text() == "seal mf.factors " + "0" * 64 + "\n"

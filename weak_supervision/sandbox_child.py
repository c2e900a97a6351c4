"""The child side of the Python-LF sandbox, run by bubblewrap (isolation.py) as
`python -I -S -B lf_child.py TMPDIR CPU_S MEM_BYTES`.

It reads one JSON request from stdin ({"code", "labels", "items": [{"text", "metadata"}, ...], "filter"}),
loads the seccomp filter it was given (the kernel then refuses exec, fork, sockets and the rest for good),
limits itself, then calls the user's `label(item)` on every item and writes one JSON answer to the answer
descriptor (the original stdout): {"votes": [label index or -1, ...]} or {"error": text, "item": index}.
Whatever the user's code prints goes to stderr. The parent trusts none of it: it validates every byte.

The operating system is the wall (isolation.py); the Python layers here are a second line that turns the
common mistakes into clear messages:
- resource limits: CPU seconds, address space, file size, no processes, no core dumps;
- an audit hook (it cannot be removed from Python) that refuses sockets, processes, opening any file
  outside the temporary folder, and loading native libraries;
- builtins without open, exec, eval, compile or input, and an import that allows only a short list of
  pure modules.

Two more modes, for isolation.py: `--manifest` (outside the sandbox: which files this runner loads, to build
the sandbox's read-only root) and `--self-test` (inside: the kernel refuses what it must).

This file must import nothing outside the standard library: it runs with -I -S (no site, no project).
"""

import builtins
import collections
import ctypes
import functools
import itertools
import json
import linecache
import math
import os
import re
import resource
import statistics
import string
import sys
import traceback
import unicodedata
from typing import Any

ALLOWED_MODULES = frozenset({
    "re", "math", "string", "collections", "json", "itertools", "functools", "statistics", "unicodedata",
    "datetime", "decimal", "fractions", "difflib", "textwrap", "heapq", "bisect", "operator", "typing",
})  # fmt: skip
# Loaded before the limits so that `import` of them only reads sys.modules.
_PRELOADED = (collections, functools, itertools, json, math, re, statistics, string, unicodedata)
DENIED_EVENTS = (
    "socket.", "subprocess.", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
    "os.kill", "os.killpg", "ctypes.", "os.remove", "os.rename", "os.rmdir", "os.unlink", "os.mkdir", "os.chmod",
    "os.chown", "os.link", "os.symlink", "os.truncate", "os.listdir", "os.scandir", "shutil.", "urllib.", "webbrowser.",
    "sys.addaudithook", "code.__new__", "marshal.loads", "pickle.find_class",
)  # fmt: skip
SAFE_BUILTINS = {
    name: getattr(builtins, name)
    for name in dir(builtins)
    if name not in {"open", "exec", "eval", "compile", "input", "breakpoint", "__import__", "help", "exit", "quit",
                    "globals", "locals", "vars", "memoryview", "__loader__", "__spec__", "__build_class__"}
}  # fmt: skip

FILENAME = "<labeling function>"
# The most of an error's text that goes back (the parent cuts again; this keeps the pipe small).
ERROR_CHARS = 4000
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
FILE_BYTES = 10_000_000


class SandboxViolation(PermissionError):
    """A refused operation. An OSError, so that code reading source for tracebacks (linecache) skips it."""


class _SockFprog(ctypes.Structure):
    _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.c_void_p))


def _seccomp_load(program: bytes) -> None:
    """Loads a compiled seccomp filter (libseccomp's BPF export) for this process and all it may start."""
    if not program or len(program) % 8:
        raise OSError("no seccomp filter was given")
    libc = ctypes.CDLL(None, use_errno=True)
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    prctl = libc.prctl
    prctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong)
    if prctl(PR_SET_NO_NEW_PRIVS, 1, None, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    if prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fprog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP) failed")


def _import(name: str, globals: Any = None, locals: Any = None, fromlist: Any = (), level: int = 0) -> Any:
    if level != 0 or name.split(".")[0] not in ALLOWED_MODULES:
        raise ImportError(f"import of '{name}' is not allowed in a labeling function")
    return builtins.__import__(name, globals, locals, fromlist, level)


def _limit(tmpdir: str, cpu_seconds: int, memory_bytes: int) -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_BYTES, FILE_BYTES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
    root = os.path.realpath(tmpdir) + os.sep

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event == "open":
            path = args[0]
            if isinstance(path, int):  # an fd we already hold (stdin, stdout)
                return
            if not os.path.realpath(os.fsdecode(path)).startswith(root):
                raise SandboxViolation(f"opening {os.fsdecode(path)!r} is not allowed in a labeling function")
            return
        if event.startswith(DENIED_EVENTS):
            raise SandboxViolation(f"'{event}' is not allowed in a labeling function")

    sys.addaudithook(hook)


class Item(dict[str, Any]):
    """What `label(item)` receives: item["text"] or item.text, item["metadata"] or item.metadata."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError as exc:
            raise AttributeError(name) from exc


def _error_text(exc: BaseException) -> str:
    """The traceback of the user's own lines only (no paths of the interpreter), cut to ERROR_CHARS."""
    frames = [frame for frame in traceback.extract_tb(exc.__traceback__) if frame.filename == FILENAME]
    lines = ["Traceback (most recent call last):\n"] if frames else []
    lines += traceback.StackSummary.from_list(frames[-5:]).format()
    lines += traceback.format_exception_only(type(exc), exc)
    text = "".join(lines)
    if len(text) > ERROR_CHARS:
        text = f"{text[:ERROR_CHARS]}… ({len(text) - ERROR_CHARS:,} more characters cut)"
    return text


def _vote(result: Any, labels: dict[str, int], *, multi_label: bool) -> Any:
    """A label index, or -1 to abstain; in multi-label projects, a list of label indexes (maybe empty)."""
    if multi_label and isinstance(result, (list, tuple, set, frozenset)):
        return sorted({_vote(key, labels, multi_label=False) for key in result} - {-1})
    if result is None:
        return [] if multi_label else -1
    if isinstance(result, str) and result in labels:
        return [labels[result]] if multi_label else labels[result]
    allowed = "None, a label key or a list of them" if multi_label else "None or a label key"
    shown = repr(result)
    shown = shown if len(shown) <= 200 else shown[:200] + "…"
    raise ValueError(f"label(item) returned {shown}: expected {allowed} from {sorted(labels)}")


def _spans(result: Any, labels: dict[str, int]) -> list[list[int]]:
    """A span project's answer: None, or a list of (start, end, type) or {"start", "end", "label"}; as
    [start, end, type index] (the parent checks the offsets against the text)."""
    if result is None:
        return []
    if not isinstance(result, (list, tuple)):
        raise ValueError(f"label(item) returned {_shown(result)}: expected None or a list of spans")
    spans = []
    for span in result:
        if isinstance(span, dict) and {"start", "end", "label"} <= set(span):
            start, end, kind = span["start"], span["end"], span["label"]
        elif isinstance(span, (list, tuple)) and len(span) == 3:
            start, end, kind = span
        else:
            raise ValueError(
                f"a span {_shown(span)} is not (start, end, type) or a dict with start, end, label"
            )
        if kind not in labels:
            raise ValueError(f"a span's type {_shown(kind)} is not one of {sorted(labels)}")
        if type(start) is not int or type(end) is not int:
            raise ValueError(f"a span's offsets {_shown((start, end))} are not integers")
        spans.append([start, end, labels[kind]])
    return spans


def _shown(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 200 else shown[:200] + "…"


def _preload() -> None:
    for name in sorted(ALLOWED_MODULES):  # imported now: once the hook is in, reading their source is refused
        __import__(name)


def _manifest() -> None:
    """Which files this runner needs, for the sandbox's read-only root: every imported module's source and
    cached bytecode, and every file mapped into the process (the interpreter's libraries, extension modules)."""
    _preload()
    files = set()
    for key, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None) if key != "__main__" else None
        if isinstance(path, str) and os.path.isfile(path):
            files.add(os.path.realpath(path))
            if path.endswith(".py"):
                import importlib.util

                cached = importlib.util.cache_from_source(path)
                if os.path.isfile(cached):
                    files.add(os.path.realpath(cached))
    with open("/proc/self/maps") as maps:
        for line in maps:
            parts = line.split(maxsplit=5)
            if len(parts) == 6 and parts[5].startswith("/") and os.path.isfile(parts[5].strip()):
                files.update(_so_names(parts[5].strip()))
    stdlib = os.path.dirname(os.__file__)
    sys.stdout.write(
        json.dumps(
            {"prefix": sys.prefix, "files": sorted(files), "landmarks": [os.path.join(stdlib, "os.py")]}
        )
    )


def _so_names(path: str) -> list[str]:
    """A shared library and the shorter names the loader looks it up by (libffi.so.8 for libffi.so.8.1.2)."""
    names = [path]
    folder, name = os.path.split(path)
    stem, dot, version = name.partition(".so.")
    parts = version.split(".") if dot else []
    for keep in range(len(parts) - 1, -1, -1):
        alias = os.path.join(folder, stem + ".so" + "".join("." + part for part in parts[:keep]))
        if os.path.exists(alias) and os.path.realpath(alias) == os.path.realpath(path):
            names.append(alias)
    return names


def _self_test(answer: int) -> None:
    """Inside the sandbox, with the filter loaded: the kernel must refuse what the sandbox promises."""
    _seccomp_load(bytes.fromhex(json.loads(sys.stdin.read())["filter"]))
    libc = ctypes.CDLL(None, use_errno=True)
    failures = []
    if os.getuid() == 0 or os.path.exists("/etc") or os.path.exists("/proc/self"):
        failures.append("the uid or the file system is not the sandbox's")
    for what, attempt in (
        ("fork", lambda: os.fork()),
        ("exec", lambda: os.execv(sys.executable, [sys.executable, "-c", "pass"])),  # noqa: S606
        ("write outside /tmp", lambda: open("/oversight/written", "w")),  # noqa: SIM115
    ):
        try:
            attempt()
        except OSError:
            continue
        failures.append(f"{what} was allowed")
    if libc.socket(2, 1, 0) != -1:
        failures.append("a socket was allowed")
    os.write(answer, ("isolated" if not failures else "; ".join(failures)).encode())


def main() -> None:
    if sys.argv[1:] == ["--manifest"]:
        _manifest()
        return
    # The answer goes to a descriptor of its own; fd 1 then leads to stderr, so that print() in the user's code
    # cannot break the answer by accident.
    answer = os.dup(1)
    os.dup2(2, 1)
    if sys.argv[1:] == ["--self-test"]:
        _self_test(answer)
        return
    tmpdir, cpu_seconds, memory_bytes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

    def reply(payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        view = memoryview(data)
        while view:
            view = view[os.write(answer, view) :]

    request = json.loads(sys.stdin.buffer.read())
    _preload()
    try:
        _seccomp_load(bytes.fromhex(request.pop("filter", "")))
    except (OSError, ValueError) as exc:
        reply({"error": f"The sandbox could not load its system-call filter ({exc}).", "item": None})
        sys.exit(3)
    labels = {key: index for index, key in enumerate(request["labels"])}
    os.chdir(tmpdir)
    _limit(tmpdir, cpu_seconds, memory_bytes)
    namespace = {"__builtins__": {**SAFE_BUILTINS, "__import__": _import}, "__name__": "labeling_function"}
    # Tracebacks then show the user's own lines.
    linecache.cache[FILENAME] = (len(request["code"]), None, request["code"].splitlines(True), FILENAME)
    try:
        exec(compile(request["code"], FILENAME, "exec"), namespace)  # noqa: S102 - the sandbox's purpose
        function = namespace.get("label")
        if not callable(function):
            raise TypeError("the code must define a function label(item)")
    except BaseException as exc:
        reply({"error": _error_text(exc), "item": None})
        return
    votes: list[Any] = []
    multi_label = bool(request.get("multi_label"))
    spans = bool(request.get("spans"))
    for index, raw in enumerate(request["items"]):
        try:
            result = function(Item(text=raw["text"], metadata=raw.get("metadata") or {}))
            votes.append(_spans(result, labels) if spans else _vote(result, labels, multi_label=multi_label))
        except BaseException as exc:
            reply({"error": _error_text(exc), "item": index})
            return
    reply({"spans": votes} if spans else {"votes": votes})


if __name__ == "__main__":
    main()

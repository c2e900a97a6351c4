"""The child side of the Python-LF sandbox. Run as `python -I -S sandbox_child.py TMPDIR CPU_S MEM_BYTES`.

It reads one JSON request from stdin ({"code", "labels", "items": [{"text", "metadata"}, ...]}), limits
itself, then calls the user's `label(item)` on every item and writes one JSON answer to stdout:
{"votes": [label index or -1, ...]} or {"error": traceback, "item": index}.

Layers, each enough to stop the common escapes and together hard to get around:
- resource limits: CPU seconds, address space, file size, no core dumps;
- an audit hook (it cannot be removed from Python) that refuses sockets, processes, opening any file
  outside the temporary folder, and loading native libraries;
- builtins without open, exec, eval, compile or input, and an import that allows only a short list of
  pure modules.

This file must import nothing outside the standard library: it runs with -I -S (no site, no project).
"""

import builtins
import collections
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


class SandboxViolation(PermissionError):
    """A refused operation. An OSError, so that code reading source for tracebacks (linecache) skips it."""


def _import(name: str, globals: Any = None, locals: Any = None, fromlist: Any = (), level: int = 0) -> Any:
    if level != 0 or name.split(".")[0] not in ALLOWED_MODULES:
        raise ImportError(f"import of '{name}' is not allowed in a labeling function")
    return builtins.__import__(name, globals, locals, fromlist, level)


def _limit(tmpdir: str, cpu_seconds: int, memory_bytes: int) -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (10_000_000, 10_000_000))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
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


def _answer(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload))
    sys.stdout.flush()


def _vote(result: Any, labels: dict[str, int], *, multi_label: bool) -> Any:
    """A label index, or -1 to abstain; in multi-label projects, a list of label indexes (maybe empty)."""
    if multi_label and isinstance(result, (list, tuple, set, frozenset)):
        return sorted({_vote(key, labels, multi_label=False) for key in result} - {-1})
    if result is None:
        return [] if multi_label else -1
    if isinstance(result, str) and result in labels:
        return [labels[result]] if multi_label else labels[result]
    allowed = "None, a label key or a list of them" if multi_label else "None or a label key"
    raise ValueError(f"label(item) returned {result!r}: expected {allowed} from {sorted(labels)}")


def main() -> None:
    tmpdir, cpu_seconds, memory_bytes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    request = json.loads(sys.stdin.read())
    for name in sorted(ALLOWED_MODULES):  # imported now: once the hook is in, reading their source is refused
        __import__(name)
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
    except BaseException:
        _answer({"error": traceback.format_exc(limit=-5), "item": None})
        return
    votes: list[Any] = []
    multi_label = bool(request.get("multi_label"))
    for index, raw in enumerate(request["items"]):
        try:
            result = function(Item(text=raw["text"], metadata=raw.get("metadata") or {}))
            votes.append(_vote(result, labels, multi_label=multi_label))
        except BaseException:
            _answer({"error": traceback.format_exc(limit=-5), "item": index})
            return
    _answer({"votes": votes})


if __name__ == "__main__":
    main()

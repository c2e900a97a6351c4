"""Python labeling functions, run in a separate, limited process (see sandbox_child.py for the layers).

The worker process that calls `python_votes` is never at risk: the user's code runs in a child started with
`python -I -S`, in an empty temporary folder, with CPU-time, memory and file-size limits, an audit hook that
refuses sockets, processes and files outside that folder, and a short list of importable modules. A
wall-clock timeout kills a child that sleeps or hangs. Whatever goes wrong comes back as a `SandboxResult`
with the traceback and the index of the first failing item.
"""

from __future__ import annotations

import ast
import json
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from django.core.exceptions import ValidationError

CHILD = Path(__file__).with_name("sandbox_child.py")
MEMORY_BYTES = 512 * 1024 * 1024
# CPU budget: a fixed allowance for start-up plus 2 ms per item; the wall clock allows twice that.
CPU_BASE_SECONDS = 5
CPU_MS_PER_ITEM = 2
MAX_CODE = 20_000
ERROR_SYNTAX = "Line {line}: {message}."
ERROR_NO_FUNCTION = "The code must define a function label(item) that returns a label key or None."
ERROR_CODE_LONG = f"The code may be at most {MAX_CODE} characters."


@dataclass(frozen=True)
class SandboxResult:
    votes: npt.NDArray[np.int8] | npt.NDArray[np.bool_] | None
    error: str = ""
    item_index: int | None = None

    @property
    def ok(self) -> bool:
        return self.votes is not None


def python_code_validate(code: str) -> str:
    """The code, if it parses and defines label(item) at the top level; else a ValidationError with the line."""
    if len(code) > MAX_CODE:
        raise ValidationError(ERROR_CODE_LONG, code="code")
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        raise ValidationError(ERROR_SYNTAX.format(line=exc.lineno, message=exc.msg), code="syntax") from exc
    if not any(isinstance(node, ast.FunctionDef) and node.name == "label" for node in tree.body):
        raise ValidationError(ERROR_NO_FUNCTION, code="code")
    return code


def _killed_message(returncode: int, cpu_seconds: int) -> str:
    if returncode == -signal.SIGXCPU:
        return f"The labeling function used more than {cpu_seconds} s of CPU time and was stopped."
    if returncode == -signal.SIGKILL:
        return "The labeling function was killed (out of memory, or over its time)."
    return f"The labeling function's process ended with status {returncode}."


def python_votes(
    *,
    code: str,
    labels: list[str],
    texts: list[str],
    metadata: list[dict[str, Any]],
    memory_bytes: int = MEMORY_BYTES,
    cpu_seconds: int | None = None,
    multi_label: bool = False,
) -> SandboxResult:
    """Runs label(item) on every item in a sandboxed child process; votes are label indexes or -1, or for a
    multi-label project a boolean matrix (items x labels) of the labels label(item) returned."""
    cpu_seconds = cpu_seconds or CPU_BASE_SECONDS + (CPU_MS_PER_ITEM * len(texts)) // 1000
    request = json.dumps(
        {
            "code": code,
            "multi_label": multi_label,
            "labels": labels,
            "items": [{"text": t, "metadata": m} for t, m in zip(texts, metadata, strict=True)],
        }
    )
    folder = tempfile.mkdtemp(prefix="oversight-lf-")
    command = [sys.executable, "-I", "-S", str(CHILD), folder, str(cpu_seconds), str(memory_bytes)]
    try:
        done = subprocess.run(
            command,
            input=request.encode(),
            capture_output=True,
            cwd=folder,
            timeout=2 * cpu_seconds + 5,
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
            check=False,
        )
    except subprocess.TimeoutExpired:
        return SandboxResult(
            None, f"The labeling function did not finish within {2 * cpu_seconds + 5} s and was stopped."
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if done.returncode != 0:
        return SandboxResult(None, _killed_message(done.returncode, cpu_seconds))
    try:
        answer = json.loads(done.stdout)
    except ValueError:
        tail = done.stderr.decode(errors="replace")[-2000:]
        return SandboxResult(None, f"The labeling function's process gave no answer. {tail}".strip())
    if "error" in answer:
        return SandboxResult(None, answer["error"], answer.get("item"))
    if not multi_label:
        return SandboxResult(np.asarray(answer["votes"], dtype=np.int8))
    present = np.zeros((len(texts), len(labels)), dtype=bool)
    for row, chosen in enumerate(answer["votes"]):
        present[row, chosen] = True
    return SandboxResult(np.asarray(present))

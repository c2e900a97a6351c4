"""Python labeling functions, run in a child process isolated by the operating system (isolation.py), with
Python-level guards inside it as a second layer (sandbox_child.py).

The worker process that calls `python_votes` trusts nothing the child says. It reads at most a fixed number
of bytes from it (`output_limit`: a little more than the longest honest answer for that many items), kills
the child's whole process tree as soon as it writes more, outlives its wall-clock budget or ends, and
accepts exactly one vote per item, each an allowed label index or abstain. Anything else comes back as a
failed `SandboxResult` with a short reason (at most `ERROR_CHARS` characters, no server paths), and the
caller goes on with its other labeling functions.

Where the isolation is not available (isolation.py says why) Python LFs are refused with that reason; they
are never run without it.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import selectors
import signal
import subprocess
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from django.core.exceptions import ValidationError

from weak_supervision.isolation import (
    CHILD_ENV,
    ERROR_UNAVAILABLE,
    Isolation,
    IsolationUnavailable,
    isolation,
    isolation_reset,
    launch_filter_fd,
)

MEMORY_BYTES = 512 * 1024 * 1024
# CPU budget: a fixed allowance for start-up plus 2 ms per item; the wall clock allows twice that.
CPU_BASE_SECONDS = 5
CPU_MS_PER_ITEM = 2
MAX_CODE = 20_000
# The most of an error's text that is kept and shown.
ERROR_CHARS = 4000
# What the child may write to stderr (print() in the user's code goes there) before it is stopped.
STDERR_BYTES = 64 * 1024
ERROR_SYNTAX = "Line {line}: {message}."
ERROR_NO_FUNCTION = "The code must define a function label(item) that returns a label key or None."
ERROR_CODE_LONG = f"The code may be at most {MAX_CODE} characters."
ERROR_FLOOD = "The labeling function wrote more than {limit:,} bytes of output and was stopped."
ERROR_INVALID = "The labeling function's process gave an invalid answer: {why}."
ERROR_NO_ANSWER = "The labeling function's process ended without an answer."
ERROR_TIMEOUT = "The labeling function did not finish within {seconds} s and was stopped."


@dataclass(frozen=True)
class SandboxResult:
    votes: npt.NDArray[np.int8] | npt.NDArray[np.bool_] | None
    error: str = ""
    item_index: int | None = None

    @property
    def ok(self) -> bool:
        return self.votes is not None


class InvalidAnswer(ValueError):
    """The child's answer is not one vote per item from the allowed labels."""


def python_code_validate(code: str) -> str:
    """The code, if it parses and defines label(item) at the top level; else a ValidationError with the line."""
    if len(code) > MAX_CODE:
        raise ValidationError(ERROR_CODE_LONG, code="code")
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        raise ValidationError(ERROR_SYNTAX.format(line=exc.lineno, message=exc.msg), code="syntax") from exc
    except (ValueError, RecursionError, MemoryError) as exc:  # NUL bytes, absurd nesting
        raise ValidationError(ERROR_SYNTAX.format(line=1, message=str(exc)), code="syntax") from exc
    if not any(isinstance(node, ast.FunctionDef) and node.name == "label" for node in tree.body):
        raise ValidationError(ERROR_NO_FUNCTION, code="code")
    return code


def python_lfs_unavailable() -> str:
    """Why Python LFs cannot run on this server, or "" where they can (the sandbox holds)."""
    try:
        isolation()
    except IsolationUnavailable as exc:
        return ERROR_UNAVAILABLE.format(reason=str(exc))
    return ""


def output_limit(items: int, labels: int, *, multi_label: bool) -> int:
    """The most bytes an honest answer for this many items can take, and then some: the child's output is
    read up to this and no further."""
    per_item = (len(str(labels)) + 2) * (labels + 1 if multi_label else 1) + 2
    return 64 * 1024 + per_item * items


def _killed_message(returncode: int, cpu_seconds: int) -> str:
    # bwrap's init reports a child killed by signal N as status 128 + N; a direct child as -N.
    killed_by = -returncode if returncode < 0 else returncode - 128 if returncode > 128 else 0
    if killed_by == signal.SIGXCPU:
        return f"The labeling function used more than {cpu_seconds} s of CPU time and was stopped."
    if killed_by == signal.SIGKILL:
        return "The labeling function was killed (out of memory, or over its time)."
    return f"The labeling function's process ended with status {returncode}."


def _clean(text: str, prefix: str) -> str:
    """An error for people: without the server's paths, cut to ERROR_CHARS."""
    text = text.replace(prefix, "<python>")
    if len(text) > ERROR_CHARS:
        text = f"{text[:ERROR_CHARS]}… ({len(text) - ERROR_CHARS:,} more characters cut)"
    return text


def _exchange(
    found: Isolation, command: list[str], request: bytes, limit: int, seconds: float, filter_fd: int
) -> tuple[int | None, bytes, bytes, str]:
    """Runs the sandbox: writes the request, reads stdout up to `limit` and stderr up to STDERR_BYTES, all
    within `seconds`. Returns (exit status or None when it was stopped, stdout, stderr, why it was stopped).
    The child's whole process group (and with bwrap's PID namespace, everything it made) ends here."""
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(filter_fd,),
            env=CHILD_ENV,
            start_new_session=True,
            user=found.run_as,
            group=found.run_as,
            extra_groups=[] if found.run_as is not None else None,
        )
    finally:
        os.close(filter_fd)
    if process.stdin is None or process.stdout is None or process.stderr is None:  # pipes were asked for
        raise OSError("the sandbox's pipes were not opened")
    out, err = bytearray(), bytearray()
    stopped = ""
    deadline = time.monotonic() + seconds
    pending = memoryview(request)
    with selectors.DefaultSelector() as selector:
        os.set_blocking(process.stdin.fileno(), False)
        selector.register(process.stdin, selectors.EVENT_WRITE)
        selector.register(process.stdout, selectors.EVENT_READ, (out, limit))
        selector.register(process.stderr, selectors.EVENT_READ, (err, STDERR_BYTES))
        while selector.get_map() and not stopped:
            left = deadline - time.monotonic()
            if left <= 0:
                stopped = ERROR_TIMEOUT.format(seconds=round(seconds))
                break
            for key, _ in selector.select(left):
                if key.fileobj is process.stdin:
                    try:
                        written = os.write(process.stdin.fileno(), pending[:65536])
                    except BrokenPipeError:
                        written = len(pending)
                    pending = pending[written:]
                    if not pending:
                        selector.unregister(process.stdin)
                        process.stdin.close()
                    continue
                buffer, most = key.data
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    selector.unregister(key.fileobj)
                    continue
                buffer += chunk
                if len(buffer) > most:
                    stopped = ERROR_FLOOD.format(limit=most)
                    break
    if stopped:
        _kill(process)
    try:
        returncode = process.wait(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        stopped = stopped or ERROR_TIMEOUT.format(seconds=round(seconds))
        _kill(process)
        returncode = process.wait()
    for pipe in (process.stdin, process.stdout, process.stderr):
        if not pipe.closed:
            pipe.close()
    return (None if stopped else returncode), bytes(out), bytes(err), stopped


def _kill(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def _parse(raw: bytes, *, items: int, labels: int, multi_label: bool) -> dict[str, Any]:
    """The child's answer, checked field by field; InvalidAnswer says what is wrong."""
    try:
        answer = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise InvalidAnswer("not JSON") from exc
    if not isinstance(answer, dict):
        raise InvalidAnswer("not an object")
    if set(answer) == {"error", "item"}:
        item = answer["item"]
        if not isinstance(answer["error"], str):
            raise InvalidAnswer("the error is not a text")
        if item is not None and (type(item) is not int or not 0 <= item < items):
            raise InvalidAnswer("the failing item is not one of the items")
        return answer
    if set(answer) != {"votes"} or not isinstance(answer["votes"], list):
        raise InvalidAnswer("neither votes nor an error")
    votes = answer["votes"]
    if len(votes) != items:
        raise InvalidAnswer(f"{len(votes):,} votes for {items:,} items")
    for index, vote in enumerate(votes):
        if multi_label:
            if not isinstance(vote, list) or any(type(v) is not int or not 0 <= v < labels for v in vote):
                raise InvalidAnswer(
                    f"the vote for item {index} is not a list of label indexes 0..{labels - 1}"
                )
        elif type(vote) is not int or not -1 <= vote < labels:
            raise InvalidAnswer(f"the vote for item {index} is not a label index 0..{labels - 1} or -1")
    return answer


def _sandbox_exchange(
    payload: dict[str, Any], *, limit: int, cpu_seconds: int, memory_bytes: int
) -> tuple[int | None, bytes, bytes, str, str] | SandboxResult:
    """Runs the child on one request: (exit status, stdout, stderr, why it was stopped, the server's path
    prefix to hide), or a failed result where the sandbox could not run."""
    for attempt in range(2):
        try:
            found = isolation()
        except IsolationUnavailable as exc:
            return SandboxResult(None, ERROR_UNAVAILABLE.format(reason=str(exc)))
        request = json.dumps({**payload, "filter": found.child_filter.hex()}).encode()
        filter_fd = launch_filter_fd(found)
        command = found.command("/tmp", str(cpu_seconds), str(memory_bytes), seccomp_fd=filter_fd)  # noqa: S108
        try:
            returncode, out, err, stopped = _exchange(
                found, command, request, limit, 2 * cpu_seconds + 5, filter_fd
            )
        except OSError as exc:
            return SandboxResult(
                None, ERROR_UNAVAILABLE.format(reason=f"bubblewrap could not be started ({exc}).")
            )
        if returncode == 1 and err.startswith(b"bwrap:") and not out:
            # bwrap itself failed (its read-only root removed by a temp cleaner, say): look again, once
            isolation_reset()
            if attempt == 0:
                continue
            reason = err.decode(errors="replace").strip()[:300]
            return SandboxResult(None, ERROR_UNAVAILABLE.format(reason=f"bubblewrap failed ({reason})."))
        return returncode, out, err, stopped, found.prefix
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns on its second pass


def _failure(
    returncode: int | None, out: bytes, err: bytes, stopped: str, prefix: str, cpu_seconds: int,
    parse: Any,
) -> SandboxResult | None:  # fmt: skip
    """The failed result of a run that stopped, crashed or said nothing; None where it answered."""
    if stopped:
        return SandboxResult(None, stopped)
    if returncode != 0:
        if out:  # the child's own account of why (it could not load its filter, say)
            try:
                answer = parse(out)
                if "error" in answer:
                    return SandboxResult(None, _clean(answer["error"], prefix))
            except InvalidAnswer:
                pass
        return SandboxResult(None, _killed_message(returncode or 0, cpu_seconds))
    if not out:
        tail = err.decode(errors="replace").strip().splitlines()[-3:]
        return SandboxResult(None, _clean(" ".join([ERROR_NO_ANSWER, *tail]).strip(), prefix))
    return None


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
    """Runs label(item) on every item in the isolated child; votes are label indexes or -1, or for a
    multi-label project a boolean matrix (items x labels) of the labels label(item) returned. Fails (never
    runs unisolated) where the isolation is unavailable."""
    cpu_seconds = cpu_seconds or CPU_BASE_SECONDS + (CPU_MS_PER_ITEM * len(texts)) // 1000
    items = [{"text": t, "metadata": m} for t, m in zip(texts, metadata, strict=True)]
    limit = output_limit(len(texts), len(labels), multi_label=multi_label)
    ran = _sandbox_exchange(
        {"code": code, "multi_label": multi_label, "labels": labels, "items": items},
        limit=limit, cpu_seconds=cpu_seconds, memory_bytes=memory_bytes,
    )  # fmt: skip
    if isinstance(ran, SandboxResult):
        return ran
    returncode, out, err, stopped, prefix = ran

    def parse(raw: bytes) -> dict[str, Any]:
        return _parse(raw, items=len(texts), labels=len(labels), multi_label=multi_label)

    failed = _failure(returncode, out, err, stopped, prefix, cpu_seconds, parse)
    if failed is not None:
        return failed
    try:
        answer = parse(out)
    except InvalidAnswer as exc:
        return SandboxResult(None, ERROR_INVALID.format(why=exc))
    if "error" in answer:
        return SandboxResult(None, _clean(answer["error"], prefix), answer["item"])
    if not multi_label:
        return SandboxResult(np.asarray(answer["votes"], dtype=np.int8))
    present = np.zeros((len(texts), len(labels)), dtype=bool)
    for row, chosen in enumerate(answer["votes"]):
        present[row, chosen] = True
    return SandboxResult(np.asarray(present))


# --- span projects: label(item) returns spans -----------------------------------------------------------------
SpanTriple = tuple[int, int, int]  # start, end, entity type index


@dataclass(frozen=True)
class SpanSandboxResult:
    """Per item, the (start, end, type index) spans label(item) returned; None with an error where it failed."""

    spans: list[list[SpanTriple]] | None
    error: str = ""
    item_index: int | None = None


def span_output_limit(texts: list[str], labels: int) -> int:
    """The most bytes an honest span answer takes: at most one span per character of an item (more than that
    must overlap itself), each `[start, end, type], ` with offsets of the item's length."""
    per_span = 2 * (len(str(max((len(text) for text in texts), default=0))) + 2) + len(str(labels)) + 6
    return 64 * 1024 + sum(len(text) * per_span + 4 for text in texts)


def _parse_spans(raw: bytes, *, lengths: list[int], labels: int) -> dict[str, Any]:
    """The child's span answer, checked strictly: per item a list of [start, end, type] with integer offsets
    inside the item's text (start < end) and a type index of the project; InvalidAnswer says what is wrong."""
    try:
        answer = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise InvalidAnswer("not JSON") from exc
    if not isinstance(answer, dict):
        raise InvalidAnswer("not an object")
    if set(answer) == {"error", "item"}:
        return _parse(raw, items=len(lengths), labels=labels, multi_label=False)
    if set(answer) != {"spans"} or not isinstance(answer["spans"], list):
        raise InvalidAnswer("neither spans nor an error")
    if len(answer["spans"]) != len(lengths):
        raise InvalidAnswer(f"{len(answer['spans']):,} span lists for {len(lengths):,} items")
    for index, (spans, length) in enumerate(zip(answer["spans"], lengths, strict=True)):
        if not isinstance(spans, list):
            raise InvalidAnswer(f"the spans of item {index} are not a list")
        for span in spans:
            if (
                not isinstance(span, list) or len(span) != 3 or any(type(value) is not int for value in span)
                or not 0 <= span[0] < span[1] <= length or not 0 <= span[2] < labels
            ):  # fmt: skip
                raise InvalidAnswer(
                    f"a span of item {index} is not [start, end, type] with 0 <= start < end <= {length} "
                    f"and a type index 0..{labels - 1}"
                )
    return answer


def python_spans(
    *,
    code: str,
    labels: list[str],
    texts: list[str],
    metadata: list[dict[str, Any]],
    memory_bytes: int = MEMORY_BYTES,
    cpu_seconds: int | None = None,
) -> SpanSandboxResult:
    """Runs label(item) of a span project's Python LF on every item in the isolated child: it returns a list
    of (start, end, type) tuples or {"start", "end", "label"} dicts (type: an entity type's key), or None.
    The answer is validated strictly (sandbox_child turns the keys into indexes; here every offset and
    index is checked). Fails (never runs unisolated) where the isolation is unavailable."""
    cpu_seconds = cpu_seconds or CPU_BASE_SECONDS + (CPU_MS_PER_ITEM * len(texts)) // 1000
    items = [{"text": t, "metadata": m} for t, m in zip(texts, metadata, strict=True)]
    ran = _sandbox_exchange(
        {"code": code, "spans": True, "labels": labels, "items": items},
        limit=span_output_limit(texts, len(labels)), cpu_seconds=cpu_seconds, memory_bytes=memory_bytes,
    )  # fmt: skip
    if isinstance(ran, SandboxResult):
        return SpanSandboxResult(None, ran.error)
    returncode, out, err, stopped, prefix = ran
    lengths = [len(text) for text in texts]

    def parse(raw: bytes) -> dict[str, Any]:
        return _parse_spans(raw, lengths=lengths, labels=len(labels))

    failed = _failure(returncode, out, err, stopped, prefix, cpu_seconds, parse)
    if failed is not None:
        return SpanSandboxResult(None, failed.error, failed.item_index)
    try:
        answer = parse(out)
    except InvalidAnswer as exc:
        return SpanSandboxResult(None, ERROR_INVALID.format(why=exc))
    if "error" in answer:
        return SpanSandboxResult(None, _clean(answer["error"], prefix), answer["item"])
    return SpanSandboxResult([[(s, e, t) for s, e, t in spans] for spans in answer["spans"]])

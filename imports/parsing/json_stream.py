"""JSON read as a stream of parser events, with a nesting-depth limit: no recursion on the input, ever.

ijson's own `items()` keeps a dotted prefix per nesting level (100,000 levels of `[` cost gigabytes before
it yields anything), and `json.loads` recurses once per level. Here yajl's flat events build the values with
an explicit stack, and a document nested deeper than the limit is refused at the first level too many.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import IO, Any

import ijson

ERROR_TOO_DEEP = (
    "nested more than {limit} levels deep; flatten the data (the limit is IMPORT_JSON_MAX_DEPTH)."
)


class JsonTooDeepError(ValueError):
    """The document nests containers deeper than the limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(ERROR_TOO_DEEP.format(limit=limit))
        self.limit = limit


_STARTS = frozenset({"start_map", "start_array"})
_ENDS = frozenset({"end_map", "end_array"})


def _values(
    events: Iterable[tuple[str, Any]], limit: int, top_depth: int
) -> Iterator[tuple[str | None, Any]]:
    """The values `top_depth` containers deep, each with its key when its parent is an object.

    Containers above `top_depth` are only walked (not kept), so an array of a million records holds one at a
    time. The whole nesting, walked or built, counts towards the limit. One flat loop over the events, with
    the open containers and their current keys on two stacks (this loop is the JSON import's hot path).
    """
    stack: list[Any] = []
    keys: list[Any] = []
    for event, value in events:
        if event == "map_key":
            keys[-1] = value
            continue
        if event in _STARTS:
            if len(stack) >= limit:
                raise JsonTooDeepError(limit)
            stack.append({} if event == "start_map" else [])
            keys.append(None)
            continue
        if event in _ENDS:
            value = stack.pop()
            keys.pop()
        depth = len(stack)
        if depth > top_depth:
            top = stack[-1]
            if type(top) is list:
                top.append(value)
            else:
                top[keys[-1]] = value
        elif depth == top_depth:
            yield (keys[-1] if keys else None), value


def _events(stream: IO[bytes] | Any, *, multiple_values: bool = False) -> Iterator[tuple[str, Any]]:
    events: Iterator[tuple[str, Any]] = ijson.basic_parse(
        stream, use_float=True, multiple_values=multiple_values
    )
    return events


def _inside(events: Iterator[tuple[str, Any]], start: str) -> Iterator[tuple[str, Any]]:
    """The events of a document whose top-level value opens with `start`; of any other document, none."""
    first = next(events, None)
    if first is None or first[0] != start:
        return
    yield first
    yield from events


def json_array_items(stream: IO[bytes] | Any, *, limit: int) -> Iterator[Any]:
    """The elements of a top-level JSON array, one at a time. A top-level value that is not an array: none."""
    for _key, value in _values(_inside(_events(stream), "start_array"), limit, top_depth=1):
        yield value


def json_object_items(stream: IO[bytes] | Any, *, limit: int) -> Iterator[tuple[str, Any]]:
    """The (key, value) pairs of a top-level JSON object, one at a time. Of any other document, none."""
    for key, value in _values(_inside(_events(stream), "start_map"), limit, top_depth=1):
        yield str(key), value


def json_document(stream: IO[bytes] | Any, *, limit: int) -> Any:
    """One whole JSON document (a line of JSONL, a small file such as WRENCH's label.json)."""
    values = [value for _key, value in _values(_events(stream), limit, top_depth=0)]
    return values[0] if values else None

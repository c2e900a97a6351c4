"""Named hook points: how a lower app lets the apps above it act on its events without importing them.

The apps are layered (pyproject.toml, [tool.importlinter]): an app imports only the ones below it. Where
something in a lower app must start work in a higher one (an answer goes to review and may retrain the
active-learning model; a label-model run sends the items it doubts to review), the lower app declares a
`Hook` with a typed event, calls it at that point, and the higher app registers its receiver in its
`AppConfig.ready()`. Receivers run synchronously, in the caller's transaction, in registration order
(INSTALLED_APPS order: lower apps first); an exception propagates to the caller, as a direct call would.

`hooks_list()` names every hook and its receivers (shown by `manage.py hooks`), so the flow stays findable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

Event = TypeVar("Event")
Answer = TypeVar("Answer")


class _Point(Protocol):
    name: str
    doc: str

    def receivers(self) -> list[str]: ...


_POINTS: list[_Point] = []


class Hook(Generic[Event]):
    """Receivers of one kind of event, called in order of registration."""

    def __init__(self, name: str, doc: str) -> None:
        self.name = name
        self.doc = doc
        self._receivers: dict[str, Callable[[Event], None]] = {}
        _POINTS.append(self)

    def register(self, key: str, receiver: Callable[[Event], None]) -> None:
        """Adds (or replaces, by key: ready() may run twice in tests) a receiver."""
        self._receivers[key] = receiver

    def receivers(self) -> list[str]:
        return list(self._receivers)

    def __call__(self, event: Event) -> None:
        for receiver in list(self._receivers.values()):
            receiver(event)


class Provider(Generic[Event, Answer]):
    """One answer to a question a lower app asks of the app above it (None: nobody registered, or no answer)."""

    def __init__(self, name: str, doc: str) -> None:
        self.name = name
        self.doc = doc
        self._key = ""
        self._provider: Callable[[Event], Answer | None] | None = None
        _POINTS.append(self)

    def register(self, key: str, provider: Callable[[Event], Answer | None]) -> None:
        self._key, self._provider = key, provider

    def receivers(self) -> list[str]:
        return [self._key] if self._provider is not None else []

    def __call__(self, question: Event) -> Answer | None:
        return self._provider(question) if self._provider is not None else None


def hooks_list() -> list[tuple[str, str, list[str]]]:
    """Every hook and provider: name, what it is for, and who is registered."""
    return [(point.name, point.doc, point.receivers()) for point in _POINTS]

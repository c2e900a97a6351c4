"""Changes to a project's label schema, each recorded (LabelChange) with who and when: add a label, change
its display name, hotkey, colour or place, retire and restore it, and merge one label into another.

A key never changes once stored: answers, gold labels, LF versions, votes, weak labels and snapshots hold it.
A rename changes the display name only. A merge migrates every row that stores the merged key, in one
transaction (projects.hooks.labels_merged: each app above migrates its own rows), removes the label, and
keeps the old key as an alias of the label it went into, so later files and LFs that still say it land on
the right label. A retired label keeps its answers but is offered to no one (the labeling view, answers,
new LF versions refuse it). Every change touches the project, so the per-process schema cache reads anew.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.utils import timezone

from core.exceptions import NotFoundError
from projects.choices import LabelChangeAction, ProjectKind
from projects.hooks import LabelsMerged, labels_merged
from projects.models import Item, Label, LabelChange, Project
from projects.services.label_keys import label_key_normalise
from projects.services.projects import LABEL_COLORS, MAX_LABELS, RESERVED_HOTKEYS

ERROR_LABEL_UNKNOWN = "The project has no label '{key}'."
ERROR_LABEL_EXISTS = "The project already has a label '{key}'."
ERROR_LABEL_KEY = "'{key}' gives no usable key (letters, digits and underscores)."
ERROR_HOTKEY_TAKEN = "Hotkey '{hotkey}' is already {label}'s."
ERROR_HOTKEY_RESERVED = "Hotkey '{hotkey}' is reserved by the labeling view (S skip, U undo, F flag)."
ERROR_HOTKEY_LENGTH = "A hotkey is one character."
ERROR_COLOR = "A colour is #rrggbb."
ERROR_NAME = "A label's name is 1 to 200 characters."
ERROR_TOO_MANY = f"A project has at most {MAX_LABELS} labels."
ERROR_MERGE_SELF = "A label cannot be merged into itself."
ERROR_MERGE_RETIRED = "'{key}' is retired: restore it before merging into it."
ERROR_TOO_FEW = (
    "This change would leave {count} label(s) in use: a single-label project needs two, any other one."
)
ERROR_ORDER = "The new order must name every label of the project once."


@dataclass(frozen=True)
class LabelEdit:
    """A change to a label's presentation (None: unchanged)."""

    name: str | None = None
    hotkey: str | None = None
    color: str | None = None


def _label(project: Project, key: str, *, lock: bool = True) -> Label:
    labels = Label.objects.select_for_update() if lock else Label.objects.all()
    found = labels.filter(project=project, key=key).first()
    if found is None:
        found = labels.filter(project=project, key=label_key_normalise(key)).first()
    if found is None:
        raise NotFoundError(ERROR_LABEL_UNKNOWN.format(key=key[:64]))
    return found


def _record(project: Project, action: str, key: str, changed_by: User | None, **fields: Any) -> LabelChange:
    return LabelChange.objects.create(
        project=project, action=action, key=key, changed_by=changed_by, **fields
    )


def _touch(project: Project) -> None:
    """A schema change is a project change: the per-process label cache is keyed by updated_at."""
    project.updated_at = timezone.now()
    Project.objects.filter(pk=project.pk).update(updated_at=project.updated_at)


def _check_hotkey(project: Project, hotkey: str, *, label: Label | None) -> str:
    if len(hotkey) > 1:
        raise ValidationError(ERROR_HOTKEY_LENGTH, code="hotkey")
    if hotkey.lower() in RESERVED_HOTKEYS:
        raise ValidationError(ERROR_HOTKEY_RESERVED.format(hotkey=hotkey), code="hotkey")
    if hotkey:
        holders = Label.objects.filter(project=project, hotkey=hotkey)
        holder = (holders.exclude(pk=label.pk) if label is not None else holders).first()
        if holder is not None:
            raise ValidationError(ERROR_HOTKEY_TAKEN.format(hotkey=hotkey, label=holder.name), code="hotkey")
    return hotkey


def _check_color(color: str) -> str:
    if len(color) != 7 or color[0] != "#" or any(c not in "0123456789abcdefABCDEF" for c in color[1:]):
        raise ValidationError(ERROR_COLOR, code="color")
    return color.lower()


def _check_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise ValidationError(ERROR_NAME, code="name")
    return name


def label_add(
    *, project: Project, key: str, changed_by: User | None, name: str = "", hotkey: str = "", color: str = ""
) -> Label:
    """Adds a label (span projects: an entity type) at the end of the schema."""
    normalised = label_key_normalise(key)
    if not normalised:
        raise ValidationError(ERROR_LABEL_KEY.format(key=key[:64]), code="key")
    with transaction.atomic():
        Project.objects.select_for_update().filter(pk=project.pk).first()
        existing = list(Label.objects.filter(project=project))
        if (
            any(label.key == normalised for label in existing)
            or LabelChange.objects.filter(
                project=project, action=LabelChangeAction.MERGE, key=normalised
            ).exists()
        ):
            raise ValidationError(ERROR_LABEL_EXISTS.format(key=normalised), code="key")
        if len(existing) >= MAX_LABELS:
            raise ValidationError(ERROR_TOO_MANY, code="labels")
        label = Label.objects.create(
            project=project, key=normalised, name=_check_name(name or key),
            hotkey=_check_hotkey(project, hotkey, label=None),
            color=_check_color(color) if color else LABEL_COLORS[len(existing) % len(LABEL_COLORS)],
            order=max((label.order for label in existing), default=-1) + 1,
        )  # fmt: skip
        after = {"name": label.name, "hotkey": label.hotkey, "color": label.color}
        _record(project, LabelChangeAction.ADD, label.key, changed_by, after=after)
        _touch(project)
    return label


def label_edit(*, project: Project, key: str, edit: LabelEdit, changed_by: User | None) -> Label:
    """Changes a label's display name, hotkey or colour; one recorded change per attribute that changed.
    The key stays."""
    with transaction.atomic():
        label = _label(project, key)
        changes = []
        if edit.name is not None and _check_name(edit.name) != label.name:
            changes.append((LabelChangeAction.RENAME, "name", _check_name(edit.name)))
        if edit.hotkey is not None and edit.hotkey != label.hotkey:
            changes.append(
                (LabelChangeAction.HOTKEY, "hotkey", _check_hotkey(project, edit.hotkey, label=label))
            )
        if edit.color is not None and _check_color(edit.color) != label.color:
            changes.append((LabelChangeAction.COLOR, "color", _check_color(edit.color)))
        for action, attribute, value in changes:
            before = getattr(label, attribute)
            setattr(label, attribute, value)
            _record(
                project, action, label.key, changed_by, before={attribute: before}, after={attribute: value}
            )
        if changes:
            label.save(update_fields=[attribute for _, attribute, _ in changes])
            _touch(project)
    return label


def label_reorder(*, project: Project, keys: list[str], changed_by: User | None) -> list[Label]:
    """Puts the labels in the given order (every key once)."""
    with transaction.atomic():
        labels = {label.key: label for label in Label.objects.select_for_update().filter(project=project)}
        if sorted(keys) != sorted(labels) or len(set(keys)) != len(keys):
            raise ValidationError(ERROR_ORDER, code="order")
        before = [label.key for label in sorted(labels.values(), key=lambda label: (label.order, label.pk))]
        if before == keys:
            return [labels[key] for key in keys]
        for order, key in enumerate(keys):
            labels[key].order = order
        Label.objects.bulk_update(labels.values(), ["order"])
        _record(
            project,
            LabelChangeAction.REORDER,
            "",
            changed_by,
            before={"order": before},
            after={"order": keys},
        )
        _touch(project)
    return [labels[key] for key in keys]


def _in_use(project: Project, *, without: Label) -> int:
    return Label.objects.filter(project=project, retired_at__isnull=True).exclude(pk=without.pk).count()


def label_retire(*, project: Project, key: str, changed_by: User | None) -> Label:
    """Retires a label: its answers stay (and score, and export), nobody is offered it any more."""
    with transaction.atomic():
        label = _label(project, key)
        if label.retired_at is not None:
            return label
        remaining = _in_use(project, without=label)
        if (project.kind == ProjectKind.SINGLE and remaining < 2) or remaining < 1:
            raise ValidationError(ERROR_TOO_FEW.format(count=remaining), code="too_few")
        label.retired_at = timezone.now()
        label.save(update_fields=["retired_at"])
        _record(project, LabelChangeAction.RETIRE, label.key, changed_by)
        _touch(project)
    return label


def label_restore(*, project: Project, key: str, changed_by: User | None) -> Label:
    """Offers a retired label again."""
    with transaction.atomic():
        label = _label(project, key)
        if label.retired_at is None:
            return label
        label.retired_at = None
        label.save(update_fields=["retired_at"])
        _record(project, LabelChangeAction.RESTORE, label.key, changed_by)
        _touch(project)
    return label


def label_merge(*, project: Project, key: str, into: str, changed_by: User | None) -> LabelChange:
    """Merges label `key` into label `into` in one transaction: every answer, gold label, evaluation label,
    LF target, vote, weak label and review item that stores `key` now stores `into` (a multi-label answer
    that held both holds `into` once), `key` leaves the schema and stays an alias of `into`. The returned
    change records the rows migrated, per kind."""
    with transaction.atomic():
        Project.objects.select_for_update().filter(pk=project.pk).first()
        source, target = _label(project, key), _label(project, into)
        if source.pk == target.pk:
            raise ValidationError(ERROR_MERGE_SELF, code="merge_self")
        if target.retired_at is not None:
            raise ValidationError(ERROR_MERGE_RETIRED.format(key=target.key), code="merge_retired")
        remaining = _in_use(project, without=source)
        if project.kind == ProjectKind.SINGLE and remaining < 2:
            raise ValidationError(ERROR_TOO_FEW.format(count=remaining), code="too_few")
        keys = tuple(
            label.key
            for label in Label.objects.filter(project=project).order_by("order", "id")
            if label.pk != source.pk
        )
        event = LabelsMerged(project=project, source=source, into=target, keys=keys)
        event.counts["suggestions"] = Item.objects.filter(project=project, suggested_label=source.key).update(
            suggested_label=target.key
        )
        suggested = rows_storing(
            Item.objects.filter(project=project), "suggested_spans", source.key, spans=True
        )
        event.counts["suggested_spans"] = spans_rename(
            Item, suggested, "suggested_spans", source.key, target.key
        )
        labels_merged(event)
        before = {"name": source.name, "hotkey": source.hotkey, "color": source.color}
        source.delete()
        change = _record(
            project, LabelChangeAction.MERGE, source.key, changed_by, into=target.key, before=before,
            counts={name: count for name, count in event.counts.items() if count},
        )  # fmt: skip
        _touch(project)
    return change


# --- helpers for the receivers: the rows of a queryset that store a key, and the key replaced in them -------

M = TypeVar("M", bound=models.Model)


def rows_storing(rows: models.QuerySet[M], field_name: str, key: str, *, spans: bool = False) -> Iterator[M]:
    """The rows whose JSON list `field_name` stores `key` (a list of keys; `spans`: a list of span dicts),
    read in chunks. PostgreSQL finds them by containment; elsewhere every row is read and checked."""
    if connection.vendor == "postgresql":
        probe: list[Any] = [{"label": key}] if spans else [key]
        rows = rows.filter(**{f"{field_name}__contains": probe})
    for row in rows.only("pk", field_name).iterator(chunk_size=2000):
        value = getattr(row, field_name) or []
        if any(
            (entry.get("label") if spans and isinstance(entry, dict) else entry) == key for entry in value
        ):
            yield row


def keys_replace(keys: Iterable[str], source: str, into: str, order: tuple[str, ...]) -> list[str]:
    """A list of keys with `source` read as `into`, once each, in schema order."""
    replaced = {into if key == source else key for key in keys}
    return [key for key in order if key in replaced] + sorted(replaced - set(order))


def spans_replace(spans: Iterable[dict[str, Any]], source: str, into: str) -> list[dict[str, Any]]:
    """Spans with type `source` read as `into`; a span that then repeats another is dropped."""
    seen: set[tuple[Any, Any, Any]] = set()
    result = []
    for span in spans:
        span = {**span, "label": into} if span.get("label") == source else span
        identity = (span.get("start"), span.get("end"), span.get("label"))
        if identity not in seen:
            seen.add(identity)
            result.append(span)
    return result


def keys_rename(
    model: type[M], rows: Iterable[M], field_name: str, source: str, into: str, order: tuple[str, ...]
) -> int:
    """Rewrites `field_name` (a list of keys) of the given rows; the number changed."""
    changed = []
    for row in rows:
        setattr(row, field_name, keys_replace(getattr(row, field_name), source, into, order))
        changed.append(row)
    model.objects.bulk_update(changed, [field_name], batch_size=1000)  # type: ignore[attr-defined]
    return len(changed)


def spans_rename(model: type[M], rows: Iterable[M], field_name: str, source: str, into: str) -> int:
    """Rewrites `field_name` (a list of spans) of the given rows; the number changed."""
    changed = []
    for row in rows:
        setattr(row, field_name, spans_replace(getattr(row, field_name), source, into))
        changed.append(row)
    model.objects.bulk_update(changed, [field_name], batch_size=1000)  # type: ignore[attr-defined]
    return len(changed)


@dataclass(frozen=True)
class LabelState:
    """A label as a whole-schema edit gives it (the project PATCH): known keys are edited, new ones added."""

    key: str
    name: str | None = None
    hotkey: str | None = None
    color: str | None = None
    retired: bool | None = None


def labels_apply(*, project: Project, labels: list[LabelState], changed_by: User | None) -> list[Label]:
    """Applies a list of labels to the schema in one transaction: a key the project has is edited (name,
    hotkey, colour, retired), a new key is added. Labels left out stay as they are (merging and retiring are
    said, never implied by absence)."""
    with transaction.atomic():
        known = {label.key for label in Label.objects.filter(project=project)}
        for state in labels:
            key = label_key_normalise(state.key)
            if key in known:
                label_edit(
                    project=project, key=key, edit=LabelEdit(name=state.name, hotkey=state.hotkey, color=state.color),
                    changed_by=changed_by,
                )  # fmt: skip
            else:
                label_add(
                    project=project, key=state.key, name=state.name or "", hotkey=state.hotkey or "",
                    color=state.color or "", changed_by=changed_by,
                )  # fmt: skip
                known.add(key)
            if state.retired is True:
                label_retire(project=project, key=key, changed_by=changed_by)
            elif state.retired is False:
                label_restore(project=project, key=key, changed_by=changed_by)
        return list(Label.objects.filter(project=project).order_by("order", "id"))

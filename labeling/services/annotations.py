"""Writes to annotations: submit and undo (the labeling hot path), and edits that keep a revision."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from core.exceptions import NotFoundError
from core.queries import models_from_sql, statement_cursor
from core.spans import SpanDict
from labeling.choices import AnnotationSource, EventType
from labeling.hooks import AnswerGiven, AnswerTakenBack, answer_given, answer_taken_back
from labeling.models import Annotation, AnnotationRevision, Assignment, GoldLabel, InteractionEvent, Rationale
from labeling.services.answer_summary import SUMMARY_UPSERT_CTE, answer_field, answer_summaries_refresh
from labeling.services.queue import (
    ERROR_ITEM,
    QueueItem,
    input_method_validate,
    project_item_get,
    queue_lease_take,
)
from labeling.services.spans import ERROR_NOT_SPANS, span_types_present, spans_validate
from projects.models import Item, Membership, Project
from projects.services.label_keys import ERROR_ONE_LABEL, LabelKeys, annotation_labels_validate, label_keys_of

__all__ = ["ERROR_ONE_LABEL", "annotation_labels_validate"]


def annotation_update(
    *,
    annotation: Annotation,
    labels: list[str],
    edited_by: User | None,
    lead_time_ms: int | None = None,
    spans: Any = None,
) -> Annotation:
    """Changes an annotation's labels (span projects: its spans, given as `spans`); the previous answer is
    kept as an AnnotationRevision, and the item's answer summary follows."""
    project = annotation.project
    checked: list[SpanDict] = []
    if project.is_spans:
        checked = spans_validate(project=project, text=annotation.item.text, spans=spans)
        keys = span_types_present(project=project, spans=checked)
    else:
        keys = annotation_labels_validate(project=project, labels=labels)
    with transaction.atomic():
        # The item is locked with the answer (one statement): its summary is recomputed below from all its
        # answers, which a submit or an undo of another answer for it must not change meanwhile.
        locked = (
            Annotation.objects.select_related("item").select_for_update(no_key=True).get(pk=annotation.pk)
        )
        if locked.labels == keys and locked.spans == checked:
            return locked
        AnnotationRevision.objects.create(
            annotation=locked, labels=locked.labels, spans=locked.spans, lead_time_ms=locked.lead_time_ms,
            edited_by=edited_by,
        )  # fmt: skip
        locked.labels, locked.spans = keys, checked
        if lead_time_ms is not None:
            locked.lead_time_ms = lead_time_ms
        locked.save(update_fields=["labels", "spans", "lead_time_ms", "updated_at"])
        answer_summaries_refresh(project=project, item_ids=[locked.item_id])
    return locked


# --- The labeling hot path: submit and undo ----------------------------------------------------------------

MAX_RATIONALES = 50
ERROR_SPANS_REQUIRED = "A span project's answer is a list of spans (an empty list: no entities)."
ERROR_UUID_TAKEN = "This client_uuid belongs to another submission."
ERROR_NOTHING_TO_UNDO = "There is no submission of yours to undo in this project."
ERROR_RATIONALE_SPAN = "Rationale {index}: the span {start}-{end} is outside the item's text."
ERROR_RATIONALE_QUOTE = "Rationale {index}: the quoted text does not match the item's text at {start}-{end}."
ERROR_RATIONALE_LABEL = "Rationale {index}: '{label}' is not one of the submitted labels."
ERROR_TOO_MANY_RATIONALES = f"At most {MAX_RATIONALES} rationales per submission."
ERROR_SUGGESTED_LABEL = "suggested_label '{label}' is not a label of this project."


@dataclass(frozen=True)
class RationaleSpec:
    """A highlighted span: offsets in code points of the item's text, the quote, the label it supports."""

    start: int
    end: int
    quote: str = ""
    label: str = ""


@dataclass(frozen=True)
class SubmitResult:
    annotation: Annotation
    created: bool
    changed: bool = False


def _as_displayed(text: str) -> tuple[str, list[int]]:
    """The text as a browser shows it (HTML turns CR LF and lone CR into LF), and a map from its offsets
    to the stored text's offsets, so that spans selected on the page land on the same characters."""
    if "\r" not in text:
        return text, list(range(len(text) + 1))
    shown: list[str] = []
    to_text: list[int] = []
    position = 0
    while position < len(text):
        to_text.append(position)
        shown.append("\n" if text[position] == "\r" else text[position])
        position += 2 if text.startswith("\r\n", position) else 1
    to_text.append(len(text))
    return "".join(shown), to_text


def _rationales_build(
    *, annotation: Annotation, item: Item, specs: Sequence[RationaleSpec], labels: list[str]
) -> list[Rationale]:
    if len(specs) > MAX_RATIONALES:
        raise ValidationError(ERROR_TOO_MANY_RATIONALES, code="rationale")
    built = []
    shown, to_text = _as_displayed(item.text)
    submitted = LabelKeys(labels)
    for index, spec in enumerate(specs, start=1):
        values = {"index": index, "start": spec.start, "end": spec.end, "label": spec.label}
        if not 0 <= spec.start < spec.end <= len(shown):
            raise ValidationError(ERROR_RATIONALE_SPAN.format(**values), code="rationale")
        if spec.quote and spec.quote != shown[spec.start : spec.end]:
            raise ValidationError(ERROR_RATIONALE_QUOTE.format(**values), code="rationale")
        start, end = to_text[spec.start], to_text[spec.end]
        quote = item.text[start:end]
        label = submitted.find(spec.label) if spec.label else (labels[0] if len(labels) == 1 else "")
        if label is None:
            raise ValidationError(ERROR_RATIONALE_LABEL.format(**values), code="rationale")
        built.append(
            Rationale(project_id=annotation.project_id, annotation=annotation, item=item, label=label,
                      start=start, end=end, quote=quote)
        )  # fmt: skip
    return built


class Unknown:
    """`membership` not given: annotation_submit reads it."""


UNKNOWN = Unknown()


def annotation_submit(
    *,
    project: Project,
    user: User,
    item_id: int,
    labels: list[str],
    client_uuid: uuid.UUID,
    lead_time_ms: int | None = None,
    rationales: Sequence[RationaleSpec] = (),
    input_method: str = "",
    client_ts: datetime | None = None,
    suggested_label: str = "",
    membership: Membership | Unknown | None = UNKNOWN,
    spans: Any = None,
    spans_suggested: bool = False,
) -> SubmitResult:
    """Stores an analyst's answer for an item, once per client_uuid, in one transaction.

    A retry with the same client_uuid returns the stored annotation. An answer for an item the analyst
    already answered changes that annotation (the old labels become a revision). The item's open slots, the
    analyst's lease, the rationales and the submit event are written in the same transaction. With the
    model's suggestion that was shown (suggested_label), its acceptance or rejection is recorded too; a new
    annotation counts towards the project's retrain (checked on a worker, after commit). `membership`: the
    analyst's row where the door already read it (ProjectAccess.membership), else it is read here.

    The hot path (a new answer) costs four statements between BEGIN and COMMIT on PostgreSQL: the item
    locked, its annotations read (a retry's, the analyst's earlier one, the others' for review), and one
    statement that writes the annotation, the slot, the lease and the events (see _SUBMIT).

    A span project's answer is `spans` (a list, empty for "no entities"; see labeling.services.spans), checked
    against the item's text once it is read; its `labels` become the entity types present. With
    `spans_suggested` (the model's spans were pre-filled), whether the analyst kept them is recorded.
    """
    if project.is_spans:
        if spans is None:
            raise ValidationError(ERROR_SPANS_REQUIRED, code="spans")
        keys: list[str] = []
    elif spans:
        raise ValidationError(ERROR_NOT_SPANS, code="spans")
    else:
        keys = annotation_labels_validate(project=project, labels=labels)
    input_method_validate(input_method)
    suggested_label = _suggested_label_resolve(project, suggested_label)
    if isinstance(membership, Unknown):
        membership = _membership(project, user)
    now = timezone.now()
    with transaction.atomic():
        # Locking the item first serialises submissions for it: a double click waits here, then finds the
        # first click's annotation by its uuid below.
        item = _item_locked(project=project, item_id=item_id)
        checked: list[SpanDict] = []
        if project.is_spans:
            checked = spans_validate(project=project, text=item.text, spans=spans)
            keys = span_types_present(project=project, spans=checked)
        found = _answers_of(item_id=item.pk, client_uuid=client_uuid)
        replay = next((row for row in found if row.client_uuid == client_uuid), None)
        if replay is not None:
            if replay.annotator_id != user.pk or replay.item_id != item.pk:
                raise ValidationError(ERROR_UUID_TAKEN, code="client_uuid_taken")
            return SubmitResult(annotation=replay, created=False)
        mine = next((row for row in found if row.item_id == item.pk and row.annotator_id == user.pk), None)
        others = tuple(tuple(row.labels) for row in found if row.item_id == item.pk and row is not mine)
        payload: dict[str, Any] = {"labels": keys, "input_method": input_method, "dwell_ms": lead_time_ms,
                                   "client_uuid": str(client_uuid)}  # fmt: skip
        if project.is_spans:
            payload["spans"] = len(checked)
        if mine is not None:
            previous = mine.labels
            mine.item = item
            changed = annotation_update(
                annotation=mine, labels=keys, edited_by=user, lead_time_ms=lead_time_ms, spans=checked
            )
            _event(project, item, user, EventType.CHANGE, {**payload, "previous": previous}, client_ts, now)
            if suggested_label:
                InteractionEvent.objects.bulk_create(
                    [_suggestion_event(project, item, user, suggested_label, keys, client_ts, now)]
                )
            answer_given(
                AnswerGiven(project=project, annotation=changed, membership=membership, created=False,
                            other_labels=others)
            )  # fmt: skip
            return SubmitResult(annotation=changed, created=False, changed=True)
        annotation = Annotation(
            project=project, item=item, annotator=user, labels=keys, spans=checked, source=AnnotationSource.HUMAN,
            client_uuid=client_uuid, lead_time_ms=lead_time_ms, created_at=now, updated_at=now,
        )  # fmt: skip
        extra = (
            [_suggestion_event(project, item, user, suggested_label, keys, client_ts, now)]
            if suggested_label
            else []
        )
        if spans_suggested and item.suggested_spans:
            extra.append(_span_suggestion_event(project, item, user, checked, client_ts, now))
        if connection.vendor == "postgresql" and not rationales:
            _submit_in_one_statement(annotation, payload, extra, client_ts, now)
        else:
            _submit_step_by_step(annotation, payload, extra, rationales, client_ts, now)
        # A new annotation has no revisions: its serializer need not ask the database (an evaluated empty
        # queryset: iterating `none()` itself still runs the compiler, a quarter of a millisecond).
        no_revisions = AnnotationRevision.objects.none()
        no_revisions._result_cache = []
        cast(Any, annotation)._prefetched_objects_cache = {"revisions": no_revisions}
        answer_given(
            AnswerGiven(project=project, annotation=annotation, membership=membership, created=True,
                        other_labels=others, is_gold_check=bool(getattr(item, "is_gold_check", False)),
                        has_gold=bool(getattr(item, "has_gold", False)))
        )  # fmt: skip
    return SubmitResult(annotation=annotation, created=True)


# The submit's two reads, written out: the ORM built them in about 2 ms of CPU per submit (the locked item
# with its two EXISTS, and the OR of two lookups), against a few tenths of a millisecond as SQL.
_ITEM_LOCKED = (
    "SELECT i.*,"
    f" EXISTS (SELECT 1 FROM {GoldLabel._meta.db_table} k WHERE k.item_id = i.id AND k.is_check) AS is_gold_check,"
    f" EXISTS (SELECT 1 FROM {GoldLabel._meta.db_table} g WHERE g.item_id = i.id) AS has_gold"
    f" FROM {Item._meta.db_table} i WHERE i.project_id = %s AND i.id = %s"
)
_ANSWERS = f"SELECT * FROM {Annotation._meta.db_table} WHERE client_uuid = %s OR item_id = %s ORDER BY id"


def _item_locked(*, project: Project, item_id: int) -> Item:
    """The project's item, its row locked until the transaction ends (PostgreSQL, FOR NO KEY UPDATE: see
    labeling.services.queue; SQLite's transactions are serialised by BEGIN IMMEDIATE), with `is_gold_check`
    and `has_gold` set on it."""
    lock = " FOR NO KEY UPDATE" if connection.features.has_select_for_update else ""
    found = models_from_sql(Item, _ITEM_LOCKED + lock, [project.pk, item_id])
    if not found:
        raise NotFoundError(ERROR_ITEM)
    return found[0]


def _answers_of(*, item_id: int, client_uuid: uuid.UUID) -> list[Annotation]:
    """The item's annotations and the one with this client_uuid (a retry's, on any item), in id order."""
    uuid_value = Annotation._meta.get_field("client_uuid").get_db_prep_value(client_uuid, connection)
    return models_from_sql(Annotation, _ANSWERS, [uuid_value, item_id])


# The new answer's writes as one PostgreSQL statement (data-modifying WITH): the annotation, one slot fewer
# on the item, the analyst's lease marked submitted (or made, for a client that never asked `next`), the
# item's answer summary (labeling.services.answer_summary), and the events, the submit's carrying the new
# annotation's id.
_SUBMIT = """
WITH ann AS (
    INSERT INTO labeling_annotation (created_at, updated_at, project_id, item_id, annotator_id,
                                     external_annotator, labels, spans, source, client_uuid, lead_time_ms)
    VALUES (%(now)s, %(now)s, %(project)s, %(item)s, %(user)s, '', %(labels)s::jsonb, %(spans)s::jsonb,
            %(source)s, %(uuid)s, %(lead)s)
    RETURNING id
), slot AS (
    UPDATE labeling_item SET remaining = remaining - 1 WHERE id = %(item)s
), lease AS (
    INSERT INTO labeling_assignment (created_at, updated_at, project_id, item_id, user_id, status, expires_at)
    VALUES (%(now)s, %(now)s, %(project)s, %(item)s, %(user)s, 'submitted', %(now)s)
    ON CONFLICT (item_id, user_id) DO UPDATE
      SET status = 'submitted', expires_at = excluded.expires_at, updated_at = excluded.updated_at
), {summary}, events AS (
    INSERT INTO labeling_interactionevent (project_id, item_id, user_id, type, payload, client_ts, server_ts)
    SELECT %(project)s, %(item)s, %(user)s, e.type,
           CASE WHEN e.type = 'submit' THEN e.payload || jsonb_build_object('annotation_id', ann.id)
                ELSE e.payload END,
           %(client_ts)s::timestamptz, %(now)s
    FROM ann, (VALUES {events}) AS e(type, payload)
)
SELECT id FROM ann"""


def _submit_in_one_statement(
    annotation: Annotation, payload: dict[str, Any], extra: list[InteractionEvent], client_ts: datetime | None,
    now: datetime,
) -> None:  # fmt: skip
    events = [(EventType.SUBMIT.value, payload), *((row.type, row.payload) for row in extra)]
    params: dict[str, Any] = {
        "now": now, "project": annotation.project_id, "item": annotation.item_id, "user": annotation.annotator_id,
        "labels": json.dumps(annotation.labels), "spans": json.dumps(annotation.spans), "source": annotation.source,
        "uuid": annotation.client_uuid,
        "lead": annotation.lead_time_ms, "client_ts": client_ts,
    }  # fmt: skip
    for n, (kind, body) in enumerate(events):
        params[f"type{n}"], params[f"payload{n}"] = kind, json.dumps(body)
    rows = ", ".join(f"(%(type{n})s, %(payload{n})s::jsonb)" for n in range(len(events)))
    with statement_cursor() as cursor:
        statement = _SUBMIT.format(
            events=rows, summary=SUMMARY_UPSERT_CTE.format(answer=answer_field(annotation.project))
        )
        cursor.execute(statement, params)
        (annotation.pk,) = cursor.fetchone()
    payload["annotation_id"] = annotation.pk


def _submit_step_by_step(
    annotation: Annotation, payload: dict[str, Any], extra: list[InteractionEvent],
    rationales: Sequence[RationaleSpec], client_ts: datetime | None, now: datetime,
) -> None:  # fmt: skip
    """The same writes as _SUBMIT, one by one (SQLite, and answers with rationales)."""
    item, user, project = annotation.item, annotation.annotator, annotation.project
    assert user is not None
    annotation.save(force_insert=True)
    answer_summaries_refresh(project=project, item_ids=[item.pk])
    spans = _rationales_build(annotation=annotation, item=item, specs=rationales, labels=annotation.labels)
    Rationale.objects.bulk_create(spans)
    Item.objects.filter(pk=item.pk).update(remaining=F("remaining") - 1)
    updated = Assignment.objects.filter(item=item, user=user).update(
        status=Assignment.Status.SUBMITTED, expires_at=now, updated_at=now
    )
    if not updated:
        Assignment.objects.create(
            project=project, item=item, user=user, status=Assignment.Status.SUBMITTED, expires_at=now
        )
    payload["annotation_id"] = annotation.pk
    events = [_event_row(project, item, user, EventType.SUBMIT, payload, client_ts, now)]
    events += [
        _event_row(project, item, user, EventType.RATIONALE, _rationale_payload(span), client_ts, now)
        for span in spans
    ]
    InteractionEvent.objects.bulk_create([*events, *extra])


def _suggested_label_resolve(project: Project, suggested_label: str) -> str:
    """The key of the suggestion that was shown, read by the same rule as the answer's keys."""
    if not suggested_label:
        return ""
    key = label_keys_of(project=project).find(suggested_label)
    if key is None:
        raise ValidationError(ERROR_SUGGESTED_LABEL.format(label=suggested_label), code="suggested_label")
    return key


def _suggestion_event(
    project: Project, item: Item, user: User, suggested: str, keys: list[str], client_ts: datetime | None,
    now: datetime,
) -> InteractionEvent:  # fmt: skip
    kind = EventType.SUGGESTION_ACCEPTED if keys == [suggested] else EventType.SUGGESTION_REJECTED
    return _event_row(project, item, user, kind, {"suggested": suggested, "labels": keys}, client_ts, now)


def _span_suggestion_event(
    project: Project, item: Item, user: User, spans: list[SpanDict], client_ts: datetime | None, now: datetime
) -> InteractionEvent:
    """Accepted: the analyst submitted exactly the model's spans; else rejected, with how many they kept."""
    suggested = {(span["start"], span["end"], span["label"]) for span in item.suggested_spans}
    given = {(span["start"], span["end"], span["label"]) for span in spans}
    kind = EventType.SUGGESTION_ACCEPTED if given == suggested else EventType.SUGGESTION_REJECTED
    payload = {"suggested": len(suggested), "kept": len(given & suggested), "spans": len(given),
               "model": item.suggested_by}  # fmt: skip
    return _event_row(project, item, user, kind, payload, client_ts, now)


def _membership(project: Project, user: User) -> Membership | None:
    return Membership.objects.filter(project=project, user=user).first()


def annotation_undo_last(
    *, project: Project, user: User, input_method: str = "", client_ts: datetime | None = None
) -> QueueItem:
    """Takes back this analyst's latest submission in the project and hands its item back to them.

    The annotation is deleted (the item's answer summary follows); its labels, uuid and timing stay on the
    undo event.
    """
    input_method_validate(input_method)
    now = timezone.now()
    with transaction.atomic():
        last = (
            Annotation.objects.select_for_update()
            .filter(project=project, annotator=user, source=AnnotationSource.HUMAN)
            .order_by("-created_at", "-id")
            .first()
        )
        if last is None:
            raise ValidationError(ERROR_NOTHING_TO_UNDO, code="nothing_to_undo")
        item = project_item_get(project=project, item_id=last.item_id, lock=True)
        payload = {"labels": last.labels, "annotation_id": last.pk, "client_uuid": str(last.client_uuid),
                   "lead_time_ms": last.lead_time_ms, "input_method": input_method}  # fmt: skip
        if last.spans:
            payload["spans"] = last.spans
        previous, previous_spans = list(last.labels), list(last.spans)
        last.delete()
        answer_summaries_refresh(project=project, item_ids=[item.pk])
        Item.objects.filter(pk=item.pk).update(remaining=F("remaining") + 1)
        item.refresh_from_db()
        assignment = queue_lease_take(project=project, user=user, item=item, now=now)
        _event(project, item, user, EventType.UNDO, payload, client_ts, now)
        answer_taken_back(AnswerTakenBack(project=project, item_id=item.pk))
    return QueueItem(
        item=item, assignment=assignment, previous_labels=previous, previous_spans=previous_spans
    )


def _rationale_payload(span: Rationale) -> dict[str, Any]:
    return {"annotation_id": span.annotation_id, "start": span.start, "end": span.end, "label": span.label,
            "quote": span.quote[:200]}  # fmt: skip


def _event_row(
    project: Project, item: Item, user: User, kind: str, payload: dict[str, Any], client_ts: datetime | None,
    now: datetime,
) -> InteractionEvent:  # fmt: skip
    return InteractionEvent(project=project, item=item, user=user, type=kind, payload=payload,
                            client_ts=client_ts, server_ts=now)  # fmt: skip


def _event(
    project: Project, item: Item, user: User, kind: str, payload: dict[str, Any], client_ts: datetime | None,
    now: datetime,
) -> None:  # fmt: skip
    _event_row(project, item, user, kind, payload, client_ts, now).save()

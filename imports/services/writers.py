"""Batch writers behind the import service: one algorithm, two ways to insert rows.

Per batch: find which external ids the project already has, insert the new items, update the known ones
(when asked to), then write their imported annotations (or, for a row of an evaluation-only split, its
evaluation-only label), recompute the answer summaries of the items whose answers changed (one statement per
batch, labeling.services.answer_summary) and write the external LF votes. The ORM writer works on any
database; the PostgreSQL writer inserts with COPY and the SQLite writer with `executemany` of plain tuples,
each taking item ids from the table's sequence up front. The PostgreSQL writer's COPYs are sent by a thread
of its own (imports.services.copy_sender) while it formats the next batch, and it asks for each batch's known
items and ids one batch ahead, so that neither side waits for the other.
"""

from __future__ import annotations

import json
from collections import Counter, deque
from collections.abc import Collection, Iterable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.backends.utils import CursorWrapper
from django.db.models import F
from django.utils import timezone

from core.queries import fk_triggers_may_be_off, fk_triggers_off
from features.services.invalidation import features_invalidate
from imports.parsing.rows import ImportRow
from imports.services.copy_sender import CopySender
from labeling.annotation_ids import imported_annotation_uuids
from labeling.choices import AnnotationSource
from labeling.models import Annotation, EvaluationLabel, ItemAnswerSummary
from labeling.selectors.imported import imported_annotations_of
from labeling.services.answer_summary import answer_summaries_of, answer_summaries_refresh
from projects.choices import OnConflict
from projects.models import ImportJob, Item, Project
from weak_supervision.models import ExternalVote

# Rows per statement of Django's bulk_update: it writes one CASE with a branch per row for each field, which
# the database walks for every row it updates, so a statement's cost grows with the square of its rows (an
# update import of 200,000 rows in batches of 10,000 ran for more than five minutes on PostgreSQL without
# finishing one batch). The PostgreSQL writer updates items with one join per batch instead.
UPDATE_ROWS = 500


@dataclass
class WriteCounts:
    rows: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    annotations: int = 0
    votes: int = 0
    evaluation_labels: int = 0


class OrmBatchWriter:
    """Writes batches with the Django ORM (SQLite in embedded mode, or any backend)."""

    def __init__(
        self, *, project: Project, on_conflict: str, label_ids: dict[str, int], import_job: ImportJob | None,
        long_format: bool = False, eval_only_splits: frozenset[str] = frozenset(),
    ) -> None:  # fmt: skip
        self.project = project
        # The labels of rows in these splits only score: they become EvaluationLabels, never annotations.
        self.eval_only_splits = eval_only_splits
        # Long format: one row per item and annotator, so an item's rows may span batches; the ids of the items
        # this import created are kept to find them again (only then: a million of them cost memory).
        self.long_format = long_format
        self.created: dict[str, int] = {}
        self.update = on_conflict == OnConflict.UPDATE
        self.label_ids = label_ids
        self.import_job = import_job
        self.lf_ids: list[int] = []
        self.counts = WriteCounts()
        self.now = timezone.now()
        # Into an empty project every row is new (the row builder already refused duplicate ids), so the
        # per-batch lookups of known items and annotations can be skipped: they are most of the cost.
        self.project_had_items = Item.objects.filter(project=project).exists()
        # Only then can an updated item have an evaluation-only label to drop (its label became an answer).
        self.project_had_evaluation_labels = (
            self.update and EvaluationLabel.objects.filter(project=project).exists()
        )
        # Each distinct label list's JSON text, written once per import (most rows share a few lists).
        self._labels_json: dict[tuple[str, ...], str] = {}
        # The batch's items that existed before it whose answers were created, changed or taken back: their
        # summaries are recomputed from all their answers after the batch.
        self.answers_changed: set[int] = set()

    @contextmanager
    def session(self) -> Iterator[None]:
        """Around the batches, inside the import's transaction: what a writer holds while it writes (the
        PostgreSQL writer's COPY sender). Leaving it cleanly, every batch is in."""
        yield

    def look_ahead(self, batch: Sequence[ImportRow]) -> None:
        """Told of each batch before the one before it is written (the PostgreSQL writer asks for its known
        items then)."""

    def write(self, batch: Sequence[ImportRow]) -> None:
        if not batch:
            return
        existing = self._existing_item_ids(batch) if self.project_had_items else {}
        earlier = {
            row.external_id: self.created[row.external_id] for row in batch if row.external_id in self.created
        }
        firsts: dict[str, ImportRow] = {}  # the first row of each item to create
        for row in batch:
            if row.external_id not in existing and row.external_id not in earlier:
                firsts.setdefault(row.external_id, row)
        labeled = Counter(
            row.external_id
            for row in batch
            if row.labels and row.external_id in firsts and row.split not in self.eval_only_splits
        )
        item_ids = dict(zip(firsts, self.insert_items(list(firsts.values()), labeled), strict=True))
        if self.long_format:
            self.created.update(item_ids)
        item_ids.update(earlier)
        known = {row.external_id: row for row in reversed(batch) if row.external_id in existing}
        self.counts.rows += len(batch)
        self.counts.created += len(firsts)
        if self.update:
            self.update_items([(existing[external_id], row) for external_id, row in known.items()])
            self.counts.updated += len(known)
            item_ids.update((external_id, existing[external_id]) for external_id in known)
            scope = list(batch)
        else:
            self.counts.skipped += len(known)
            scope = [row for row in batch if row.external_id not in existing]
        self._write_labels(scope, item_ids, known_items=existing.keys(), counted=firsts.keys())
        self.answer_summaries_refresh(sorted(self.answers_changed))
        self.answers_changed.clear()
        if self.lf_ids:
            self._write_votes(scope, item_ids, replace=self.update and bool(known))

    def answer_summaries_refresh(self, item_ids: list[int]) -> None:
        answer_summaries_refresh(project=self.project, item_ids=item_ids)

    def _labels_text(self, labels: Sequence[str] | None) -> str:
        """A label list as the writer inserts it: its JSON text as `_labels_format` gives it, cached per list."""
        key = tuple(labels or ())
        text = self._labels_json.get(key)
        if text is None:
            text = self._labels_json[key] = self._labels_format(json.dumps(list(key)))
        return text

    def _labels_format(self, text: str) -> str:
        return text

    # --- items ---------------------------------------------------------------------------------------------
    def _existing_item_ids(self, batch: Sequence[ImportRow]) -> dict[str, int]:
        return dict(
            Item.objects.filter(project=self.project, external_id__in=[row.external_id for row in batch])
            .values_list("external_id", "id")
            .iterator()
        )

    def insert_items(self, rows: Sequence[ImportRow], labeled: Counter[str]) -> list[int]:
        created = Item.objects.bulk_create(
            [
                Item(
                    project=self.project,
                    external_id=row.external_id,
                    text=row.text,
                    metadata=json.loads(row.metadata_json),
                    content_hash=row.content_hash,
                    split=row.split,
                    remaining=self.project.overlap - labeled[row.external_id],
                    created_at=self.now,
                )
                for row in rows
            ]
        )
        return [item.pk for item in created]

    def update_items(self, pairs: Sequence[tuple[int, ImportRow]]) -> None:
        if not pairs:
            return
        items = [
            Item(
                pk=item_id, text=row.text, metadata=json.loads(row.metadata_json),
                content_hash=row.content_hash, split=row.split,
            )
            for item_id, row in pairs
        ]  # fmt: skip
        Item.objects.bulk_update(items, ["text", "metadata", "content_hash", "split"], batch_size=UPDATE_ROWS)
        # Their cached features describe the old text: the blocks holding them are rebuilt at the next retrain.
        features_invalidate(project=self.project, item_ids=[item_id for item_id, _ in pairs])

    def _write_labels(
        self, rows: Sequence[ImportRow], item_ids: dict[str, int], *, known_items: Collection[str],
        counted: Collection[str],
    ) -> None:  # fmt: skip
        """Each row's label: an imported annotation, or, in an evaluation-only split, its item's evaluation-only
        label (which fills no queue slot and is nobody's answer)."""
        answers: list[ImportRow] = []
        scores: list[ImportRow] = []
        for row in rows:
            (scores if row.labels and row.split in self.eval_only_splits else answers).append(row)
        self._write_annotations(answers, item_ids, known_items=known_items, counted=counted)
        self._write_evaluation_labels(scores, item_ids, known_items=known_items)
        if self.project_had_evaluation_labels:
            self._evaluation_labels_drop(
                [
                    item_ids[row.external_id]
                    for row in answers
                    if row.labels and row.external_id in known_items
                ]
            )

    # --- annotations ---------------------------------------------------------------------------------------
    def _write_annotations(
        self, rows: Sequence[ImportRow], item_ids: dict[str, int], *, known_items: Collection[str],
        counted: Collection[str],
    ) -> None:  # fmt: skip
        labeled = [row for row in rows if row.labels]
        if not labeled:
            return
        # An earlier import's annotation of a row is found by its item and annotator (labeling.annotation_ids),
        # and annotations go with their item: only rows of items that existed before can have one already.
        known = imported_annotations_of(
            {item_ids[row.external_id] for row in labeled if row.external_id in known_items}
        )
        fresh = (
            [row for row in labeled if (item_ids[row.external_id], row.annotator) not in known]
            if known
            else labeled
        )
        self.insert_annotations([(item_ids[row.external_id], row) for row in fresh])
        self.new_items_answered([(item_ids[row.external_id], row.labels or []) for row in fresh
                                 if row.external_id in counted])  # fmt: skip
        self.answers_changed.update(
            item_ids[row.external_id] for row in fresh if row.external_id not in counted
        )
        self.counts.annotations += len(fresh)
        # Items inserted in this batch counted their imported labels then; the others count them now.
        filled = Counter(item_ids[row.external_id] for row in fresh if row.external_id not in counted)
        by_count: dict[int, list[int]] = {}
        for item_id, count in filled.items():
            by_count.setdefault(count, []).append(item_id)
        for count, ids in by_count.items():
            Item.objects.filter(pk__in=ids).update(remaining=F("remaining") - count)
        if self.update and known:
            stale = {
                pk: row for row in labeled if (pk := known.get((item_ids[row.external_id], row.annotator)))
            }
            # They were found just now, by item: each exists (imported answers are nobody's to take back).
            self.annotations_relabel({pk: row.labels or [] for pk, row in stale.items()})
            self.answers_changed.update(item_ids[row.external_id] for row in stale.values())
            self.counts.annotations += len(stale)

    def annotations_relabel(self, labels: dict[int, list[str]]) -> None:
        """Earlier imported annotations (by id) given these labels now."""
        annotations = list(Annotation.objects.filter(pk__in=list(labels)))
        for annotation in annotations:
            annotation.labels = labels[annotation.pk]
            annotation.updated_at = self.now
        Annotation.objects.bulk_update(annotations, ["labels", "updated_at"], batch_size=UPDATE_ROWS)

    def insert_annotations(self, pairs: Sequence[tuple[int, ImportRow]]) -> None:
        uuids = imported_annotation_uuids([item_id for item_id, _ in pairs])
        Annotation.objects.bulk_create(
            [
                Annotation(
                    project=self.project,
                    item_id=item_id,
                    external_annotator=row.annotator,
                    labels=row.labels or [],
                    source=AnnotationSource.IMPORT,
                    client_uuid=uid,
                    import_job=self.import_job,
                )
                for uid, (item_id, row) in zip(uuids, pairs, strict=True)
            ]
        )

    def new_items_answered(self, answers: list[tuple[int, list[str]]]) -> None:
        """The answers (item id, label keys) of items this batch created, all they have: their summaries are
        recomputed with the batch's other items. The PostgreSQL and SQLite writers write them from the rows
        instead (answer_summaries_of): reading the answers back costs more (PostgreSQL: three times as much,
        bench/import.py; SQLite: a third more)."""
        self.answers_changed.update(item_id for item_id, _ in answers)

    # --- evaluation-only labels ----------------------------------------------------------------------------
    def _write_evaluation_labels(
        self, rows: Sequence[ImportRow], item_ids: dict[str, int], *, known_items: Collection[str]
    ) -> None:
        """One label per item that only scores: created, or (updating) replaced. Its item's queue slots stay
        open, and an imported annotation the item had from an earlier import of it is taken back."""
        if not rows:
            return
        pairs = {item_ids[row.external_id]: row for row in rows}
        # Skipping, known items are out of scope: only an update reaches items that may hold one already.
        known = [item_ids[row.external_id] for row in rows if row.external_id in known_items]
        held = (
            set(EvaluationLabel.objects.filter(item_id__in=known).values_list("item_id", flat=True))
            if known
            else set()
        )
        self.insert_evaluation_labels(
            [(item_id, row) for item_id, row in pairs.items() if item_id not in held]
        )
        if held:
            stale = list(EvaluationLabel.objects.filter(item_id__in=held))
            for label in stale:
                label.labels = pairs[label.item_id].labels or []
                label.import_job = self.import_job
            EvaluationLabel.objects.bulk_update(stale, ["labels", "import_job"], batch_size=UPDATE_ROWS)
        self.counts.evaluation_labels += len(pairs)
        if known:
            self._imported_answers_take_back(
                {(item_ids[row.external_id], row.annotator) for row in rows if row.external_id in known_items}
            )

    def _imported_answers_take_back(self, pairs: set[tuple[int, str]]) -> None:
        """An earlier import stored the labels of these (item, annotator) rows as annotations; now they only
        score: the annotations go, and the queue slots they filled open again."""
        held = imported_annotations_of({item_id for item_id, _ in pairs})
        taken = {pk: pair[0] for pair, pk in held.items() if pair in pairs}
        if not taken:
            return
        Annotation.objects.filter(pk__in=list(taken)).delete()
        item_ids = list(taken.values())
        self.answers_changed.update(item_ids)
        Item.objects.filter(pk__in=item_ids).update(remaining=F("remaining") + 1)

    def _evaluation_labels_drop(self, item_ids: list[int]) -> None:
        """Updating, an item whose row now gives an answer keeps no evaluation-only label."""
        if item_ids:
            EvaluationLabel.objects.filter(item_id__in=item_ids).delete()

    def insert_evaluation_labels(self, pairs: Sequence[tuple[int, ImportRow]]) -> None:
        EvaluationLabel.objects.bulk_create(
            EvaluationLabel(
                project=self.project, item_id=item_id, labels=row.labels or [], import_job=self.import_job,
                created_at=self.now,
            )
            for item_id, row in pairs
        )  # fmt: skip

    # --- votes ---------------------------------------------------------------------------------------------
    def _write_votes(self, rows: Sequence[ImportRow], item_ids: dict[str, int], *, replace: bool) -> None:
        rows = list(
            {row.external_id: row for row in reversed(rows)}.values()
        )  # an item's votes: its first row
        if replace:
            ExternalVote.objects.filter(
                labeling_function_id__in=self.lf_ids, item_id__in=[item_ids[row.external_id] for row in rows]
            ).delete()
        votes = [
            (self.lf_ids[index], item_ids[row.external_id], self.label_ids[label])
            for row in rows
            for index, label in enumerate(row.votes or [])
            if label is not None
        ]
        self.insert_votes(votes)
        self.counts.votes += len(votes)

    def insert_votes(self, votes: Sequence[tuple[int, int, int]]) -> None:
        ExternalVote.objects.bulk_create(
            ExternalVote(labeling_function_id=lf_id, item_id=item_id, label_id=label_id)
            for lf_id, item_id, label_id in votes
        )


class PostgresBatchWriter(OrmBatchWriter):
    """Inserts with COPY (psycopg 3) of text it formats itself; ids for new items come from the table's
    sequence in one round trip per batch.

    Items and imported annotations are copied without the per-row foreign-key triggers where the role may set
    `session_replication_role` (a superuser, or one granted SET on it): PostgreSQL would otherwise queue one
    check per row and foreign key, and run them all at commit (about 2.6 million for a million labeled rows,
    a third of the import). Integrity holds without them: the rows these copies point at are locked here
    exactly as those checks lock them (FOR KEY SHARE: the project and the import job when the writer starts,
    known items when they are looked up), or were inserted by this same transaction (new items). The answer
    summaries of a batch's items are written the same way: they point at the project and at those items.
    Every other write (votes, evaluation-only labels, updates) keeps its triggers.
    """

    def __init__(
        self, *, project: Project, on_conflict: str, label_ids: dict[str, int], import_job: ImportJob | None,
        long_format: bool = False, eval_only_splits: frozenset[str] = frozenset(),
    ) -> None:  # fmt: skip
        super().__init__(project=project, on_conflict=on_conflict, label_ids=label_ids, import_job=import_job,
                         long_format=long_format, eval_only_splits=eval_only_splits)  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT 1 FROM {Project._meta.db_table} WHERE id = %s FOR KEY SHARE", [project.pk]
            )
            if import_job is not None:
                cursor.execute(
                    f"SELECT 1 FROM {ImportJob._meta.db_table} WHERE id = %s FOR KEY SHARE", [import_job.pk]
                )
        self.without_fk_triggers = fk_triggers_may_be_off()
        self.now_text = self.now.isoformat()
        self._sender: CopySender | None = None
        # Item ids drawn from the sequence and not yet given out, the next ones asked for, and the rows of the
        # batches announced and not yet written (_allocate_ids).
        self._ids: list[int] = []
        self._rows_ahead = 0
        self._sequences: dict[str, str] = {}
        self._ids_coming: Future[list[tuple[Any, ...]]] | None = None
        # Batches whose known items were asked for ahead, with the read's rows to come (look_ahead).
        self._lookups: deque[tuple[Sequence[ImportRow], Future[list[tuple[Any, ...]]]]] = deque()

    @contextmanager
    def session(self) -> Iterator[None]:
        """The batches' COPYs go through a CopySender: the server inserts one batch while Python formats the
        next."""
        with CopySender() as sender:
            self._sender = sender
            try:
                yield
            finally:
                self._sender = None

    @contextmanager
    def _fk_triggers_off(self, *, fk_checked: bool = False) -> Iterator[CursorWrapper]:
        """A cursor whose writes queue no foreign-key checks (see the class) where the role allows it, unless
        `fk_checked`."""
        with fk_triggers_off(off=self.without_fk_triggers and not fk_checked) as cursor:
            yield cursor

    def _copy_text(self, table: str, columns: Sequence[str], text: str, *, fk_checked: bool = False) -> None:
        """One COPY of rows already in COPY's text format. Unless `fk_checked`, with the foreign-key triggers
        off (see the class) where the role allows it."""
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        if self._sender is not None:
            self._sender.copy(statement, text, fk_triggers_off=self.without_fk_triggers and not fk_checked)
            return
        with self._fk_triggers_off(fk_checked=fk_checked) as cursor, cursor.copy(statement) as copy:
            copy.write(text)

    def answer_summaries_refresh(self, item_ids: list[int]) -> None:
        """The batch's summaries (one statement), queuing no foreign-key checks, as the copies (see the class)."""
        if item_ids:
            with self._fk_triggers_off():
                super().answer_summaries_refresh(item_ids)

    def _allocate_ids(self, table: str, count: int) -> list[int]:
        """`count` fresh item ids, ascending. With a COPY sender, from those drawn ahead: as many as the batches
        announced and not yet written have rows (look_ahead) are asked for while the batch before them is
        written (a read that waits in line behind that batch's copies, see CopySender.query), so that the
        writer does not wait for the line to drain. Ids drawn for rows that turn out to be known items stay
        unused (a sequence's gaps are harmless)."""
        sequence = self._sequence_of(table)
        if self._sender is None:
            return _ids_of(self._rows_now(_ids_drawn_sql(sequence, count)))
        while len(self._ids) < count:
            coming = self._ids_coming or self._sender.query(*_ids_drawn_sql(sequence, count - len(self._ids)))
            self._ids_coming = None
            self._ids.extend(_ids_of(self._sender.rows_of(coming)))
        ids = self._ids[:count]
        del self._ids[:count]
        if self._ids_coming is None and len(self._ids) < self._rows_ahead:
            self._ids_coming = self._sender.query(
                *_ids_drawn_sql(sequence, self._rows_ahead - len(self._ids))
            )
        return ids

    def _sequence_of(self, table: str) -> str:
        """The name of the sequence behind the table's id, looked up once per import: looked up per id drawn
        (pg_get_serial_sequence inside the draw), it was three quarters of a draw's time (32 ms of 10,000 ids
        against 7 ms)."""
        sequence = self._sequences.get(table)
        if sequence is None:
            (sequence,) = self._rows_now(("SELECT pg_get_serial_sequence(%s, 'id')", [table]))[0]
            self._sequences[table] = sequence
        return sequence

    def _rows_now(self, statement: tuple[str, list[Any]]) -> list[tuple[Any, ...]]:
        with connection.cursor() as cursor:
            cursor.execute(*statement)
            return list(cursor.fetchall())

    def look_ahead(self, batch: Sequence[ImportRow]) -> None:
        """With a COPY sender, into a project that had items: the batch's known items are asked for now (a read
        that waits in line behind the copies of the batches before, see CopySender.query), so that they are
        there when the batch is written. The file's ids are distinct (RowBuilder), so no batch before it can
        create one of them (in long format, the items this import created are remembered instead)."""
        self._rows_ahead += len(batch)
        if self._sender is not None and self.project_had_items and batch:
            self._lookups.append((batch, self._sender.query(*self._known_items_sql(batch))))

    def write(self, batch: Sequence[ImportRow]) -> None:
        self._rows_ahead = max(0, self._rows_ahead - len(batch))
        super().write(batch)

    def _existing_item_ids(self, batch: Sequence[ImportRow]) -> dict[str, int]:
        if self._lookups and self._lookups[0][0] is batch and self._sender is not None:
            _, rows = self._lookups.popleft()
            return dict(self._sender.rows_of(rows))
        return dict(self._rows_now(self._known_items_sql(batch)))

    def _known_items_sql(self, batch: Sequence[ImportRow]) -> tuple[str, list[Any]]:
        # FOR KEY SHARE: the annotations written for them rely on this lock, not on a trigger (see the class).
        return (
            f"SELECT external_id, id FROM {Item._meta.db_table} WHERE project_id = %s AND external_id = ANY(%s)"
            " FOR KEY SHARE",
            [self.project.pk, [row.external_id for row in batch]],
        )

    def insert_items(self, rows: Sequence[ImportRow], labeled: Counter[str]) -> list[int]:
        if not rows:
            return []
        ids = self._allocate_ids(Item._meta.db_table, len(rows))
        head = f"\t{self.project.pk}\t"
        now = f"\t{self.now_text}\n"
        overlap = self.project.overlap
        text = "".join(
            [
                f"{item_id}{head}{_escaped(row.external_id)}\t{_escaped(row.text)}\t{_escaped(row.metadata_json)}"
                f"\t{row.content_hash}\t{row.split}\t0\t{overlap - labeled[row.external_id]}{now}"
                for item_id, row in zip(ids, rows, strict=True)
            ]
        )
        columns = ["id", "project_id", "external_id", "text", "metadata", "content_hash", "split", "priority",
                   "remaining", "created_at"]  # fmt: skip
        self._copy_text(Item._meta.db_table, columns, text)
        return ids

    def insert_annotations(self, pairs: Sequence[tuple[int, ImportRow]]) -> None:
        if not pairs:
            return
        job = str(self.import_job.pk) if self.import_job else "\\N"
        head = f"{self.project.pk}\t"
        tail = f"\t{job}\t{self.now_text}\t{self.now_text}\n"
        source = AnnotationSource.IMPORT.value
        uuids = imported_annotation_uuids([item_id for item_id, _ in pairs])
        text = "".join(
            [
                f"{head}{item_id}\t{_escaped(row.annotator)}\t{self._labels_text(row.labels)}\t{source}\t"
                f"{uid}{tail}"
                for uid, (item_id, row) in zip(uuids, pairs, strict=True)
            ]
        )
        columns = ["project_id", "item_id", "external_annotator", "labels", "source", "client_uuid",
                   "import_job_id", "created_at", "updated_at"]  # fmt: skip
        self._copy_text(Annotation._meta.db_table, columns, text)

    def update_items(self, pairs: Sequence[tuple[int, ImportRow]]) -> None:
        """The known items' new text, metadata, hash and split: one UPDATE joined to the batch's values (as
        arrays), in time linear in the rows (bulk_update's CASE is quadratic, see UPDATE_ROWS)."""
        if not pairs:
            return
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Item._meta.db_table} AS i SET text = v.text, metadata = v.metadata::jsonb, "
                "content_hash = v.content_hash, split = v.split "
                "FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[]) "
                "AS v(id, text, metadata, content_hash, split) WHERE i.id = v.id",
                [
                    [item_id for item_id, _ in pairs], [row.text for _, row in pairs],
                    [row.metadata_json for _, row in pairs], [row.content_hash for _, row in pairs],
                    [row.split for _, row in pairs],
                ],
            )  # fmt: skip
        features_invalidate(project=self.project, item_ids=[item_id for item_id, _ in pairs])

    def annotations_relabel(self, labels: dict[int, list[str]]) -> None:
        """One UPDATE joined to the new labels (as arrays): no model instances, and time linear in the rows (see
        UPDATE_ROWS)."""
        if not labels:
            return
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Annotation._meta.db_table} AS a SET labels = v.labels::jsonb, updated_at = %s "
                "FROM unnest(%s::bigint[], %s::text[]) AS v(id, labels) WHERE a.id = v.id",
                [self.now, list(labels), [json.dumps(keys) for keys in labels.values()]],
            )

    def _labels_format(self, text: str) -> str:
        """COPY's text format: a label key with a backslash or tab is escaped."""
        return _escaped(text)

    def new_items_answered(self, answers: list[tuple[int, list[str]]]) -> None:
        """The summaries of the items this batch created, from the rows (answer_summaries_of), by COPY."""
        if not answers:
            return
        head = f"\t{self.project.pk}\t"
        text = "".join(
            [
                f"{s.item_id}{head}{s.answers}\t{s.distinct_answers}\t{self._labels_text(s.labels)}\n"
                for s in answer_summaries_of(answers)
            ]
        )
        columns = ["item_id", "project_id", "answers", "distinct_answers", "labels"]
        self._copy_text(ItemAnswerSummary._meta.db_table, columns, text)

    def insert_evaluation_labels(self, pairs: Sequence[tuple[int, ImportRow]]) -> None:
        job_id = self.import_job.pk if self.import_job else None
        self._copy(
            EvaluationLabel._meta.db_table,
            ["project_id", "item_id", "labels", "import_job_id", "created_at"],
            (
                (self.project.pk, item_id, json.dumps(row.labels or []), job_id, self.now)
                for item_id, row in pairs
            ),
        )

    def insert_votes(self, votes: Sequence[tuple[int, int, int]]) -> None:
        self._copy(ExternalVote._meta.db_table, ["labeling_function_id", "item_id", "label_id"], votes)

    def _copy(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        if self._sender is not None:
            listed = list(rows)

            def write_rows(copy: Any) -> None:
                for row in listed:
                    copy.write_row(row)

            self._sender.copy(statement, write_rows, fk_triggers_off=False)
            return
        with connection.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)


class SqliteBatchWriter(OrmBatchWriter):
    """Inserts with the driver's `executemany` of plain tuples, not through model instances (the ORM's
    per-field preparation was nine tenths of an embedded import's time). New items take the ids after the
    table's largest: the import's transaction holds SQLite's write lock from its start (`transaction_mode`
    IMMEDIATE in the settings), so no other writer can draw one until it commits (under a deferred
    transaction, a writer that committed meanwhile makes the first insert fail, SQLITE_BUSY_SNAPSHOT, and the
    import with it: an id is never given twice)."""

    def __init__(
        self, *, project: Project, on_conflict: str, label_ids: dict[str, int], import_job: ImportJob | None,
        long_format: bool = False, eval_only_splits: frozenset[str] = frozenset(),
    ) -> None:  # fmt: skip
        super().__init__(project=project, on_conflict=on_conflict, label_ids=label_ids, import_job=import_job,
                         long_format=long_format, eval_only_splits=eval_only_splits)  # fmt: skip
        self.now_value = connection.ops.adapt_datetimefield_value(self.now)

    def _allocate_ids(self, table: str, count: int) -> list[int]:
        """`count` fresh ids, ascending: after the largest the table ever gave (AUTOINCREMENT's record of it) and
        the largest it holds."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = %s), 0), "
                f"coalesce((SELECT max(id) FROM {table}), 0))",
                [table],
            )
            row = cursor.fetchone()
        first = int(row[0] if row else 0) + 1
        return list(range(first, first + count))

    def _insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        marks = ", ".join(["%s"] * len(columns))
        with connection.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    def update_items(self, pairs: Sequence[tuple[int, ImportRow]]) -> None:
        """The known items' new values, one UPDATE by primary key per row through `executemany` (no model
        instances, no CASE: see UPDATE_ROWS)."""
        if not pairs:
            return
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {Item._meta.db_table} SET text = %s, metadata = %s, content_hash = %s, split = %s "
                "WHERE id = %s",
                [
                    (row.text, row.metadata_json, row.content_hash, row.split, item_id)
                    for item_id, row in pairs
                ],
            )
        features_invalidate(project=self.project, item_ids=[item_id for item_id, _ in pairs])

    def annotations_relabel(self, labels: dict[int, list[str]]) -> None:
        if not labels:
            return
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {Annotation._meta.db_table} SET labels = %s, updated_at = %s WHERE id = %s",
                [(json.dumps(keys), self.now_value, pk) for pk, keys in labels.items()],
            )

    def insert_items(self, rows: Sequence[ImportRow], labeled: Counter[str]) -> list[int]:
        if not rows:
            return []
        ids = self._allocate_ids(Item._meta.db_table, len(rows))
        project_id, overlap, now = self.project.pk, self.project.overlap, self.now_value
        self._insert(
            Item._meta.db_table,
            ["id", "project_id", "external_id", "text", "metadata", "content_hash", "split", "priority",
             "remaining", "created_at"],
            [
                (item_id, project_id, row.external_id, row.text, row.metadata_json, row.content_hash, row.split, 0.0,
                 overlap - labeled[row.external_id], now)
                for item_id, row in zip(ids, rows, strict=True)
            ],
        )  # fmt: skip
        return ids

    def insert_annotations(self, pairs: Sequence[tuple[int, ImportRow]]) -> None:
        job = self.import_job.pk if self.import_job else None
        project_id, now, source = self.project.pk, self.now_value, AnnotationSource.IMPORT.value
        uuids = imported_annotation_uuids([item_id for item_id, _ in pairs])
        self._insert(
            Annotation._meta.db_table,
            ["project_id", "item_id", "external_annotator", "labels", "source", "client_uuid", "import_job_id",
             "created_at", "updated_at"],
            [
                (project_id, item_id, row.annotator, self._labels_text(row.labels), source,
                 uid, job, now, now)
                for uid, (item_id, row) in zip(uuids, pairs, strict=True)
            ],
        )  # fmt: skip

    def new_items_answered(self, answers: list[tuple[int, list[str]]]) -> None:
        """The summaries of the items this batch created, from the rows (answer_summaries_of)."""
        if not answers:
            return
        project_id = self.project.pk
        self._insert(
            ItemAnswerSummary._meta.db_table,
            ["item_id", "project_id", "answers", "distinct_answers", "labels"],
            [
                (s.item_id, project_id, s.answers, s.distinct_answers, self._labels_text(s.labels))
                for s in answer_summaries_of(answers)
            ],
        )

    def insert_evaluation_labels(self, pairs: Sequence[tuple[int, ImportRow]]) -> None:
        job = self.import_job.pk if self.import_job else None
        self._insert(
            EvaluationLabel._meta.db_table,
            ["project_id", "item_id", "labels", "import_job_id", "created_at"],
            [
                (self.project.pk, item_id, self._labels_text(row.labels), job, self.now_value)
                for item_id, row in pairs
            ],
        )

    def insert_votes(self, votes: Sequence[tuple[int, int, int]]) -> None:
        self._insert(ExternalVote._meta.db_table, ["labeling_function_id", "item_id", "label_id"], votes)


# COPY's text format: a backslash, tab, newline or carriage return inside a value is written escaped.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _escaped(value: str) -> str:
    # Four scans of a short string cost less than one translate, which most values never need.
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_COPY_ESCAPES)
    return value


def batch_writer_for_connection(
    *, project: Project, on_conflict: str, label_ids: dict[str, int], import_job: ImportJob | None,
    long_format: bool = False, eval_only_splits: frozenset[str] = frozenset(),
) -> OrmBatchWriter:  # fmt: skip
    writer_class = {"postgresql": PostgresBatchWriter, "sqlite": SqliteBatchWriter}.get(
        connection.vendor, OrmBatchWriter
    )
    return writer_class(project=project, on_conflict=on_conflict, label_ids=label_ids, import_job=import_job,
                        long_format=long_format, eval_only_splits=eval_only_splits)  # fmt: skip


def _ids_drawn_sql(sequence: str, count: int) -> tuple[str, list[Any]]:
    """A read of `count` fresh ids from this sequence, ascending. They come back as a range when no other
    session drew from the sequence meanwhile (the usual case: two numbers instead of thousands of rows), else
    listed (see _ids_of); the list is only built then."""
    return (
        "WITH ids AS MATERIALIZED (SELECT nextval(%s::regclass) AS id FROM generate_series(1, %s::int)), "
        "drawn AS (SELECT min(id) AS low, max(id) AS high, count(*) AS n FROM ids) "
        "SELECT low, high, CASE WHEN high - low + 1 = n THEN NULL "
        "ELSE (SELECT string_agg(id::text, ',' ORDER BY id) FROM ids) END FROM drawn",
        [sequence, count],
    )


def _ids_of(rows: list[tuple[Any, ...]]) -> list[int]:
    low, high, listed = rows[0]
    return list(range(low, high + 1)) if listed is None else [int(value) for value in listed.split(",")]

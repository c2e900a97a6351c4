"""The batch writer of span imports: items with their tokens, then each row's answer where it belongs, and each
external LF's spans.

A row's spans become, by its split and the import's options, as an item import's labels do:
- in an evaluation-only split: the item's EvaluationLabel (spans, and the types present as its labels);
- with `gold_known` (a WRENCH benchmark's usable split): the item's GoldLabel, a known answer (source
  `known`, not a gold check), which fills no queue slot; a reviewer's adjudicated gold is never overwritten;
- otherwise: an imported annotation (source `import`, its annotator the file's, or blank), which fills one.

Rows go through the ORM (bulk_create, bulk_update) on every database: span datasets are sentences in the
thousands to hundreds of thousands, where one multi-row INSERT per batch and table is no bottleneck (the item
import's COPY path pays off at millions of rows).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from django.db.models import F
from django.utils import timezone

from features.services.invalidation import features_invalidate
from imports.services.span_rows import SpanRow
from imports.services.writers import UPDATE_ROWS, WriteCounts
from labeling.annotation_ids import imported_annotation_uuids
from labeling.choices import AnnotationSource, GoldSource
from labeling.models import Annotation, EvaluationLabel, GoldLabel
from labeling.selectors.imported import imported_annotations_of
from labeling.services.answer_summary import answer_summaries_refresh
from projects.choices import OnConflict
from projects.models import ImportJob, Item, Project
from weak_supervision.models import ExternalSpanVote

GOLD_NOTE = "Imported with the data (a benchmark's known answer)."


@dataclass
class SpanWriteCounts(WriteCounts):
    gold_labels: int = 0


class SpanBatchWriter:
    """Writes batches of span rows. `lf_ids` (the external LFs, in the rows' LF order) is set before the first
    batch that carries LF spans."""

    def __init__(
        self, *, project: Project, on_conflict: str, import_job: ImportJob | None, long_format: bool,
        eval_only_splits: frozenset[str], gold_known: bool,
    ) -> None:  # fmt: skip
        self.project = project
        self.update = on_conflict == OnConflict.UPDATE
        self.import_job = import_job
        self.long_format = long_format
        self.eval_only_splits = eval_only_splits
        self.gold_known = gold_known
        self.lf_ids: list[int] = []
        self.counts = SpanWriteCounts()
        self.now = timezone.now()
        self.created: dict[str, int] = {}  # long format: items this import created, found again later
        self.project_had_items = Item.objects.filter(project=project).exists()

    def write(self, batch: Sequence[SpanRow]) -> None:
        if not batch:
            return
        existing = self._existing(batch) if self.project_had_items else {}
        earlier = {r.row.external_id: self.created[r.row.external_id] for r in batch
                   if r.row.external_id in self.created}  # fmt: skip
        firsts: dict[str, SpanRow] = {}
        for span_row in batch:
            external_id = span_row.row.external_id
            if external_id not in existing and external_id not in earlier:
                firsts.setdefault(external_id, span_row)
        answered = Counter(
            r.row.external_id for r in batch if r.row.external_id in firsts and self._answer(r)
        )
        item_ids = self._insert_items(list(firsts.values()), answered)
        if self.long_format:
            self.created.update(item_ids)
        item_ids.update(earlier)
        known = {r.row.external_id: r for r in reversed(batch) if r.row.external_id in existing}
        self.counts.rows += len(batch)
        self.counts.created += len(firsts)
        if self.update:
            self._update_items([(existing[external_id], r) for external_id, r in known.items()])
            self.counts.updated += len(known)
            item_ids.update((external_id, existing[external_id]) for external_id in known)
            scope = list(batch)
        else:
            self.counts.skipped += len(known)
            scope = [r for r in batch if r.row.external_id not in existing]
        changed = self._annotations([r for r in scope if self._answer(r)], item_ids,
                                    known_items=existing.keys(), counted=firsts.keys())  # fmt: skip
        answer_summaries_refresh(project=self.project, item_ids=sorted(changed))
        self._evaluation_labels([r for r in scope if self._destination(r) == "evaluation"], item_ids)
        self._gold_labels([r for r in scope if self._destination(r) == "gold"], item_ids)
        if self.lf_ids:
            self._votes(scope, item_ids, replace=self.update and bool(known))

    def _destination(self, span_row: SpanRow) -> str:
        if span_row.spans is None:
            return ""
        if span_row.row.split in self.eval_only_splits:
            return "evaluation"
        return "gold" if self.gold_known else "annotation"

    def _answer(self, span_row: SpanRow) -> bool:
        return self._destination(span_row) == "annotation"

    # --- items ---------------------------------------------------------------------------------------------
    def _existing(self, batch: Sequence[SpanRow]) -> dict[str, int]:
        ids = [r.row.external_id for r in batch]
        return dict(
            Item.objects.filter(project=self.project, external_id__in=ids).values_list("external_id", "id")
        )

    def _insert_items(self, rows: Sequence[SpanRow], answered: Counter[str]) -> dict[str, int]:
        created = Item.objects.bulk_create(
            Item(
                project=self.project, external_id=r.row.external_id, text=r.row.text,
                metadata=_metadata(r), content_hash=r.row.content_hash, split=r.row.split,
                remaining=self.project.overlap - answered[r.row.external_id], created_at=self.now,
                token_offsets=_offsets(r),
            )
            for r in rows
        )  # fmt: skip
        return {item.external_id: item.pk for item in created}

    def _update_items(self, pairs: Sequence[tuple[int, SpanRow]]) -> None:
        if not pairs:
            return
        items = [
            Item(pk=item_id, text=r.row.text, metadata=_metadata(r), content_hash=r.row.content_hash,
                 split=r.row.split, token_offsets=_offsets(r))
            for item_id, r in pairs
        ]  # fmt: skip
        Item.objects.bulk_update(
            items, ["text", "metadata", "content_hash", "split", "token_offsets"], batch_size=UPDATE_ROWS
        )
        features_invalidate(project=self.project, item_ids=[item_id for item_id, _ in pairs])

    # --- answers -------------------------------------------------------------------------------------------
    def _annotations(
        self, rows: Sequence[SpanRow], item_ids: dict[str, int], *, known_items: Collection[str],
        counted: Collection[str],
    ) -> set[int]:  # fmt: skip
        """Imported annotations: new ones are created (filling a queue slot each), those an earlier import of
        the same file made (same project, id and annotator) are updated when updating, else left. Returns the
        items whose answers changed."""
        # An earlier import's annotation of a record is found by its item and annotator (labeling.annotation_ids).
        known = imported_annotations_of(
            {item_ids[r.row.external_id] for r in rows if r.row.external_id in known_items}
        )
        fresh = (
            [r for r in rows if (item_ids[r.row.external_id], r.row.annotator) not in known]
            if known
            else rows
        )
        uuids = imported_annotation_uuids([item_ids[r.row.external_id] for r in fresh])
        Annotation.objects.bulk_create(
            Annotation(
                project=self.project, item_id=item_ids[r.row.external_id], external_annotator=r.row.annotator,
                labels=r.labels, spans=r.spans or [], source=AnnotationSource.IMPORT,
                client_uuid=uid, import_job=self.import_job,
            )
            for uid, r in zip(uuids, fresh, strict=True)
        )  # fmt: skip
        self.counts.annotations += len(fresh)
        changed = {item_ids[r.row.external_id] for r in fresh}
        filled = Counter(item_ids[r.row.external_id] for r in fresh if r.row.external_id not in counted)
        for count in set(filled.values()):
            ids = [item_id for item_id, n in filled.items() if n == count]
            Item.objects.filter(pk__in=ids).update(remaining=F("remaining") - count)
        if self.update and known:
            by_pk = {pk: r for r in rows if (pk := known.get((item_ids[r.row.external_id], r.row.annotator)))}
            stale = list(Annotation.objects.filter(pk__in=list(by_pk)))
            for annotation in stale:
                source = by_pk[annotation.pk]
                annotation.labels, annotation.spans, annotation.updated_at = (
                    source.labels,
                    source.spans,
                    self.now,
                )
            Annotation.objects.bulk_update(stale, ["labels", "spans", "updated_at"], batch_size=UPDATE_ROWS)
            self.counts.annotations += len(stale)
            changed.update(annotation.item_id for annotation in stale)
        return changed

    def _evaluation_labels(self, rows: Sequence[SpanRow], item_ids: dict[str, int]) -> None:
        """One evaluation-only label per item (created, or replaced when updating); it fills no queue slot."""
        if not rows:
            return
        pairs = {item_ids[r.row.external_id]: r for r in rows}
        EvaluationLabel.objects.filter(item_id__in=list(pairs)).delete()
        EvaluationLabel.objects.bulk_create(
            EvaluationLabel(project=self.project, item_id=item_id, labels=r.labels, spans=r.spans or [],
                            import_job=self.import_job, created_at=self.now)
            for item_id, r in pairs.items()
        )  # fmt: skip
        self.counts.evaluation_labels += len(pairs)

    def _gold_labels(self, rows: Sequence[SpanRow], item_ids: dict[str, int]) -> None:
        """Known answers: created, or (an earlier import's, updating) replaced; adjudicated gold stays."""
        if not rows:
            return
        pairs = {item_ids[r.row.external_id]: r for r in rows}
        held = dict(GoldLabel.objects.filter(item_id__in=list(pairs)).values_list("item_id", "source"))
        replaced = [item_id for item_id, source in held.items() if source == GoldSource.KNOWN]
        GoldLabel.objects.filter(item_id__in=replaced).delete()
        fresh = [(item_id, r) for item_id, r in pairs.items() if item_id not in held or item_id in replaced]
        GoldLabel.objects.bulk_create(
            GoldLabel(project=self.project, item_id=item_id, labels=r.labels, spans=r.spans or [],
                      source=GoldSource.KNOWN, is_check=False, note=GOLD_NOTE, created_at=self.now,
                      updated_at=self.now)
            for item_id, r in fresh
        )  # fmt: skip
        self.counts.gold_labels += len(fresh)

    # --- LF spans ------------------------------------------------------------------------------------------
    def _votes(self, rows: Sequence[SpanRow], item_ids: dict[str, int], *, replace: bool) -> None:
        """One ExternalSpanVote per LF and item where the LF marked something (an item's first row)."""
        firsts = list({r.row.external_id: r for r in reversed(rows) if r.lf_spans is not None}.values())
        if replace:
            ExternalSpanVote.objects.filter(
                labeling_function_id__in=self.lf_ids,
                item_id__in=[item_ids[r.row.external_id] for r in firsts],
            ).delete()
        votes = [
            ExternalSpanVote(labeling_function_id=self.lf_ids[index], item_id=item_ids[r.row.external_id],
                             spans=spans)
            for r in firsts
            for index, spans in enumerate(r.lf_spans or [])
            if spans
        ]  # fmt: skip
        ExternalSpanVote.objects.bulk_create(votes)
        self.counts.votes += len(votes)


def _offsets(span_row: SpanRow) -> list[list[int]] | None:
    offsets = span_row.token_offsets
    return [[start, end] for start, end in offsets] if offsets is not None else None


def _metadata(span_row: SpanRow) -> dict[str, object]:
    loaded: dict[str, object] = json.loads(span_row.row.metadata_json)
    return loaded

"""Reads for snapshots: the rows a snapshot holds (streamed in chunks), the snapshot lists, files and diffs."""

from __future__ import annotations

import json
import queue
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

import numpy as np
import numpy.typing as npt
import pyarrow.parquet as pq
from django.core.files.storage import default_storage
from django.db import connection, connections
from django.db.models import Model, Prefetch, QuerySet

from core.exceptions import NotFoundError
from datasets.choices import ExportFormat, LabelPolicy, LabelSource, SnapshotStatus
from datasets.models import ExportSchedule, Snapshot
from labeling.choices import GoldSource
from labeling.models import Annotation, GoldLabel
from projects.models import Item, Project
from weak_supervision.models import LabelModelRun
from weak_supervision.selectors import end_model_probabilities_get, latest_run, run_probabilities_get

# Items read per chunk: a chunk's rows, annotations and gold labels are three queries, and its columns are
# one Parquet row group. 20,000 keeps a chunk of long texts well under 100 MB.
ROW_CHUNK = 20_000
ERROR_NOT_FOUND = "Snapshot not found in this project."
ERROR_SCHEDULE_NOT_FOUND = "Export schedule not found in this project."
MANIFEST_NAME = "manifest.json"
RECENT_SNAPSHOTS = 5  # per schedule, on its page and in the API


@dataclass
class RowChunk:
    """A chunk of snapshot rows, column by column (the layout Parquet and Arrow want)."""

    item_id: list[int] = field(default_factory=list)
    external_id: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    metadata: list[str] = field(default_factory=list)  # JSON text, as the database keeps it
    label: list[str] = field(default_factory=list)  # the label, or labels joined by "|" (multi-label)
    labels: list[list[str]] = field(default_factory=list)
    label_source: list[str] = field(default_factory=list)
    soft_label: list[list[float]] = field(default_factory=list)  # probabilities in the schema's label order
    confidence: list[float] = field(default_factory=list)
    n_annotators: list[int] = field(default_factory=list)
    agreement: list[float | None] = field(default_factory=list)
    split: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.item_id)

    def row(self, index: int) -> dict[str, Any]:
        return {name: getattr(self, name)[index] for name in ROW_FIELDS}


ROW_FIELDS = [
    "item_id", "external_id", "text", "metadata", "label", "labels", "label_source", "soft_label", "confidence",
    "n_annotators", "agreement", "split",
]  # fmt: skip


@dataclass(frozen=True)
class WeakArrays:
    ids: npt.NDArray[np.int64]
    probabilities: npt.NDArray[np.float32]
    covered: npt.NDArray[np.bool_]
    labels: list[str]  # the run's label order
    # The run's end model, for the items no LF covers (same rows as `ids`); None when it has none.
    end_probabilities: npt.NDArray[np.float32] | None = None


def weak_arrays_get(*, run: LabelModelRun | None) -> WeakArrays | None:
    loaded = run_probabilities_get(run=run) if run is not None else None
    if run is None or loaded is None:
        return None
    ids, probabilities, covered = loaded
    end = end_model_probabilities_get(run=run)
    end_probabilities = None
    if end is not None and len(end[0]) == len(ids) and np.array_equal(end[0], ids):
        end_probabilities = end[1]
    return WeakArrays(ids=ids, probabilities=probabilities, covered=covered, labels=list(run.labels),
                      end_probabilities=end_probabilities)  # fmt: skip


@dataclass(frozen=True)
class RowSpec:
    """What a snapshot holds: the policy, its threshold, the schema's labels, the weak labels to use."""

    policy: str
    min_confidence: float
    label_keys: list[str]
    multi_label: bool
    weak: WeakArrays | None


# An item's weak label: its probabilities in the schema's label order, and where they come from.
Weak = tuple[list[float], str]


def _weak_rows(weak: WeakArrays | None, label_keys: Sequence[str], ids: list[int]) -> dict[int, Weak]:
    """Item id to its weak label for this chunk: the label model's where an LF voted, else the end model's
    where the run has one."""
    if weak is None or not ids or not len(weak.ids):
        return {}
    wanted = np.asarray(ids, dtype=np.int64)
    positions = np.minimum(np.searchsorted(weak.ids, wanted), len(weak.ids) - 1)
    present = weak.ids[positions] == wanted
    order = [weak.labels.index(key) if key in weak.labels else -1 for key in label_keys]
    result: dict[int, Weak] = {}
    sources = [(weak.probabilities, weak.covered[positions], str(LabelSource.WEAK))]
    if weak.end_probabilities is not None:
        sources.append((weak.end_probabilities, ~weak.covered[positions], str(LabelSource.END_MODEL)))
    for probabilities, chosen, source in sources:
        found = present & chosen
        for item_id, position in zip(wanted[found].tolist(), positions[found].tolist(), strict=True):
            row = probabilities[position]
            result[item_id] = ([float(round(float(row[j]), 6)) if j >= 0 else 0.0 for j in order], source)
    return result


def _votes(label_sets: list[tuple[str, ...]], label_keys: Sequence[str]) -> list[float]:
    """Soft label from annotators' answers: the share of them who gave each label (vote shares that sum to 1 in
    a single-label project; each label's own share in a multi-label one)."""
    counts = Counter(key for labels in label_sets for key in labels)
    return [round(counts[key] / len(label_sets), 6) for key in label_keys]


def _decide(
    spec: RowSpec,
    gold: tuple[list[str], str] | None,
    human: list[tuple[str, ...]],
    weak_label: Weak | None,
) -> tuple[list[str], str, list[float], float] | None:
    """The final labels, their source, the soft label and the confidence of one item; None to leave it out."""
    keys = spec.label_keys
    if gold is not None:
        labels, source = gold
        soft = [1.0 if key in labels else 0.0 for key in keys]
        origin = LabelSource.ADJUDICATED if source == GoldSource.ADJUDICATED else LabelSource.GOLD
        return labels, origin, soft, 1.0
    if human:
        first = human[0]
        if all(answer == first for answer in human):
            labels = list(first)
            return labels, LabelSource.GOLD, [1.0 if key in labels else 0.0 for key in keys], 1.0
        if spec.policy == LabelPolicy.SOFT:
            soft = _votes(human, keys)
            top, count = Counter(human).most_common(1)[0]
            return list(top), LabelSource.MAJORITY, soft, round(count / len(human), 6)
    if weak_label is None or spec.policy == LabelPolicy.GOLD:
        return None
    weak, weak_source = weak_label
    if spec.multi_label:
        labels = [key for key, p in zip(keys, weak, strict=True) if p >= 0.5]
        confidence = min((max(p, 1 - p) for p in weak), default=0.0)
    else:
        best = int(np.argmax(weak))
        labels, confidence = [keys[best]], weak[best]
    if spec.policy == LabelPolicy.GOLD_WEAK and confidence < spec.min_confidence:
        return None
    return labels, weak_source, weak, round(float(confidence), 6)


# The hot read, as plain SQL fetched whole (the ORM's row-by-row iteration costs about as much as the database
# itself at a million rows): a chunk of items with, per item, how many people answered, the smallest and the
# largest answer (equal when everyone gave the same one, which is most items of most projects) and the gold
# label. Only items whose annotators disagree have their answers read one by one. Portable SQL (PostgreSQL and
# SQLite); table names come from the models.
def _table(model: type[Model]) -> str:
    return str(connection.ops.quote_name(model._meta.db_table))


ROWS_SQL = (
    f"WITH chunk AS (SELECT id, external_id, text, metadata, split FROM {_table(Item)} "
    "WHERE project_id = %s AND id > %s ORDER BY id LIMIT %s), "
    "answered AS (SELECT item_id, COUNT(*) AS n, MIN(CAST(labels AS TEXT)) AS lo, MAX(CAST(labels AS TEXT)) AS hi "
    f"FROM {_table(Annotation)} WHERE project_id = %s AND item_id >= (SELECT MIN(id) FROM chunk) "
    "AND item_id <= (SELECT MAX(id) FROM chunk) AND CAST(labels AS TEXT) NOT IN ('[]', 'null') "
    "GROUP BY item_id) "
    "SELECT c.id, c.external_id, c.text, COALESCE(CAST(c.metadata AS TEXT), '{}'), c.split, COALESCE(a.n, 0), "
    "a.lo, a.hi, CAST(g.labels AS TEXT), g.source "
    f"FROM chunk c LEFT JOIN answered a ON a.item_id = c.id LEFT JOIN {_table(GoldLabel)} g ON g.item_id = c.id "
    "ORDER BY c.id"
)
ANSWERS_SQL = (
    f"SELECT item_id, CAST(labels AS TEXT) FROM {_table(Annotation)} "
    "WHERE project_id = %s AND item_id >= %s AND item_id <= %s"
)
# id, external id, text, metadata (JSON text), split, answers, smallest and largest answer, gold labels, source
Row = tuple[int, str, str, str, str, int, str | None, str | None, str | None, str | None]


def _fetch(sql: str, params: list[int]) -> list[Any]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


@dataclass(frozen=True)
class Decision:
    """An item's final labels as a snapshot row holds them. Rows with the same answer share one."""

    labels: list[str]
    joined: str  # the labels joined by "|"
    source: str
    soft: list[float]
    confidence: float


# A row's decision (None: the row is left out) and its annotators' agreement with it (None: nobody answered).
Judged = tuple[Decision | None, float | None]


class _Decider:
    """Decides the rows of a snapshot, chunk by chunk. Labels come as JSON text and are parsed once per distinct
    text, and the decision for a given (gold label, unanimous answer) is made once and shared by every row
    that has it: a project has few of them, however many items."""

    def __init__(self, spec: RowSpec) -> None:
        self.spec = spec
        self.order = {key: index for index, key in enumerate(spec.label_keys)}
        self.parsed: dict[str, tuple[str, ...]] = {}
        self.shared: dict[tuple[str | None, str | None, str | None], Judged] = {}

    def answer(self, raw: str) -> tuple[str, ...]:
        answer = self.parsed.get(raw)
        if answer is None:
            keys = json.loads(raw) or ()
            answer = self.parsed[raw] = tuple(sorted(keys, key=lambda key: self.order.get(key, 99)))
        return answer

    def decide(
        self, gold: tuple[list[str], str] | None, answers: list[tuple[str, ...]], weak: Weak | None
    ) -> Judged:
        """The decision and the annotators' agreement with it (None when nobody answered)."""
        decided = _decide(self.spec, gold, answers, weak)
        if decided is None:
            return None, None
        labels, source, soft, confidence = decided
        decision = Decision(list(labels), "|".join(labels), str(source), soft, float(confidence))
        if not answers:
            return decision, None
        agreeing = sum(1 for answer in answers if set(answer) == set(labels))
        return decision, round(agreeing / len(answers), 6)

    def decide_shared(self, gold_raw: str | None, gold_source: str | None, answer_raw: str | None) -> Judged:
        key = (gold_raw, gold_source, answer_raw)
        known = self.shared.get(key)
        if known is None:
            gold = (list(json.loads(gold_raw)), str(gold_source)) if gold_raw is not None else None
            answers = [self.answer(answer_raw)] if answer_raw is not None else []
            known = self.shared[key] = self.decide(gold, [answer for answer in answers if answer], None)
        return known


def snapshot_rows(*, project: Project, spec: RowSpec, chunk_size: int = ROW_CHUNK) -> Iterator[RowChunk]:
    """Every row the snapshot holds, in item id order, a chunk at a time (split: as stored; blank if none)."""
    decider = _Decider(spec)
    for rows, answer_rows in _reads(project.pk, chunk_size):
        answers: dict[int, list[tuple[str, ...]]] = {}
        for item_id, raw in answer_rows:
            answer = decider.answer(raw)
            if answer:
                answers.setdefault(item_id, []).append(answer)
        weak = _weak_rows(spec.weak, spec.label_keys, [row[0] for row in rows])
        chunk = _chunk_build(decider, rows, answers, weak)
        if len(chunk):
            yield chunk


# A chunk's rows, and the answers of its items where annotators disagreed (item id, labels as JSON text).
Read = tuple[list[Row], list[tuple[int, str]]]


def _reads_here(project_id: int, chunk_size: int) -> Iterator[Read]:
    last_id = 0
    while True:
        rows: list[Row] = _fetch(ROWS_SQL, [project_id, last_id, chunk_size, project_id])
        if not rows:
            return
        first, last_id = rows[0][0], rows[-1][0]
        disagreed = any(row[6] != row[7] for row in rows)
        yield rows, _fetch(ANSWERS_SQL, [project_id, first, last_id]) if disagreed else []


def _reads(project_id: int, chunk_size: int) -> Iterator[Read]:
    """The chunks' reads. On PostgreSQL, outside a transaction, the next chunk is read by a thread on its own
    connection while the caller works on this one: the server's time (most of a read) overlaps Python's, and
    at most two chunks wait in memory. Inside a transaction the reads stay on its connection, which alone
    sees what the transaction wrote."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield from _reads_here(project_id, chunk_size)
        return
    ready: queue.Queue[Read | BaseException | None] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def offer(value: Read | BaseException | None) -> bool:
        while not stop.is_set():
            try:
                ready.put(value, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read_ahead() -> None:
        try:
            for read in _reads_here(project_id, chunk_size):
                if not offer(read):
                    return
            offer(None)
        except BaseException as exc:  # handed to the caller, which raises it
            offer(exc)
        finally:
            connections.close_all()  # this thread's connection

    reader = threading.Thread(target=read_ahead, name="snapshot-rows", daemon=True)
    reader.start()
    try:
        while (value := ready.get()) is not None:
            if isinstance(value, BaseException):
                raise value
            yield value
    finally:
        stop.set()
        reader.join()


def _chunk_build(
    decider: _Decider,
    rows: list[Row],
    answers: dict[int, list[tuple[str, ...]]],
    weak: dict[int, Weak],
) -> RowChunk:
    """The chunk's rows column by column. Most rows take the shared path: one dictionary lookup each."""
    decisions: list[Decision] = []
    agreements: list[float | None] = []
    kept: list[int] = []
    for index, (item_id, _, _, _, _, _, low, high, gold_raw, gold_source) in enumerate(rows):
        if low == high and (low is not None or gold_raw is not None):  # a gold label or one unanimous answer
            decision, agreement = decider.decide_shared(gold_raw, gold_source, low)
        else:
            gold = (list(json.loads(gold_raw)), str(gold_source)) if gold_raw is not None else None
            decision, agreement = decider.decide(gold, answers.get(item_id, []), weak.get(item_id))
        if decision is None:
            continue
        kept.append(index)
        decisions.append(decision)
        agreements.append(agreement)
    if len(kept) < len(rows):
        rows = [rows[index] for index in kept]
    chunk = RowChunk()
    if not rows:
        return chunk
    columns = list(zip(*rows, strict=True))
    chunk.item_id, chunk.external_id, chunk.text, chunk.metadata, chunk.split = map(list, columns[:5])
    chunk.n_annotators = list(columns[5])
    chunk.agreement = agreements
    chunk.label = [decision.joined for decision in decisions]
    chunk.labels = [decision.labels for decision in decisions]
    chunk.label_source = [decision.source for decision in decisions]
    chunk.soft_label = [decision.soft for decision in decisions]
    chunk.confidence = [decision.confidence for decision in decisions]
    return chunk


def row_spec_build(
    *, project: Project, policy: str, min_confidence: float, run: LabelModelRun | None
) -> RowSpec:
    return RowSpec(
        policy=policy,
        min_confidence=min_confidence,
        label_keys=list(project.labels.order_by("order", "id").values_list("key", flat=True)),
        multi_label=project.multi_label,
        weak=weak_arrays_get(run=run) if policy != LabelPolicy.GOLD else None,
    )


def snapshot_run_for(*, project: Project) -> LabelModelRun | None:
    """The run whose weak labels a new snapshot uses: the project's latest finished one."""
    return latest_run(project=project)


# --- lists, files, diffs -----------------------------------------------------------------------------------------


def snapshot_list(*, project: Project) -> QuerySet[Snapshot]:
    return Snapshot.objects.filter(project=project).select_related("created_by", "run", "schedule")


def snapshot_versions(*, project: Project) -> QuerySet[Snapshot]:
    return snapshot_list(project=project).filter(status=SnapshotStatus.SUCCEEDED).order_by("-version")


def snapshot_get(*, project: Project, version: int) -> Snapshot:
    snapshot = snapshot_versions(project=project).filter(version=version).first()
    if snapshot is None:
        raise NotFoundError(ERROR_NOT_FOUND)
    return snapshot


def snapshot_latest(*, project: Project) -> Snapshot | None:
    return snapshot_versions(project=project).first()


def snapshot_file_get(*, snapshot: Snapshot, name: str) -> dict[str, Any]:
    """One of the snapshot's files (as listed in its manifest) by its name, e.g. data.parquet."""
    for entry in snapshot.manifest.get("files", []):
        if entry["name"] == name:
            return dict(entry)
    raise NotFoundError(f"The snapshot has no file '{name}'.")


def snapshot_file_open(*, snapshot: Snapshot, name: str) -> IO[bytes]:
    """One of the snapshot's files by its manifest name, or its manifest.json (stored beside them)."""
    if name == MANIFEST_NAME:
        return default_storage.open(f"{snapshot.storage_prefix}/{MANIFEST_NAME}", "rb")
    entry = snapshot_file_get(snapshot=snapshot, name=name)
    return default_storage.open(entry["storage_name"], "rb")


def snapshot_job_get(*, project: Project, snapshot_id: int) -> Snapshot:
    """Any snapshot of the project by its id, whatever its status (pending and failed ones have no version)."""
    snapshot = snapshot_list(project=project).filter(pk=snapshot_id).first()
    if snapshot is None:
        raise NotFoundError(ERROR_NOT_FOUND)
    return snapshot


def _labels_by_item(snapshot: Snapshot) -> dict[str, str]:
    """external id -> label, read from the snapshot's Parquet file (or its JSONL when it has no Parquet)."""
    names = {entry["format"]: entry["name"] for entry in snapshot.manifest.get("files", [])}
    if ExportFormat.PARQUET in names:
        with snapshot_file_open(snapshot=snapshot, name=names[ExportFormat.PARQUET]) as handle:
            table = pq.read_table(handle, columns=["external_id", "label"])
        return dict(
            zip(table.column("external_id").to_pylist(), table.column("label").to_pylist(), strict=True)
        )
    if ExportFormat.JSONL in names:
        with snapshot_file_open(snapshot=snapshot, name=names[ExportFormat.JSONL]) as handle:
            return {row["external_id"]: row["label"] for row in map(json.loads, handle)}
    raise NotFoundError("This snapshot has neither a Parquet nor a JSONL file to compare.")


@dataclass(frozen=True)
class SnapshotDiff:
    old: int
    new: int
    added: int
    removed: int
    relabeled: int
    unchanged: int
    per_class: dict[str, dict[str, int]]  # label -> added, removed, relabeled_from, relabeled_to
    transitions: list[dict[str, Any]]  # {"from", "to", "count"}, most frequent first
    examples: dict[str, list[str]]  # a few external ids per kind

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


EXAMPLES = 20


def snapshot_diff(*, old: Snapshot, new: Snapshot) -> SnapshotDiff:
    """Items added, removed and relabeled (old label to new), overall and per class, between two versions."""
    before, after = _labels_by_item(old), _labels_by_item(new)
    added = [key for key in after if key not in before]
    removed = [key for key in before if key not in after]
    relabeled = [key for key in after if key in before and before[key] != after[key]]
    per_class: dict[str, Counter[str]] = {}

    def bump(label: str, kind: str) -> None:
        per_class.setdefault(label, Counter())[kind] += 1

    for key in added:
        bump(after[key], "added")
    for key in removed:
        bump(before[key], "removed")
    transitions: Counter[tuple[str, str]] = Counter()
    for key in relabeled:
        bump(before[key], "relabeled_from")
        bump(after[key], "relabeled_to")
        transitions[before[key], after[key]] += 1
    kinds = ("added", "removed", "relabeled_from", "relabeled_to")
    return SnapshotDiff(
        old=int(old.version or 0),
        new=int(new.version or 0),
        added=len(added),
        removed=len(removed),
        relabeled=len(relabeled),
        unchanged=sum(1 for key in after if key in before and before[key] == after[key]),
        per_class={
            label: {kind: counts[kind] for kind in kinds} for label, counts in sorted(per_class.items())
        },
        transitions=[
            {"from": a, "to": b, "count": n} for (a, b), n in sorted(transitions.items(), key=lambda t: -t[1])
        ],
        examples={
            "added": added[:EXAMPLES],
            "removed": removed[:EXAMPLES],
            "relabeled": relabeled[:EXAMPLES],
        },
    )


def export_schedule_list(*, project: Project) -> QuerySet[ExportSchedule]:
    """The project's schedules, each with its newest snapshots (`recent_snapshots`), in two queries."""
    recent = Snapshot.objects.order_by("-created_at", "-id")[:RECENT_SNAPSHOTS]
    return (
        ExportSchedule.objects.filter(project=project)
        .select_related("periodic_task", "created_by")
        .prefetch_related(Prefetch("snapshots", queryset=recent, to_attr="recent_snapshots"))
    )


def export_schedule_get(*, project: Project, schedule_id: int) -> ExportSchedule:
    schedule = export_schedule_list(project=project).filter(pk=schedule_id).first()
    if schedule is None:
        raise NotFoundError(ERROR_SCHEDULE_NOT_FOUND)
    return schedule

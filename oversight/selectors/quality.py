"""Annotator quality: speed, agreement with consensus and gold, gold-check accuracy, fast answers and drift,
and beside them the accuracy truth inference estimates (overall and per class, with 95% intervals, and the
confusion matrix) from the latest succeeded inference run.

Span projects compare answers by their spans: consensus and gold agreement need the very same spans, and a
gold check passes at a span F1 (exact match) of oversight.span_answers.SPAN_CHECK_PASS_F1, with the mean span
F1 on checks beside it (`check_span_f1`).

One row per project member who has annotated or has interaction events. Analysts see only their own row
(`sees_everyone`); their figures are still measured against everybody else's annotations.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import statistics
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime, timedelta
from itertools import groupby
from operator import itemgetter
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Max

from core.csv_safety import csv_row_safe
from labeling.choices import AnnotationSource, EventType
from labeling.models import Annotation, GoldLabel, InteractionEvent
from labeling.selectors.activity import AnalystSummary, analyst_summary_list, sees_everyone
from oversight.selectors.truth import annotator_reliability
from oversight.span_answers import SPAN_CHECK_PASS_F1, span_check_f1, spans_answer
from projects.access import ProjectAccess
from projects.models import Membership, Project

# An answer is suspiciously fast when its lead time is under FAST_ANSWER_FLOOR_MS = max(FAST_ANSWER_MIN_MS,
# FAST_ANSWER_MEDIAN_SHARE * the project's median lead time): a quarter of the usual time adapts to long and
# short items, and one second is faster than anybody reads even the shortest item.
FAST_ANSWER_MIN_MS = 1000
FAST_ANSWER_MEDIAN_SHARE = 0.25
# Drift: a pause longer than this between two submits ends a labeling session.
SESSION_GAP = timedelta(minutes=30)
# Sessions shorter than this say nothing about a trend in speed (thirds of fewer than 3 submits are noise).
DRIFT_MIN_SESSION_SUBMITS = 10
QUALITY_CACHE_VERSION = 2  # 2: check_span_f1
# The key changes with whatever the table reads, so this only bounds how long a stale entry occupies the cache.
QUALITY_CACHE_SECONDS = 24 * 3600
# Fewer consensus items than this say nothing about a trend in agreement.
DRIFT_MIN_CONSENSUS_ITEMS = 10
WILSON_Z = 1.96  # 95 % confidence
ANNOTATION_CHUNK = 5000
DECIMALS = 4


def gold_check_interval(correct: int, n: int, z: float = WILSON_Z) -> tuple[float, float] | None:
    """Wilson score interval for `correct` right answers out of `n` gold checks; None without checks.

    Unlike the normal approximation it stays inside [0, 1] and is sensible at 0/n and n/n.
    """
    if n <= 0:
        return None
    p = correct / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class AnnotatorQuality:
    user_id: int
    username: str
    role: str
    submitted: int
    items_per_hour: float | None
    median_seconds: float | None
    skip_rate: float | None
    hotkey_share: float | None
    consensus_n: int
    consensus_agreement: float | None
    gold_n: int
    gold_agreement: float | None
    checks_n: int
    checks_correct: int
    check_accuracy: float | None
    check_ci_low: float | None
    check_ci_high: float | None
    below_threshold: bool
    fast_answers: int
    fast_share: float | None
    drift_speed: float | None
    drift_consensus: float | None
    review_all_labels: bool
    # Truth inference's estimates (oversight.selectors.truth), None/empty before a run that included them.
    inference_run: int | None = None  # the run they come from
    estimated_accuracy: float | None = None
    estimated_ci_low: float | None = None  # 95%
    estimated_ci_high: float | None = None
    # Per class: {"label", "accuracy", "interval": [low, high] or None, "items"}.
    estimated_per_class: list[dict[str, Any]] = field(default_factory=list)
    # {"label": None (multi-label: a label key), "classes", "rows": P(answer | true class) per true class}.
    estimated_confusions: list[dict[str, Any]] = field(default_factory=list)
    # Span projects: the mean span F1 (exact match) of their answers on gold checks; None elsewhere.
    check_span_f1: float | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


ANNOTATOR_QUALITY_COLUMNS = [column.name for column in fields(AnnotatorQuality)]


@dataclass
class _Tally:
    """What one annotator's annotations add up to, filled while the project's annotations stream past."""

    annotations: int = 0
    consensus: list[tuple[int, bool]] = field(default_factory=list)  # (annotation id, agreed)
    gold_n: int = 0
    gold_agreed: int = 0
    checks_n: int = 0
    checks_correct: int = 0
    checks_f1: float = 0.0  # span projects: the sum of their span F1 on checks
    timed: int = 0
    fast: int = 0


@dataclass(frozen=True)
class _Member:
    username: str
    role: str
    review_all_labels: bool


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, DECIMALS) if whole else None


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, DECIMALS)


def _project_median_lead_ms(project: Project) -> float | None:
    """Worked out in the database (a count and one slice): no need to hold a million lead times in memory."""
    lead_times = (
        Annotation.objects.filter(project=project, source=AnnotationSource.HUMAN, lead_time_ms__isnull=False)
        .order_by("lead_time_ms")
        .values_list("lead_time_ms", flat=True)
    )
    n = lead_times.count()
    if n == 0:
        return None
    middle = [value for value in lead_times[(n - 1) // 2 : n // 2 + 1] if value is not None]
    return statistics.mean(middle)


def fast_answer_floor_ms(*, project: Project) -> float:
    """Lead times under this are suspiciously fast answers (see FAST_ANSWER_MIN_MS)."""
    median = _project_median_lead_ms(project)
    return max(float(FAST_ANSWER_MIN_MS), FAST_ANSWER_MEDIAN_SHARE * median if median is not None else 0.0)


@dataclass(frozen=True)
class _Gold:
    answer: frozenset[Any]  # as answers are compared: a label set, or a span project's spans
    is_check: bool
    spans: list[dict[str, Any]] | None  # span projects: the gold spans, which checks are scored against


def _answer(given: Any, spans: bool) -> frozenset[Any]:
    return spans_answer(given) if spans else frozenset(given or ())


def _tally_check(tally: _Tally, truth: _Gold, own: frozenset[Any], given: Any, spans: bool) -> None:
    tally.checks_n += 1
    if not spans:
        tally.checks_correct += own == truth.answer
        return
    f1 = span_check_f1(truth.spans, given)
    tally.checks_f1 += f1
    tally.checks_correct += f1 >= SPAN_CHECK_PASS_F1


def _tally_item(
    rows: list[tuple[Any, ...]],
    gold: dict[int, _Gold],
    tallies: dict[int, _Tally],
    floor_ms: float,
    spans: bool = False,
) -> None:
    """Adds one item's annotations (item_id, annotator_id, labels (span projects: spans), source, lead_time_ms,
    id).

    Consensus: their answer (label set; span projects: the spans marked) equals the majority answer of the
    OTHER annotators of the item; a tie counts when theirs is among the top answers. Gold agreement and
    checks: the very same answer as the gold label; a span project's check passes at a span F1 of
    SPAN_CHECK_PASS_F1 (oversight.span_answers), and the F1 adds up towards their mean on checks. Answer order
    is the annotations' id order (they are numbered as they are stored), which spares parsing a timestamp per
    annotation.
    """
    sets = [_answer(row[2], spans) for row in rows]
    counts: dict[frozenset[Any], int] = {}
    for labels in sets:
        counts[labels] = counts.get(labels, 0) + 1
    for (item_id, annotator_id, given, source, lead_time_ms, annotation_id), own in zip(
        rows, sets, strict=True
    ):
        tally = tallies.get(annotator_id) if annotator_id is not None else None
        if tally is None:
            continue
        tally.annotations += 1
        if len(rows) > 1:
            top = max(count - (labels == own) for labels, count in counts.items())
            tally.consensus.append((annotation_id, counts[own] - 1 == top))
        if item_id in gold:
            truth = gold[item_id]
            tally.gold_n += 1
            tally.gold_agreed += own == truth.answer
            if truth.is_check:
                _tally_check(tally, truth, own, given, spans)
        if source == AnnotationSource.HUMAN and lead_time_ms is not None:
            tally.timed += 1
            tally.fast += lead_time_ms < floor_ms


def _annotation_tallies(
    *, project: Project, user_ids: Iterable[int], only_user_id: int | None
) -> dict[int, _Tally]:
    """Streams the project's annotations once, item by item, and tallies them for the given annotators.

    When only one annotator's row is wanted, only the items they annotated are read.
    """
    tallies = {user_id: _Tally() for user_id in user_ids}
    spans = project.is_spans
    answer_field = "spans" if spans else "labels"
    gold = {
        item_id: _Gold(answer=_answer(given, spans), is_check=is_check, spans=given if spans else None)
        for item_id, given, is_check in GoldLabel.objects.filter(project=project).values_list(
            "item_id", answer_field, "is_check"
        )
    }
    floor_ms = fast_answer_floor_ms(project=project)
    annotations = Annotation.objects.filter(project=project)
    if only_user_id is not None:
        mine = Annotation.objects.filter(project=project, annotator_id=only_user_id).values("item_id")
        annotations = annotations.filter(item_id__in=mine)
    rows = (
        annotations.order_by("item_id", "id")
        .values_list("item_id", "annotator_id", answer_field, "source", "lead_time_ms", "id")
        .iterator(chunk_size=ANNOTATION_CHUNK)
    )
    for _, item_rows in groupby(rows, key=itemgetter(0)):
        _tally_item(list(item_rows), gold, tallies, floor_ms, spans)
    return tallies


def _session_speed_ratio(dwells: list[int | None]) -> float | None:
    """Median dwell of the session's last third over its first third; None when either has no dwell."""
    third = len(dwells) // 3
    first = [dwell for dwell in dwells[:third] if dwell is not None]
    last = [dwell for dwell in dwells[-third:] if dwell is not None]
    if not first or not last or statistics.median(first) <= 0:
        return None
    return float(statistics.median(last) / statistics.median(first))


def _drift_speed(submits: list[tuple[datetime, int | None]]) -> float | None:
    """The median, over sessions of at least DRIFT_MIN_SESSION_SUBMITS submits, of last/first-third dwell.

    Above 1 the analyst slows down as a session goes on; below 1 they speed up (or start to rush).
    """
    sessions: list[list[int | None]] = []
    previous: datetime | None = None
    for stamp, dwell in submits:
        if previous is None or stamp - previous > SESSION_GAP:
            sessions.append([])
        sessions[-1].append(dwell)
        previous = stamp
    ratios = [
        ratio
        for session in sessions
        if len(session) >= DRIFT_MIN_SESSION_SUBMITS and (ratio := _session_speed_ratio(session)) is not None
    ]
    return _rounded(statistics.median(ratios)) if ratios else None


def _drift_speeds(*, project: Project, user_ids: set[int]) -> dict[int, float | None]:
    submits = (
        InteractionEvent.objects.filter(project=project, type=EventType.SUBMIT, user_id__in=user_ids)
        .order_by("user_id", "server_ts", "id")
        .values_list("user_id", "server_ts", "payload__dwell_ms")
        .iterator(chunk_size=ANNOTATION_CHUNK)
    )
    return {
        user_id: _drift_speed([(stamp, _as_int(dwell)) for _, stamp, dwell in rows])
        for user_id, rows in groupby(submits, key=itemgetter(0))
    }


def _as_int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _drift_consensus(consensus: list[tuple[int, bool]]) -> float | None:
    """Agreement on the later half of their consensus items (by answer time) minus the earlier half."""
    n = len(consensus)
    if n < DRIFT_MIN_CONSENSUS_ITEMS:
        return None
    ordered = [agreed for _, agreed in sorted(consensus, key=itemgetter(0))]
    half = n // 2
    earlier, later = ordered[:half], ordered[n - half :]
    return round(sum(later) / half - sum(earlier) / half, DECIMALS)


def _row(
    project: Project,
    user_id: int,
    member: _Member,
    tally: _Tally,
    summary: AnalystSummary | None,
    drift_speed: float | None,
) -> AnnotatorQuality:
    accuracy = tally.checks_correct / tally.checks_n if tally.checks_n else None
    interval = gold_check_interval(tally.checks_correct, tally.checks_n)
    below = (
        accuracy is not None
        and tally.checks_n >= project.gold_min_checks
        and accuracy < project.gold_accuracy_threshold
    )
    return AnnotatorQuality(
        user_id=user_id, username=member.username, role=member.role,
        submitted=summary.submitted if summary else 0,
        items_per_hour=summary.items_per_hour if summary else None,
        median_seconds=summary.median_seconds if summary else None,
        skip_rate=summary.skip_rate if summary else None,
        hotkey_share=summary.hotkey_share if summary else None,
        consensus_n=len(tally.consensus),
        consensus_agreement=_share(sum(agreed for _, agreed in tally.consensus), len(tally.consensus)),
        gold_n=tally.gold_n, gold_agreement=_share(tally.gold_agreed, tally.gold_n),
        checks_n=tally.checks_n, checks_correct=tally.checks_correct, check_accuracy=_rounded(accuracy),
        check_ci_low=_rounded(interval[0]) if interval else None,
        check_ci_high=_rounded(interval[1]) if interval else None,
        below_threshold=below, fast_answers=tally.fast, fast_share=_share(tally.fast, tally.timed),
        drift_speed=drift_speed, drift_consensus=_drift_consensus(tally.consensus),
        review_all_labels=member.review_all_labels,
        check_span_f1=_rounded(tally.checks_f1 / tally.checks_n) if project.is_spans and tally.checks_n else None,
    )  # fmt: skip


def annotator_quality_cache_key(*, project: Project, only_user_id: int | None) -> str:
    """A key that changes whenever anything the table reads changes: annotations (added, edited, deleted),
    events, gold labels, members and the project's settings (four small aggregate queries)."""
    stats = Annotation.objects.filter(project=project).aggregate(
        n=Count("id"), last_id=Max("id"), last_update=Max("updated_at")
    )
    # Separate aggregates: one query joining events, gold labels and members would multiply their rows.
    events = InteractionEvent.objects.filter(project=project).aggregate(last=Max("id"))
    golds = GoldLabel.objects.filter(project=project).aggregate(n=Count("id"), last=Max("updated_at"))
    members = Membership.objects.filter(project=project).aggregate(n=Count("id"), last=Max("updated_at"))
    parts = [*stats.values(), *events.values(), *golds.values(), *members.values(), project.updated_at]
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:24]
    return f"labeling:quality:v{QUALITY_CACHE_VERSION}:{project.pk}:{only_user_id or 'all'}:{digest}"


def annotator_quality_list(*, project: Project, viewer: ProjectAccess | None) -> list[AnnotatorQuality]:
    """Quality figures per member who has annotated or has events, by username; analysts get their own row.

    Cached until something it reads changes. A fixed number of queries whatever the number of members: the
    annotations stream past once. Truth inference's estimates are one more query, on every call.
    """
    only_user_id = None if viewer is None or sees_everyone(viewer) else viewer.user.pk
    key = annotator_quality_cache_key(project=project, only_user_id=only_user_id)
    cached = cache.get(key)
    if not isinstance(cached, list):
        cached = _annotator_quality_compute(project=project, viewer=viewer, only_user_id=only_user_id)
        cache.set(key, cached, QUALITY_CACHE_SECONDS)
    return _with_estimates(cached, annotator_reliability(project=project))


def _with_estimates(
    rows: list[AnnotatorQuality], estimates: dict[int, dict[str, Any]]
) -> list[AnnotatorQuality]:
    """The rows with truth inference's estimates for their annotators. Added after the cache, whose key does
    not follow inference runs: one query for the latest run, and only rows already shown get them."""
    out = []
    for row in rows:
        found = estimates.get(row.user_id)
        if found is None:
            out.append(row)
            continue
        interval = found.get("interval") or [None, None]
        out.append(
            replace(
                row, inference_run=found["run"], estimated_accuracy=found.get("accuracy"),
                estimated_ci_low=interval[0], estimated_ci_high=interval[1],
                estimated_per_class=list(found.get("per_class") or []),
                estimated_confusions=list(found.get("confusions") or []),
            )
        )  # fmt: skip
    return out


def _annotator_quality_compute(
    *, project: Project, viewer: ProjectAccess | None, only_user_id: int | None
) -> list[AnnotatorQuality]:
    memberships = Membership.objects.filter(project=project)
    if only_user_id is not None:
        memberships = memberships.filter(user_id=only_user_id)
    members = {
        user_id: _Member(username, role, review_all_labels)
        for user_id, username, role, review_all_labels in memberships.values_list(
            "user_id", "user__username", "role", "review_all_labels"
        )
    }
    summaries = {summary.user_id: summary for summary in analyst_summary_list(project=project, viewer=viewer)}
    tallies = _annotation_tallies(project=project, user_ids=members, only_user_id=only_user_id)
    active = {user_id for user_id in members if user_id in summaries or tallies[user_id].annotations}
    speeds = _drift_speeds(project=project, user_ids=active)
    return [
        _row(
            project, user_id, members[user_id], tallies[user_id], summaries.get(user_id), speeds.get(user_id)
        )
        for user_id in sorted(active, key=lambda pk: members[pk].username)
    ]


def annotators_below_threshold(*, project: Project) -> list[AnnotatorQuality]:
    """Everyone whose gold-check accuracy is under the project's threshold, for the owner's alert."""
    # The alert is about every analyst, whoever asks: it is read without a viewer's scope.
    rows = annotator_quality_list(project=project, viewer=None)
    return [row for row in rows if row.below_threshold]


def annotator_quality_csv_lines(rows: Iterable[AnnotatorQuality]) -> Iterator[str]:
    """A header, then one CSV line per row (every field; empty for undefined figures; per-class estimates and
    confusion matrices as JSON text)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=ANNOTATOR_QUALITY_COLUMNS)
    writer.writeheader()
    yield buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        cells = {
            key: json.dumps(value) if isinstance(value, list) else value
            for key, value in row.to_json().items()
        }
        writer.writerow(csv_row_safe(cells))
        yield buffer.getvalue()

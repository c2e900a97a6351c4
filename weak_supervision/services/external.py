from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from projects.models import Item, Label, Project
from weak_supervision.choices import LabelingFunctionKind
from weak_supervision.models import ExternalVote, LabelingFunction


def external_labeling_functions_ensure(
    *, project: Project, names: list[str], description: str = ""
) -> list[int]:
    """Returns the ids of the project's external LFs with these names, in order, creating the missing ones."""
    existing = dict(
        LabelingFunction.objects.filter(project=project, name__in=names).values_list("name", "id")
    )
    missing = [
        LabelingFunction(
            project=project, name=name, kind=LabelingFunctionKind.EXTERNAL, description=description
        )
        for name in names
        if name not in existing
    ]
    for lf in LabelingFunction.objects.bulk_create(missing):
        existing[lf.name] = lf.pk
    return [existing[name] for name in names]


MAX_POSTED_VOTES = 100_000
ERROR_TOO_MANY_VOTES = f"At most {MAX_POSTED_VOTES} votes per request."
ERROR_VOTE_ITEM = "Vote {index}: no item with external id '{external_id}' in this project."
ERROR_VOTE_LABEL = "Vote {index}: '{label}' is not a label of this project; its labels are: {labels}."
ERROR_NOT_EXTERNAL = "'{name}' is a {kind} labeling function: only external LFs take posted votes."
ERROR_LF_NAME = "An external labeling function needs a name."


@dataclass(frozen=True)
class PostedVote:
    external_id: str
    label: str | None  # None: the LF abstains on this item (an earlier vote is removed)


def external_votes_post(
    *, project: Project, name: str, votes: Sequence[PostedVote]
) -> tuple[LabelingFunction, int]:
    """Stores an external LF's votes (computed outside Oversight), all or none, replacing its earlier votes
    on those items; creates the LF on its first votes. Returns the LF and how many votes it now holds there."""
    name = name.strip()
    if not name:
        raise ValidationError(ERROR_LF_NAME, code="name")
    if len(votes) > MAX_POSTED_VOTES:
        raise ValidationError(ERROR_TOO_MANY_VOTES, code="too_many_votes")
    label_ids = dict(Label.objects.filter(project=project).values_list("key", "pk"))
    item_ids = dict(
        Item.objects.filter(project=project, external_id__in={v.external_id for v in votes}).values_list(
            "external_id", "pk"
        )
    )
    rows = []
    for index, vote in enumerate(votes, start=1):
        if vote.external_id not in item_ids:
            raise ValidationError(
                ERROR_VOTE_ITEM.format(index=index, external_id=vote.external_id), code="item"
            )
        if vote.label is not None and vote.label not in label_ids:
            message = ERROR_VOTE_LABEL.format(index=index, label=vote.label, labels=", ".join(label_ids))
            raise ValidationError(message, code="label")
        rows.append((item_ids[vote.external_id], label_ids.get(vote.label) if vote.label else None))
    with transaction.atomic():
        lf = LabelingFunction.objects.filter(project=project, name=name).first()
        if lf is not None and lf.kind != LabelingFunctionKind.EXTERNAL:
            raise ValidationError(
                ERROR_NOT_EXTERNAL.format(name=name, kind=lf.get_kind_display()), code="kind"
            )
        if lf is None:
            lf = LabelingFunction.objects.create(
                project=project,
                name=name,
                kind=LabelingFunctionKind.EXTERNAL,
                description="Votes posted over the API.",
            )
        ExternalVote.objects.filter(labeling_function=lf, item_id__in=[item for item, _ in rows]).delete()
        ExternalVote.objects.bulk_create(
            ExternalVote(labeling_function=lf, item_id=item, label_id=label) for item, label in rows if label
        )
    return lf, sum(1 for _, label in rows if label)

"""Labeling functions: create, edit (every edit of the definition is a new, immutable version), switch off."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from projects.models import Project
from projects.services.label_keys import label_keys_of
from weak_supervision.choices import WRITTEN_KINDS, LabelingFunctionKind
from weak_supervision.declarative import spec_normalise
from weak_supervision.models import LabelingFunction, LabelingFunctionVersion
from weak_supervision.sandbox import python_code_validate, python_lfs_unavailable
from weak_supervision.span_functions import span_spec_normalise

ERROR_NAME_TAKEN = "A labeling function named '{name}' already exists in this project."
ERROR_UNKNOWN_LABEL = "'{label}' is not a label of this project; its labels are: {labels}."
ERROR_NOT_DECLARATIVE = (
    "Only keyword, regex and metadata rules are defined here; external LFs come with their votes."
)
ERROR_NAME = "A labeling function needs a name."


def _definition(project: Project, kind: str, label: str, spec: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The validated label and spec: a rule votes for one label; Python code returns a label per item."""
    if kind == LabelingFunctionKind.PYTHON:
        code = python_code_validate(str(spec.get("code") or ""))
        unavailable = python_lfs_unavailable()  # never saved to run unisolated later
        if unavailable:
            raise ValidationError(unavailable, code="sandbox_unavailable")
        return "", {"code": code}
    if project.is_spans:  # the label is the entity type the rule marks (weak_supervision.span_functions)
        return _label_validate(project, label), span_spec_normalise(kind, spec)
    return _label_validate(project, label), spec_normalise(kind, spec)


def _label_validate(project: Project, label: str) -> str:
    """The label key `label` names, by the one rule every door follows (projects.services.label_keys)."""
    keys = label_keys_of(project=project)
    found = keys.find(label)
    if found is None:
        raise ValidationError(
            ERROR_UNKNOWN_LABEL.format(label=label, labels=", ".join(keys.keys)), code="label"
        )
    return found


def _version_add(lf: LabelingFunction, *, label: str, spec: dict[str, Any], user: User | None) -> None:
    number = (lf.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = LabelingFunctionVersion.objects.create(
        labeling_function=lf, number=number, label=label, spec=spec, created_by=user
    )
    lf.current_version = version
    lf.save(update_fields=["current_version", "updated_at"])


def labeling_function_create(
    *,
    project: Project,
    user: User | None,
    name: str,
    kind: str,
    label: str,
    spec: dict[str, Any],
    description: str = "",
) -> LabelingFunction:
    """Creates a declarative LF and its first version."""
    name = name.strip()
    if not name:
        raise ValidationError(ERROR_NAME, code="name")
    if kind not in WRITTEN_KINDS:
        raise ValidationError(ERROR_NOT_DECLARATIVE, code="kind")
    label, spec = _definition(project, kind, label, spec)
    with transaction.atomic():
        if LabelingFunction.objects.filter(project=project, name=name).exists():
            raise ValidationError(ERROR_NAME_TAKEN.format(name=name), code="name_taken")
        lf = LabelingFunction.objects.create(project=project, name=name, kind=kind, description=description)
        _version_add(lf, label=label, spec=spec, user=user)
    return lf


def labeling_function_update(
    *,
    lf: LabelingFunction,
    user: User | None,
    label: str | None = None,
    spec: dict[str, Any] | None = None,
    description: str | None = None,
    active: bool | None = None,
) -> LabelingFunction:
    """Saves a new version when the label or the rule changes; description and on/off change in place."""
    with transaction.atomic():
        lf = (
            LabelingFunction.objects.select_for_update(of=("self",))
            .select_related("current_version")
            .get(pk=lf.pk)
        )
        if label is not None or spec is not None:
            if lf.kind not in WRITTEN_KINDS:
                raise ValidationError(ERROR_NOT_DECLARATIVE, code="kind")
            current = lf.current_version
            new_label, new_spec = _definition(
                lf.project,
                lf.kind,
                label if label is not None else current.label if current else "",
                spec if spec is not None else current.spec if current else {},
            )
            if current is None or (new_label, new_spec) != (current.label, current.spec):
                _version_add(lf, label=new_label, spec=new_spec, user=user)
        if description is not None:
            lf.description = description
        if active is not None:
            lf.active = active
        lf.save(update_fields=["description", "active", "updated_at"])
    return lf


def labeling_function_accept_suggestion(
    *, project: Project, user: User | None, phrase: str, label: str
) -> LabelingFunction:
    """Turns a proposed keyword into a keyword LF named after it (kw-<phrase>, numbered if that is taken)."""
    base = "kw-" + ("-".join(phrase.lower().split()) or "phrase")[:150]
    name, number = base, 1
    while LabelingFunction.objects.filter(project=project, name=name).exists():
        number += 1
        name = f"{base}-{number}"
    return labeling_function_create(
        project=project,
        user=user,
        name=name,
        kind=LabelingFunctionKind.KEYWORD,
        label=label,
        spec={"keywords": [phrase]},
        description="Accepted from a suggestion (analysts' evidence or frequent words).",
    )

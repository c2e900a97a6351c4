from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.text import slugify

from projects.choices import ProjectKind, Role
from projects.models import Item, Label, Membership, Project
from projects.services.label_keys import label_key_normalise

# Tailwind-like palette: distinct at a glance, readable with white text.
LABEL_COLORS = [
    "#2563eb",
    "#dc2626",
    "#16a34a",
    "#d97706",
    "#7c3aed",
    "#0891b2",
    "#db2777",
    "#4b5563",
    "#65a30d",
]
MAX_LABELS = 50
ERROR_NO_LABELS = (
    "A project needs at least two labels (or one, for a multi-label project or an entity type for a span "
    "project), and at most 50."
)
ERROR_KIND = "Unknown project kind '{kind}': choose single, multi or spans."
ERROR_KIND_MULTI = "multi_label contradicts kind '{kind}'."
ERROR_OVERLAPS_ONLY_SPANS = "Only span projects can allow overlapping spans."
ERROR_DUPLICATE_LABEL = "Label '{key}' is given twice."
ERROR_SLUG_TAKEN = "A project with the slug '{slug}' already exists."
ERROR_OVERLAP = "Overlap must be between 1 and 20 annotations per item."
ERROR_HOTKEY_TAKEN = "Hotkey '{hotkey}' is used by two labels."
ERROR_HOTKEY_RESERVED = "Hotkey '{hotkey}' is reserved by the labeling view (S skip, U undo, F flag)."
# Oversight settings and their allowed ranges (booleans as 0..1).
OVERSIGHT_SETTINGS: dict[str, tuple[float, float]] = {
    "gold_check_rate": (0.0, 0.5),
    "gold_accuracy_threshold": (0.0, 1.0),
    "gold_min_checks": (1, 1000),
    "gold_auto_review": (0, 1),
    "review_audit_rate": (0.0, 1.0),
    "review_confidence_threshold": (0.0, 1.0),
    "analysts_see_suggestions": (0, 1),
}
ERROR_SETTING_RANGE = "{name} must be between {low} and {high}."
ERROR_LEASE = "The lease must be between 10 seconds and 24 hours."
# The labeling view's own keys; labels may not take them.
RESERVED_HOTKEYS = frozenset({"s", "u", "f"})


@dataclass(frozen=True)
class LabelSpec:
    key: str
    name: str = ""
    hotkey: str = ""
    color: str = ""


def label_specs_from_keys(keys: list[str]) -> list[LabelSpec]:
    return [LabelSpec(key=key.strip()) for key in keys if key.strip()]


def project_kind_resolve(*, kind: str, multi_label: bool) -> str:
    """The project kind from the given kind (single, multi, spans; "": from multi_label alone)."""
    if not kind:
        return ProjectKind.MULTI if multi_label else ProjectKind.SINGLE
    if kind not in ProjectKind.values:
        raise ValidationError(ERROR_KIND.format(kind=kind[:20]), code="kind")
    if multi_label and kind != ProjectKind.MULTI:
        raise ValidationError(ERROR_KIND_MULTI.format(kind=kind), code="kind")
    return kind


def _normalise_labels(specs: list[LabelSpec], *, multi_label: bool) -> list[LabelSpec]:
    if len(specs) < (1 if multi_label else 2) or len(specs) > MAX_LABELS:
        raise ValidationError(ERROR_NO_LABELS, code="labels")
    result: list[LabelSpec] = []
    keys: set[str] = set()
    hotkeys: set[str] = set()
    for index, spec in enumerate(specs):
        key = label_key_normalise(spec.key)
        if not key:
            raise ValidationError(f"Label '{spec.key}' has no usable key.", code="labels")
        if key in keys:
            raise ValidationError(ERROR_DUPLICATE_LABEL.format(key=key), code="labels")
        hotkey = spec.hotkey or (str(index + 1) if index < 9 else "")
        if hotkey.lower() in RESERVED_HOTKEYS:
            raise ValidationError(ERROR_HOTKEY_RESERVED.format(hotkey=hotkey), code="labels")
        if hotkey and hotkey in hotkeys:
            raise ValidationError(ERROR_HOTKEY_TAKEN.format(hotkey=hotkey), code="labels")
        keys.add(key)
        hotkeys.add(hotkey)
        result.append(
            LabelSpec(
                key=key,
                name=spec.name or spec.key.strip(),
                hotkey=hotkey,
                color=spec.color or LABEL_COLORS[index % len(LABEL_COLORS)],
            )
        )
    return result


def project_create(
    *,
    name: str,
    labels: list[LabelSpec],
    created_by: User | None,
    slug: str = "",
    description: str = "",
    instructions: str = "",
    multi_label: bool = False,
    overlap: int = 1,
    kind: str = "",
    allow_overlapping_spans: bool = False,
) -> Project:
    """Creates a project with its label schema; the creator becomes its owner.

    `kind`: single (one label per item), multi (several) or spans (entity types marked in the text); ""
    reads it from `multi_label`. A span project's labels are its entity types (one is enough)."""
    kind = project_kind_resolve(kind=kind, multi_label=multi_label)
    if allow_overlapping_spans and kind != ProjectKind.SPANS:
        raise ValidationError(ERROR_OVERLAPS_ONLY_SPANS, code="allow_overlapping_spans")
    slug = slugify(slug or name)
    if not slug:
        raise ValidationError("A project needs a name or slug made of letters or digits.", code="slug")
    if Project.objects.filter(slug=slug).exists():
        raise ValidationError(ERROR_SLUG_TAKEN.format(slug=slug), code="slug_taken")
    if not 1 <= overlap <= 20:
        raise ValidationError(ERROR_OVERLAP, code="overlap")
    specs = _normalise_labels(labels, multi_label=kind != ProjectKind.SINGLE)
    with transaction.atomic():
        project = Project.objects.create(
            name=name or slug,
            slug=slug,
            description=description,
            instructions=instructions,
            kind=kind,
            multi_label=kind == ProjectKind.MULTI,
            allow_overlapping_spans=allow_overlapping_spans,
            overlap=overlap,
            created_by=created_by,
        )
        Label.objects.bulk_create(
            Label(project=project, key=s.key, name=s.name, hotkey=s.hotkey, color=s.color, order=i)
            for i, s in enumerate(specs)
        )
        if created_by is not None:
            Membership.objects.create(project=project, user=created_by, role=Role.OWNER)
    return project


def project_update(
    *,
    project: Project,
    name: str | None = None,
    description: str | None = None,
    instructions: str | None = None,
    overlap: int | None = None,
    lease_seconds: int | None = None,
    **oversight: float | int | bool | None,
) -> Project:
    """Changes a project's settings. A new overlap opens or closes queue slots on every item.

    `oversight` takes the gold-check and review settings (OVERSIGHT_SETTINGS), range-checked here.
    """
    unknown = sorted(set(oversight) - set(OVERSIGHT_SETTINGS))
    if unknown:
        raise ValidationError(f"Unknown setting(s): {', '.join(unknown)}.", code="settings")
    for setting, given in oversight.items():
        low, high = OVERSIGHT_SETTINGS[setting]
        if given is not None and not low <= float(given) <= high:
            raise ValidationError(ERROR_SETTING_RANGE.format(name=setting, low=low, high=high), code=setting)
    if overlap is not None and not 1 <= overlap <= 20:
        raise ValidationError(ERROR_OVERLAP, code="overlap")
    if lease_seconds is not None and not 10 <= lease_seconds <= 86_400:
        raise ValidationError(ERROR_LEASE, code="lease_seconds")
    changes: dict[str, object] = {
        "name": name, "description": description, "instructions": instructions, "overlap": overlap,
        "lease_seconds": lease_seconds, **oversight,
    }  # fmt: skip
    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        shift = overlap - locked.overlap if overlap is not None else 0
        for field_name, value in changes.items():
            if value is not None:
                setattr(project, field_name, value)
        project.full_clean(exclude=["slug"])
        project.save()
        if shift:
            Item.objects.filter(project=project).update(remaining=F("remaining") + shift)
    return project

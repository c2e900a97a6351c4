"""The FilterSets of the oversight app's lists: review requests, gold labels, the item browser and inferred
labels (core.filtersets)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import django_filters
from django import forms
from django.contrib.auth.models import User
from django.db.models import Q, QuerySet

from core.filtersets import BooleanFilter, FilterSet
from labeling.choices import GoldSource
from labeling.models import GoldLabel
from oversight.models import ItemInferredLabel, ItemLabelIssue, ReviewRequest
from oversight.selectors import items as selectors
from oversight.selectors.items import GOLD_ANY, GOLD_CHECK, GOLD_NONE, LF_ABSTAIN
from oversight.selectors.truth import inferred_as, inferred_disagrees
from projects.access import ProjectAccess
from projects.choices import Split
from projects.models import Item
from projects.permissions import Action
from projects.selectors import items_text_contain, project_labels
from weak_supervision.models import LabelingFunction

ERROR_UNKNOWN_FILTER = "Unknown filter: {names}. This list takes: {known}."
ERROR_NOT_FOR_ROLE = "This filter is not available to your role."
ERROR_LF_VOTE_WITHOUT_LF = "Choose the LF whose vote this is."

GOLD_STATES = [
    (GOLD_NONE, "No gold label"),
    (GOLD_ANY, "Any gold label"),
    *GoldSource.choices,
    (GOLD_CHECK, "Gold check"),
]
ORDER_CONFIDENCE = "confidence"
ORDER_CONFIDENCE_DESC = "-confidence"
ORDER_DISAGREEMENT = "-disagreement"
ORDERINGS = [
    (ORDER_CONFIDENCE, "Confidence, least sure first"),
    (ORDER_CONFIDENCE_DESC, "Confidence, surest first"),
    (ORDER_DISAGREEMENT, "Disagreement, most first"),
]
# The filters that read others' answers or the models' (blind labeling: analysts may not use them).
ROLE_FILTERS: dict[str, Action] = {
    **dict.fromkeys(["label", "annotator", "disagreement", "gold", "flagged", "in_review"],
                    Action.SEE_OTHERS_ANSWERS),
    **dict.fromkeys(["lf", "lf_vote", "weak_label", "confidence_min", "confidence_max", "end_model_label",
                     "ordering"], Action.SEE_MODEL_OUTPUTS),
}  # fmt: skip


class ReviewRequestFilterSet(FilterSet):
    """The review requests endpoint's; without `status` it lists the open requests."""

    status = django_filters.ChoiceFilter(
        choices=ReviewRequest.Status.choices, empty_label="Open", help_text="Default: open"
    )
    item = django_filters.NumberFilter(field_name="item_id")

    class Meta:
        model = ReviewRequest
        fields = ["status", "item"]

    def filter_queryset(self, queryset: QuerySet[ReviewRequest]) -> QuerySet[ReviewRequest]:
        if not self.form.cleaned_data.get("status"):
            queryset = queryset.filter(status=ReviewRequest.Status.OPEN)
        filtered: QuerySet[ReviewRequest] = super().filter_queryset(queryset)
        return filtered


class GoldLabelFilterSet(FilterSet):
    """Shared by the gold labels page and the gold labels endpoint."""

    source = django_filters.ChoiceFilter(choices=GoldSource.choices, empty_label="Any source")
    is_check = BooleanFilter(label="Gold check")
    item = django_filters.NumberFilter(field_name="item_id")

    class Meta:
        model = GoldLabel
        fields = ["source", "is_check", "item"]


class ItemFilterForm(forms.Form):
    """The item browser's filter form: refuses the query parameters the browser does not take, and the
    filters the viewer's role may not use (blind labeling), each by name."""

    known: tuple[str, ...] = ()
    refused: frozenset[str] = frozenset()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        unknown = [name for name in self.data if name not in self.known]
        if unknown:
            self.add_error(
                None, ERROR_UNKNOWN_FILTER.format(names=", ".join(unknown), known=", ".join(self.known))
            )
        for name in sorted(self.refused):
            if self.data.get(name) not in (None, ""):
                self.add_error(name, ERROR_NOT_FOR_ROLE)
        if self.data.get("lf_vote") and not cleaned.get("lf"):
            self.add_error("lf_vote", ERROR_LF_VOTE_WITHOUT_LF)
        return cleaned


def _label_choices(filterset: ItemFilterSet) -> Callable[[], list[tuple[str, str]]]:
    """The project's label keys, read when the field validates a value or renders (not on every request)."""
    return lambda: [(label.key, label.name) for label in project_labels(project=filterset.access.project)]


class ItemFilterSet(FilterSet):
    """The item browser's: shared by the items page and the items endpoint, and by the bulk actions, which
    act on the same filtered selection. Built for a viewer (`access`): an analyst may filter by text, id,
    split and whether an item is labeled, never by others' answers or the models' (blind labeling)."""

    q = django_filters.CharFilter(method="filter_q", label="Text contains")
    external_id = django_filters.CharFilter()
    split = django_filters.ChoiceFilter(choices=Split.choices, empty_label="Any split")
    labeled = BooleanFilter(method="filter_labeled", label="Has annotations")
    label = django_filters.ChoiceFilter(
        method="filter_label", empty_label="Any label", help_text="In the gold label or any answer."
    )
    annotator = django_filters.ModelChoiceFilter(
        queryset=User.objects.none(), method="filter_annotator", empty_label="Anyone", label="Answered by"
    )
    disagreement = BooleanFilter(method="filter_disagreement", label="Answers disagree")
    gold = django_filters.ChoiceFilter(
        choices=GOLD_STATES, method="filter_gold", empty_label="Any gold state"
    )
    flagged = BooleanFilter(method="filter_flagged", label="Open flag")
    in_review = BooleanFilter(method="filter_in_review", label="In review")
    lf = django_filters.ModelChoiceFilter(
        queryset=LabelingFunction.objects.none(), method="filter_nothing", empty_label="Any LF", label="LF"
    )
    lf_vote = django_filters.ChoiceFilter(
        method="filter_nothing", empty_label="Voted", label="LF vote", help_text="A label, or abstain."
    )
    weak_label = django_filters.ChoiceFilter(
        field_name="weak_label__label", empty_label="Any weak label", label="Weak label"
    )
    confidence_min = django_filters.NumberFilter(
        field_name="weak_label__confidence", lookup_expr="gte", min_value=0, max_value=1,
        label="Confidence at least", help_text="The weak label's, from 0 to 1.",
    )  # fmt: skip
    confidence_max = django_filters.NumberFilter(
        field_name="weak_label__confidence", lookup_expr="lte", min_value=0, max_value=1,
        label="Confidence at most",
    )  # fmt: skip
    end_model_label = django_filters.ChoiceFilter(
        field_name="end_model_label__label", empty_label="Any end-model label", label="End-model label"
    )
    ordering = django_filters.ChoiceFilter(
        choices=ORDERINGS, method="filter_nothing", empty_label="Id", label="Sort by",
        help_text="By confidence: the items the latest run labeled; by disagreement: the items whose answers differ.",
    )  # fmt: skip

    class Meta:
        model = Item
        fields = [
            "q", "external_id", "split", "labeled", "label", "annotator", "disagreement", "gold", "flagged",
            "in_review", "lf", "lf_vote", "weak_label", "confidence_min", "confidence_max", "end_model_label",
            "ordering",
        ]  # fmt: skip
        form = ItemFilterForm

    def __init__(
        self,
        data: Any = None,
        queryset: QuerySet[Item] | None = None,
        *,
        access: ProjectAccess,
        request: Any = None,
        prefix: str | None = None,
        also_known: tuple[str, ...] = ("page",),
    ) -> None:
        super().__init__(data, queryset, request=request, prefix=prefix)
        self.access = access
        project = access.project
        for name in ("label", "weak_label", "end_model_label"):
            self.filters[name].extra["choices"] = _label_choices(self)
        self.filters["lf_vote"].extra["choices"] = lambda: [
            *_label_choices(self)(),
            (LF_ABSTAIN, "Abstained"),
        ]
        self.filters["annotator"].queryset = User.objects.filter(memberships__project=project).order_by(
            "username"
        )
        self.filters["lf"].queryset = LabelingFunction.objects.filter(project=project).order_by("name")
        self.refused = frozenset(name for name, action in ROLE_FILTERS.items() if not access.allows(action))
        self.also_known = also_known

    @property
    def form(self) -> ItemFilterForm:
        if not hasattr(self, "_form"):
            form = super().form
            form.known = (*self.filters, *self.also_known)
            form.refused = self.refused
        return cast(ItemFilterForm, self._form)

    def shown_fields(self) -> list[Any]:
        """The fields of the filter form this viewer may use, for the page."""
        return [field for field in self.form if field.name not in self.refused]

    def refused_errors(self) -> list[str]:
        """The errors the page shows above the rows: the form's own, and those of the filters it does not show."""
        errors = [str(message) for message in self.form.non_field_errors()]
        return errors + [
            f"{name}: {message}"
            for name in sorted(self.refused)
            for message in self.form.errors.get(name, [])
        ]

    def filter_queryset(self, queryset: QuerySet[Item]) -> QuerySet[Item]:
        items: QuerySet[Item] = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        project = self.access.project
        # The rows' own project condition lets PostgreSQL read the weak labels' (project, label) and
        # (project, confidence, item) indexes, and the end model's (project, label), instead of every row.
        if (
            data.get("weak_label")
            or data.get("confidence_min") is not None
            or data.get("confidence_max") is not None
        ):
            items = items.filter(weak_label__project=project)
        if data.get("end_model_label"):
            items = items.filter(end_model_label__project=project)
        lf = data.get("lf")
        if lf is not None:
            items = items.filter(selectors.lf_voted(lf_id=lf.pk, vote=data.get("lf_vote") or ""))
        ordering = data.get("ordering")
        if ordering in (ORDER_CONFIDENCE, ORDER_CONFIDENCE_DESC):
            items = selectors.by_confidence(
                items, project=self.access.project, descending=ordering == ORDER_CONFIDENCE_DESC
            )
        elif ordering == ORDER_DISAGREEMENT:
            items = selectors.by_disagreement(items, project=self.access.project)
        return items

    def filter_nothing(self, queryset: QuerySet[Item], name: str, value: Any) -> QuerySet[Item]:
        """LF, LF vote and ordering act together, in filter_queryset."""
        return queryset

    def filter_q(self, queryset: QuerySet[Item], name: str, value: str) -> QuerySet[Item]:
        return (
            queryset.filter(items_text_contain(project=self.access.project, text=value))
            if value
            else queryset
        )

    def filter_labeled(self, queryset: QuerySet[Item], name: str, value: bool | None) -> QuerySet[Item]:
        if value is None:
            return queryset
        return queryset.filter(selectors.answered() if value else ~Q(selectors.answered()))

    def filter_label(self, queryset: QuerySet[Item], name: str, value: str) -> QuerySet[Item]:
        return (
            queryset.filter(selectors.labelled_as(value, project=self.access.project)) if value else queryset
        )

    def filter_annotator(self, queryset: QuerySet[Item], name: str, value: User | None) -> QuerySet[Item]:
        return queryset.filter(selectors.answered(annotator_id=value.pk)) if value is not None else queryset

    def filter_disagreement(self, queryset: QuerySet[Item], name: str, value: bool | None) -> QuerySet[Item]:
        if value is None:
            return queryset
        disagreeing = Q(pk__in=selectors.disagreeing_ids(project=self.access.project))
        return queryset.filter(disagreeing if value else ~disagreeing)

    def filter_gold(self, queryset: QuerySet[Item], name: str, value: str) -> QuerySet[Item]:
        return queryset.filter(selectors.gold_state(value)) if value else queryset

    def filter_flagged(self, queryset: QuerySet[Item], name: str, value: bool | None) -> QuerySet[Item]:
        if value is None:
            return queryset
        return queryset.filter(selectors.flagged() if value else ~Q(selectors.flagged()))

    def filter_in_review(self, queryset: QuerySet[Item], name: str, value: bool | None) -> QuerySet[Item]:
        if value is None:
            return queryset
        return queryset.filter(selectors.in_review() if value else ~Q(selectors.in_review()))


class ItemInferredLabelFilterSet(FilterSet):
    """The inferred labels endpoint's: the items' posteriors by label, confidence and disagreement."""

    label = django_filters.CharFilter(
        method="filter_label", help_text="The inferred label (multi-label: one of the inferred labels)."
    )
    min_confidence = django_filters.NumberFilter(field_name="confidence", lookup_expr="gte")
    max_confidence = django_filters.NumberFilter(field_name="confidence", lookup_expr="lte")
    disagrees = BooleanFilter(
        method="filter_disagrees", help_text="The inferred label differs from the annotators' majority."
    )
    item = django_filters.NumberFilter(field_name="item_id")

    class Meta:
        model = ItemInferredLabel
        fields = ["label", "min_confidence", "max_confidence", "disagrees", "item"]

    def filter_label(
        self, queryset: QuerySet[ItemInferredLabel], name: str, value: str
    ) -> QuerySet[ItemInferredLabel]:
        return queryset.filter(inferred_as(value)) if value else queryset

    def filter_disagrees(
        self, queryset: QuerySet[ItemInferredLabel], name: str, value: bool | None
    ) -> QuerySet[ItemInferredLabel]:
        if value is None:
            return queryset
        return queryset.filter(inferred_disagrees()) if value else queryset.exclude(inferred_disagrees())


class ItemLabelIssueFilterSet(FilterSet):
    """The label-errors endpoint's: suspects by given or predicted label and where the given label came from."""

    given_label = django_filters.CharFilter(field_name="given_label")
    predicted_label = django_filters.CharFilter(field_name="predicted_label")
    given_from = django_filters.ChoiceFilter(
        field_name="given_from",
        choices=[("gold", "gold"), ("agreed", "agreed"), ("majority", "majority")],
        help_text="Where the given label came from.",
    )
    item = django_filters.NumberFilter(field_name="item_id")

    class Meta:
        model = ItemLabelIssue
        fields = ["given_label", "predicted_label", "given_from", "item"]

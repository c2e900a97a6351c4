"""Active learning in the browser: settings, retraining, the learning curve, the queue's next items and the
strategy simulator, on one page whose model and simulation rows poll until their work is done."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from active_learning import selectors
from active_learning.filtersets import LearnerModelFilterSet, SimulationFilterSet
from active_learning.forms import LearnerSettingsForm, SimulationForm
from active_learning.services.retrain_start import learner_retrain_or_join
from active_learning.services.simulations import simulation_create
from active_learning.services.training import learner_settings_get, learner_settings_update
from core.charts import line_chart
from core.exceptions import ApplicationError
from core.filtersets import filterset_rows
from core.htmx import HtmxHttpRequest, render_partial
from core.web import form_ok, redirect_htmx
from projects.access import ProjectAccess
from projects.models import Project
from projects.permissions import Action
from projects.web import project_view

TEMPLATE = "active_learning/learner.html"
NEXT_ITEMS = 10
MESSAGE_RETRAINING = "Retraining: model {number} is on its way."
MESSAGE_RETRAIN_UNDER_WAY = "Model {number} is already retraining: its row follows it."


def _label_keys(project: Project) -> list[str]:
    return list(project.labels.order_by("order", "pk").values_list("key", flat=True))


_ITEM_CURVE = (("accuracy", "accuracy"), ("macro F1", "macro_f1"))
_SPAN_CURVE = (("span F1", "span_f1"), ("span precision", "span_precision"), ("span recall", "span_recall"))


def _curve_chart(project: Project) -> SafeString:
    points = selectors.learning_curve(project=project)["points"]
    names = _SPAN_CURVE if project.is_spans else _ITEM_CURVE
    series = [(name, [(str(point["n_labels"]), point[key]) for point in points]) for name, key in names]
    return line_chart(series, title="Held-out metric by human labels (one point per model)", percent=True)


def simulation_chart(result: dict[str, Any]) -> SafeString:
    series = [
        (name, [(str(n), value) for n, value in data["curve"]])
        for name, data in result.get("strategies", {}).items()
    ]
    return line_chart(series, title=f"{result.get('metric', '')} by labels", percent=True)


def _context(access: ProjectAccess, query: QueryDict | None = None, **forms: Any) -> dict[str, Any]:
    """The page; the query string (of a GET) filters its model table and its simulations alike."""
    project = access.project
    settings = learner_settings_get(project=project)
    model_filter = LearnerModelFilterSet(query, queryset=selectors.learner_model_list(project=project))
    simulation_filter = SimulationFilterSet(query, queryset=selectors.simulation_list(project=project))
    simulations = list(filterset_rows(simulation_filter)[:10])
    return {
        "model_filter": model_filter, "simulation_filter": simulation_filter,
        "project": project, "can_train": access.allows(Action.TRAIN),
        "settings_form": forms.get("settings_form") or LearnerSettingsForm(instance=settings),
        "simulation_form": forms.get("simulation_form") or SimulationForm(label_keys=_label_keys(project)),
        "models": list(filterset_rows(model_filter)[:20]),
        "curve": _curve_chart(project),
        "next_items": selectors.queue_head(project=project, limit=NEXT_ITEMS),
        "simulations": [(simulation, simulation_chart(simulation.result)) for simulation in simulations],
    }  # fmt: skip


@require_GET
@project_view(Action.OVERSEE)
def learner_page(request: HtmxHttpRequest, access: ProjectAccess) -> HttpResponse:
    return render(request, TEMPLATE, _context(access, request.GET or None))


def _back(request: HtmxHttpRequest, project: Project) -> HttpResponse:
    return redirect_htmx(request, reverse("active_learning:learner", args=[project.slug]))


@require_POST
@project_view(Action.OVERSEE)
def learner_settings_view(request: HtmxHttpRequest, access: ProjectAccess) -> HttpResponse:
    project = access.project
    if not access.allows(Action.TRAIN):
        raise PermissionDenied("Only owners and data scientists change active-learning settings.")
    form = LearnerSettingsForm(request.POST, instance=learner_settings_get(project=project))
    # The same service as the API: the form only validates the input.
    if form.is_valid() and form_ok(
        form, lambda: learner_settings_update(project=project, **form.cleaned_data)
    ):
        messages.success(request, "Active-learning settings saved.")
        return _back(request, project)
    context = _context(access, settings_form=form)
    return render_partial(request, TEMPLATE, context, partial="settings-form", status=422)


@require_POST
@project_view(Action.OVERSEE)
def learner_retrain_view(request: HtmxHttpRequest, access: ProjectAccess) -> HttpResponse:
    project = access.project
    if not access.allows(Action.TRAIN):
        raise PermissionDenied("Only owners and data scientists retrain the model.")
    try:
        started = learner_retrain_or_join(project=project, user=access.user)
    except (ValidationError, ApplicationError) as exc:
        messages.error(request, " ".join(exc.messages) if isinstance(exc, ValidationError) else exc.message)
    else:
        message = MESSAGE_RETRAINING if started.created else MESSAGE_RETRAIN_UNDER_WAY
        messages.info(request, message.format(number=started.job.number))
    return _back(request, project)


@require_GET
@project_view(Action.OVERSEE)
def learner_model_row(request: HtmxHttpRequest, access: ProjectAccess, number: int) -> HttpResponse:
    project = access.project
    model = selectors.learner_model_get(project=project, number=number)
    return render(request, f"{TEMPLATE}#model-row", {"project": project, "model": model})


@require_http_methods(["POST"])
@project_view(Action.OVERSEE)
def simulation_create_view(request: HtmxHttpRequest, access: ProjectAccess) -> HttpResponse:
    project = access.project
    if not access.allows(Action.TRAIN):
        raise PermissionDenied("Only owners and data scientists run simulations.")
    form = SimulationForm(request.POST, label_keys=_label_keys(project))
    if form.is_valid() and form_ok(
        form, lambda: simulation_create(project=project, user=access.user, **form.cleaned_data)
    ):
        messages.info(request, "Simulation started; its curves appear below when it is done.")
        return _back(request, project)
    context = _context(access, simulation_form=form)
    return render_partial(request, TEMPLATE, context, partial="simulation-form", status=422)


@require_GET
@project_view(Action.OVERSEE)
def simulation_row(request: HtmxHttpRequest, access: ProjectAccess, simulation_id: int) -> HttpResponse:
    project = access.project
    simulation = selectors.simulation_get(project=project, simulation_id=simulation_id)
    context = {"project": project, "simulation": simulation, "chart": simulation_chart(simulation.result)}
    return render(request, f"{TEMPLATE}#simulation", context)

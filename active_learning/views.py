"""Active learning in the browser: settings, retraining, the learning curve, the queue's next items and the
strategy simulator, on one page whose model and simulation rows poll until their work is done."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from active_learning import selectors
from active_learning.forms import LearnerSettingsForm, SimulationForm
from active_learning.services.simulations import simulation_create
from active_learning.services.training import learner_retrain, learner_settings_get
from core.charts import line_chart
from core.exceptions import ApplicationError, NotFoundError
from core.htmx import HtmxHttpRequest, render_partial
from projects.models import Project
from projects.permissions import Action, role_allows
from projects.web import add_error, project_view

TEMPLATE = "active_learning/learner.html"
NEXT_ITEMS = 10


def _can_train(project: Project) -> bool:
    return role_allows(project.user_role, Action.TRAIN)  # type: ignore[attr-defined]


def _label_keys(project: Project) -> list[str]:
    return list(project.labels.order_by("order", "pk").values_list("key", flat=True))


def _curve_chart(project: Project) -> SafeString:
    points = selectors.learning_curve(project=project)["points"]
    series = [
        (name, [(str(point["n_labels"]), point[key]) for point in points])
        for name, key in (("accuracy", "accuracy"), ("macro F1", "macro_f1"))
    ]
    return line_chart(series, title="Held-out metric by human labels (one point per model)", percent=True)


def simulation_chart(result: dict[str, Any]) -> SafeString:
    series = [
        (name, [(str(n), value) for n, value in data["curve"]])
        for name, data in result.get("strategies", {}).items()
    ]
    return line_chart(series, title=f"{result.get('metric', '')} by labels", percent=True)


def _context(request: HtmxHttpRequest, project: Project, **forms: Any) -> dict[str, Any]:
    settings = learner_settings_get(project=project)
    simulations = list(selectors.simulation_list(project=project)[:10])
    return {
        "project": project, "can_train": _can_train(project),
        "settings_form": forms.get("settings_form") or LearnerSettingsForm(instance=settings),
        "simulation_form": forms.get("simulation_form") or SimulationForm(label_keys=_label_keys(project)),
        "models": list(selectors.learner_model_list(project=project)[:20]),
        "curve": _curve_chart(project),
        "next_items": selectors.queue_head(project=project, limit=NEXT_ITEMS),
        "simulations": [(simulation, simulation_chart(simulation.result)) for simulation in simulations],
    }  # fmt: skip


@require_GET
@project_view(Action.OVERSEE)
def learner_page(request: HtmxHttpRequest, project: Project) -> HttpResponse:
    return render(request, TEMPLATE, _context(request, project))


def _back(request: HtmxHttpRequest, project: Project) -> HttpResponse:
    target = reverse("active_learning:learner", args=[project.slug])
    return HttpResponseClientRedirect(target) if request.htmx else redirect(target)


@require_POST
@project_view(Action.OVERSEE)
def learner_settings_view(request: HtmxHttpRequest, project: Project) -> HttpResponse:
    if not _can_train(project):
        raise PermissionDenied("Only owners and data scientists change active-learning settings.")
    form = LearnerSettingsForm(request.POST, instance=learner_settings_get(project=project))
    if form.is_valid():
        form.save()
        messages.success(request, "Active-learning settings saved.")
        return _back(request, project)
    context = _context(request, project, settings_form=form)
    return render_partial(request, TEMPLATE, context, partial="settings-form", status=422)


@require_POST
@project_view(Action.OVERSEE)
def learner_retrain_view(request: HtmxHttpRequest, project: Project) -> HttpResponse:
    if not _can_train(project):
        raise PermissionDenied("Only owners and data scientists retrain the model.")
    try:
        model = learner_retrain(project=project, user=cast(User, request.user))
    except (ValidationError, ApplicationError) as exc:
        messages.error(request, " ".join(exc.messages) if isinstance(exc, ValidationError) else exc.message)
    else:
        messages.info(request, f"Retraining: model {model.number} is on its way.")
    return _back(request, project)


@require_GET
@project_view(Action.OVERSEE)
def learner_model_row(request: HtmxHttpRequest, project: Project, number: int) -> HttpResponse:
    try:
        model = selectors.learner_model_get(project=project, number=number)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc
    return render(request, f"{TEMPLATE}#model-row", {"project": project, "model": model})


@require_http_methods(["POST"])
@project_view(Action.OVERSEE)
def simulation_create_view(request: HtmxHttpRequest, project: Project) -> HttpResponse:
    if not _can_train(project):
        raise PermissionDenied("Only owners and data scientists run simulations.")
    form = SimulationForm(request.POST, label_keys=_label_keys(project))
    if form.is_valid():
        try:
            simulation_create(project=project, user=cast(User, request.user), **form.cleaned_data)
        except (ValidationError, ApplicationError) as exc:
            add_error(form, exc)
        else:
            messages.info(request, "Simulation started; its curves appear below when it is done.")
            return _back(request, project)
    context = _context(request, project, simulation_form=form)
    return render_partial(request, TEMPLATE, context, partial="simulation-form", status=422)


@require_GET
@project_view(Action.OVERSEE)
def simulation_row(request: HtmxHttpRequest, project: Project, simulation_id: int) -> HttpResponse:
    try:
        simulation = selectors.simulation_get(project=project, simulation_id=simulation_id)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc
    context = {"project": project, "simulation": simulation, "chart": simulation_chart(simulation.result)}
    return render(request, f"{TEMPLATE}#simulation", context)

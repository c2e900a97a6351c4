"""The whole API fuzzed by schemathesis from its own OpenAPI schema, as an owner and as an analyst.

Every operation of drf-spectacular's /api/schema/ gets EXAMPLES_PER_OPERATION generated requests per role,
sent through the WSGI application to the session's real PostgreSQL and Redis. About half of them name real
objects in the path (the project, an item, an LF, a snapshot...), the rest whatever schemathesis draws. The
test collects every failure instead of stopping at the first, and then asserts that there were none: no
response >= 500, and every response matching the schema (status, content type and body as documented).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import strategies as st
from rest_framework.test import APIClient
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from datasets.services.schedules import export_schedule_create
from datasets.services.snapshots import SnapshotRequest, snapshot_build, snapshot_create
from projects.choices import Role
from projects.models import Project
from tests.labeling.factories import AnnotationFactory, GoldLabelFactory
from tests.projects.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory
from tests.weak_supervision.factories import keyword_lf

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# Bounded so that both roles over every operation, valid and invalid requests, take under three minutes on two
# cores. Valid requests (by the schema) must get documented answers; invalid ones anything but a 5xx.
EXAMPLES_PER_OPERATION = {GenerationMode.POSITIVE: 10, GenerationMode.NEGATIVE: 4}
CHECKS = {
    GenerationMode.POSITIVE: [not_a_server_error, response_schema_conformance, content_type_conformance],
    GenerationMode.NEGATIVE: [not_a_server_error],
}
# Path parameters that never take a real value: revoking the token the fuzzer itself uses would end the run.
NEVER_REAL = {"token_id"}


@dataclass
class World:
    project: Project
    tokens: dict[str, str]
    known: dict[str, Any]


@dataclass
class Tally:
    operations: int = 0
    examples: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)


def _token(username: str) -> str:
    response = APIClient().post(
        "/api/auth/token/", {"username": username, "password": "password123"}, format="json"
    )
    assert response.status_code == 200, response.content
    return str(response.json()["token"])


@pytest.fixture
def world(settings: Any) -> World:
    """A project with items, answers, a gold label, an LF, a snapshot and a schedule; its owner and analyst."""
    # The session's media folder: tasks the fuzz triggers may run on the session's worker, which writes there.
    project = ProjectFactory(slug="fuzz")
    owner, analyst, other = (
        UserFactory(username="olga"),
        UserFactory(username="ana"),
        UserFactory(username="bob"),
    )
    for user, role in ((owner, Role.OWNER), (analyst, Role.ANALYST), (other, Role.ANALYST)):
        MembershipFactory(project=project, user=user, role=role)
    items = ItemFactory.create_batch(12, project=project)
    for index, item in enumerate(items[:8]):
        AnnotationFactory(item=item, annotator=other, labels=["spam" if index % 2 else "ham"])
    GoldLabelFactory(item=items[0], labels=["ham"])
    lf = keyword_lf(project, "offers", "spam", "offer")
    snapshot = snapshot_create(
        project=project, user=owner, request=SnapshotRequest(formats=["csv", "jsonl"]), enqueue=False
    )
    snapshot = snapshot_build(snapshot_id=snapshot.pk)
    schedule = export_schedule_create(
        project=project, user=owner, name="nightly", request=SnapshotRequest(formats=["jsonl"]), every=1,
        period="days", crontab="", keep_last=5,
    )  # fmt: skip
    known = {
        "slug": project.slug, "item_id": items[3].pk, "user_id": other.pk, "lf_id": lf.pk, "version": 1,
        "snapshot_id": snapshot.pk, "name": "data.csv", "schedule_id": schedule.pk, "number": 1,
    }  # fmt: skip
    return World(project=project, tokens={"owner": _token("olga"), "analyst": _token("ana")}, known=known)


def _operations(schema: Any) -> Iterator[Any]:
    for result in schema.get_all_operations():
        yield result.ok()


def _fuzz(
    operation: Any, *, mode: GenerationMode, headers: dict[str, str], world: World, tally: Tally, role: str
) -> None:
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode), real=st.booleans())
    @hypothesis.settings(
        max_examples=EXAMPLES_PER_OPERATION[mode], deadline=None, derandomize=True, database=None,
        suppress_health_check=list(hypothesis.HealthCheck), phases=[hypothesis.Phase.explicit,
                                                                     hypothesis.Phase.generate],
    )  # fmt: skip
    def run(case: Any, real: bool) -> None:
        parameters = case.path_parameters or {}
        for name in parameters:
            if name == "slug" or (real and name in world.known and name not in NEVER_REAL):
                parameters[name] = world.known[name]
        response = case.call(headers=headers)
        tally.examples += 1
        tally.statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS[mode], headers=headers)
        except (Exception, BaseExceptionGroup) as failure:  # each check's failures are collected
            tally.failures.append(
                f"{role} {mode.value} {operation.label} -> {response.status_code}: {failure}"[:1500]
            )

    try:
        run()
    except hypothesis.errors.Unsatisfiable:
        # Nothing of the operation can be made invalid (no parameters, no body): only valid requests exist.
        assert mode is GenerationMode.NEGATIVE


def test_every_operation_answers_as_documented_for_an_owner_and_an_analyst(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    # given the schema, read through the application as the owner
    app = get_wsgi_application()
    owner_headers = {"Authorization": f"Token {world.tokens['owner']}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", app, headers=owner_headers)
    operations = list(_operations(schema))
    tally = Tally(operations=len(operations))

    # when the analyst's requests, then the owner's, go to every operation
    caplog.set_level(logging.ERROR, logger="django.request")  # 4xx warnings by the thousand say nothing here
    for role in ("analyst", "owner"):
        headers = {"Authorization": f"Token {world.tokens[role]}"}
        for operation in operations:
            for mode in EXAMPLES_PER_OPERATION:
                _fuzz(operation, mode=mode, headers=headers, world=world, tally=tally, role=role)

    # then nothing answered >= 500 or outside its schema
    print(
        f"\nschemathesis: {tally.operations} operations, {tally.examples} examples, statuses {dict(tally.statuses)}"
    )
    assert tally.operations >= 70
    assert tally.examples >= tally.operations * 2
    assert tally.failures == [], f"{len(tally.failures)} failures:\n" + "\n\n".join(tally.failures)

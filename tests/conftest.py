from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from projects.choices import Role
from projects.models import Membership, Project
from projects.selectors import project_labels_forget
from tests.integration.conftest import CeleryWorker, worker_start, worker_stop
from tests.plugins.real_services import RealServices
from tests.projects.factories import MembershipFactory, ProjectFactory, UserFactory

SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """../shared/data beside the project root; tests that need it skip with a clear message where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(
            f"shared data folder {SHARED_DATA} is absent (it sits beside the project on developer machines)"
        )
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Safety: ids repeat across rolled-back tests, so nothing cached by one test may reach the next."""
    cache.clear()
    project_labels_forget()


@pytest.fixture
def project(db: None) -> Project:
    return ProjectFactory()


@pytest.fixture
def member_factory(db: None) -> Callable[..., Membership]:
    """Builds a user with a role in a project: member_factory(project, Role.ANALYST)."""

    def build(project: Project, role: str = Role.ANALYST, username: str | None = None) -> Membership:
        user = UserFactory(**({"username": username} if username else {}))
        return MembershipFactory(project=project, user=user, role=role)

    return build


@pytest.fixture
def api_client_for() -> Callable[[object], APIClient]:
    def build(user: object) -> APIClient:
        client = APIClient()
        client.force_authenticate(user=user)
        return client

    return build


@pytest.fixture
def client_for() -> Callable[[object], Client]:
    """A browser-like test client logged in as the given user."""

    def build(user: object) -> Client:
        client = Client()
        client.force_login(user)  # type: ignore[arg-type]
        return client

    return build


@pytest.fixture
def owner(project: Project, member_factory: Callable[..., Membership]) -> User:
    """The owner of `project`."""
    user: User = member_factory(project, Role.OWNER).user
    return user


@pytest.fixture
def owner_client(owner: User, api_client_for: Callable[[object], APIClient]) -> APIClient:
    """An API client logged in as the owner of `project`."""
    return api_client_for(owner)


# The session's real Celery worker, shared by the integration and browser tests (one process for both).
@pytest.fixture(scope="session")
def celery_worker_process(
    real_services: RealServices, django_db_setup: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CeleryWorker]:
    """`celery worker` in its own process, on the test database and the same media folder as the tests."""
    worker = worker_start(
        real_services, nodename=f"integration@{socket.gethostname()}",
        log_path=tmp_path_factory.mktemp("celery") / "worker.log",
    )  # fmt: skip
    try:
        yield worker
    finally:
        worker_stop(worker)

"""The two front doors of a list, for the tests that read a FilterSet through both: the page and the API."""

from __future__ import annotations

from django.test import Client
from rest_framework.test import APIClient

from projects.choices import Role
from projects.models import Project
from tests.projects.factories import MembershipFactory, UserFactory


def doors_of(*projects: Project, role: str = Role.OWNER) -> tuple[Client, APIClient]:
    """A page client and an API client of one new member (an owner unless told) of the projects."""
    user = UserFactory()
    for project in projects:
        MembershipFactory(project=project, user=user, role=role)
    client, api = Client(), APIClient()
    client.force_login(user)
    api.force_authenticate(user=user)
    return client, api

"""Helpers for the management commands of every app that takes a project's slug on the command line."""

from __future__ import annotations

from core.commands import command_object_get
from projects.models import Project


def project_from_slug(slug: str) -> Project:
    """The project with this slug, or a `CommandError`: "No project with the slug '<slug>'."."""
    return command_object_get(Project, field="slug", value=slug, noun="project")

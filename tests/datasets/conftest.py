from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from projects.choices import Role
from projects.models import Membership, Project


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    """Safety: snapshot files go to this test's temporary folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def owner(project: Project, member_factory: Callable[..., Membership]) -> Any:
    return member_factory(project, Role.OWNER).user

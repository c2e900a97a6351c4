from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    """Safety: snapshot files go to this test's temporary folder."""
    settings.MEDIA_ROOT = tmp_path / "media"

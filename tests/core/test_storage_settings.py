"""Files go to an S3-compatible bucket when OVERSIGHT_S3_BUCKET is set, and to MEDIA_ROOT otherwise."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
PROBE = (
    "import django; django.setup(); from django.core.files.storage import default_storage as s; s._setup(); "
    "w = s._wrapped; print(type(w).__name__, getattr(w, 'bucket_name', ''), getattr(w, 'endpoint_url', ''))"
)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({}, "FileSystemStorage"),
        (
            {"OVERSIGHT_S3_BUCKET": "snapshots", "OVERSIGHT_S3_ENDPOINT_URL": "http://127.0.0.1:9000"},
            "S3Storage snapshots http://127.0.0.1:9000",
        ),
    ],
)
def test_the_default_storage_follows_the_environment(extra: dict[str, str], expected: str) -> None:
    # given
    env = {key: value for key, value in os.environ.items() if not key.startswith("OVERSIGHT_S3_")}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings.local", **extra})

    # when
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )

    # then
    assert result.stdout.strip() == expected

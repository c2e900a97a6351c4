"""A script run in a fresh interpreter from the repository root, for tests of what a process loads while it
starts (tests/core/test_startup.py, tests/core/test_serving.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def fresh_process_run(script: str) -> tuple[str, str]:
    """The last line the script printed, and the tail of its stderr (for an assertion's message)."""
    found = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    return found.stdout.strip().splitlines()[-1], found.stderr[-2000:]

"""The running code's version, for provenance records (snapshots): a git commit where there is one."""

from __future__ import annotations

import os
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@lru_cache(maxsize=1)
def code_version() -> str:
    """OVERSIGHT_CODE_VERSION if set (deployments), else the checkout's commit, else the package version."""
    given = os.environ.get("OVERSIGHT_CODE_VERSION", "").strip()
    if given:
        return given
    head = ROOT / ".git" / "HEAD"
    try:
        ref = head.read_text().strip()
        if ref.startswith("ref: "):
            ref_path = ROOT / ".git" / ref[5:]
            if ref_path.is_file():
                return "git:" + ref_path.read_text().strip()
            packed = ROOT / ".git" / "packed-refs"
            for line in packed.read_text().splitlines() if packed.is_file() else []:
                if line.endswith(" " + ref[5:]):
                    return "git:" + line.split(" ", 1)[0]
        elif ref:
            return "git:" + ref
    except OSError:
        pass
    try:
        return "oversight " + version("oversight")
    except PackageNotFoundError:
        return "unknown"

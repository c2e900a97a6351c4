"""Builders the import tests share: a tiny WRENCH folder written in tmp_path."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

# Per split, (text, class id, weak labels); class 0 is HAM, 1 is SPAM in label.json (WRENCH's own spelling).
TINY_WRENCH: dict[str, list[tuple[str, int, list[int]]]] = {
    "train": [("Check out my channel", 1, [1, -1]), ("Nice song", 0, [-1, 0])],
    "valid": [("Subscribe for free", 1, [1, 1]), ("Love this", 0, [-1, -1])],
    "test": [("Free money here", 1, [1, -1]), ("Great video", 0, [0, 0])],
}


@pytest.fixture
def wrench_folder(tmp_path: Path) -> Callable[..., Path]:
    """wrench_folder(records=TINY_WRENCH): a WRENCH dataset folder (label.json, one file per split, a readme
    naming its two LFs)."""

    def build(records: dict[str, list[tuple[str, int, list[int]]]] | None = None) -> Path:
        root = tmp_path / "tiny_wrench"
        root.mkdir(exist_ok=True)
        (root / "label.json").write_text(json.dumps({"0": "HAM", "1": "SPAM"}))
        (root / "readme.txt").write_text("Labeling functions list:\nkeyword_free\nshort_comment\n")
        for split, rows in (records if records is not None else TINY_WRENCH).items():
            entries: dict[str, Any] = {
                str(index): {"data": {"text": text}, "label": label, "weak_labels": weak}
                for index, (text, label, weak) in enumerate(rows)
            }
            (root / f"{split}.json").write_text(json.dumps(entries))
        return root

    return build


@pytest.fixture
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)

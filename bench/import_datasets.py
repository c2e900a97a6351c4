"""The import benchmark's datasets: a generated CSV of any size, and the SMS spam collection where present."""

from __future__ import annotations

import csv
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corpus import LABELS, SEED, SOURCES, generated_text
from harness import ROOT

SMS_PATH = ROOT.parent / "shared" / "data" / "sms_spam_uci" / "SMSSpamCollection"
GENERATED_LABELS = LABELS


@dataclass
class Dataset:
    """One source file and the import options and project labels that go with it."""

    name: str
    path: str
    rows: int
    labels: list[str]
    options: dict[str, Any] = field(default_factory=dict)
    copy_options: str = "FORMAT csv, HEADER true"
    copy_columns: list[str] = field(default_factory=list)
    # A file imported (untimed) into the project before this one: the "into a project already holding N
    # items" measurement. Its ids differ from this file's.
    preload: str = ""


def generate_csv(path: Path, rows: int, seed: int = SEED, first_id: int = 1) -> None:
    """Writes `rows` deterministic items: id (from `first_id`), text of 60-200 characters, a label (80% of
    rows), a source."""
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["id", "text", "label", "source"])
        for index in range(first_id, first_id + rows):
            text = generated_text(rng)
            label = rng.choice(GENERATED_LABELS) if rng.random() < 0.8 else ""
            writer.writerow([f"doc-{index:07d}", text, label, rng.choice(SOURCES)])


def generated_dataset(rows: int, scratch: Path) -> Dataset:
    path = scratch / f"generated-{rows}.csv"
    started = time.perf_counter()
    generate_csv(path, rows)
    size_mb = path.stat().st_size / 1e6
    print(f"generated {rows:,} rows ({size_mb:.0f} MB) in {time.perf_counter() - started:.1f} s: {path}")
    return Dataset(
        name="generated", path=str(path), rows=rows, labels=GENERATED_LABELS,
        options={"format": "csv", "id_field": "id", "label_field": "label"},
        copy_columns=["id", "text", "label", "source"],
    )  # fmt: skip


def existing_dataset(generated: Dataset, scratch: Path) -> Dataset:
    """N more generated rows (ids after the first file's), imported into a project that holds the first file."""
    path = scratch / f"generated-more-{generated.rows}.csv"
    started = time.perf_counter()
    generate_csv(path, generated.rows, seed=SEED + 1, first_id=generated.rows + 1)
    print(f"generated {generated.rows:,} more rows in {time.perf_counter() - started:.1f} s: {path}")
    return Dataset(
        name="generated_into_existing", path=str(path), rows=generated.rows, labels=generated.labels,
        options=dict(generated.options), copy_columns=generated.copy_columns, preload=generated.path,
    )  # fmt: skip


def sms_dataset() -> Dataset | None:
    if not SMS_PATH.is_file():
        print(f"SKIPPED the SMS collection: {SMS_PATH} is absent (it lives in ../shared/data).")
        return None
    with SMS_PATH.open("rb") as stream:
        rows = sum(1 for line in stream if line.strip())
    return Dataset(
        name="sms_spam_uci", path=str(SMS_PATH), rows=rows, labels=["ham", "spam"],
        options={"format": "csv", "delimiter": "\t", "has_header": False, "columns": ["label", "text"],
                 "label_field": "label"},
        # TSV has no quoting: a quote character that never occurs makes COPY read every byte literally.
        copy_options="FORMAT csv, DELIMITER E'\\t', QUOTE E'\\x01'", copy_columns=["label", "text"],
    )  # fmt: skip


def datasets_build(wanted: set[str], rows: int, scratch: Path) -> list[Dataset]:
    found = [generated_dataset(rows, scratch)] if wanted & {"generated", "generated_into_existing"} else []
    if "generated_into_existing" in wanted:
        found.append(existing_dataset(found[0], scratch))
    if "generated" not in wanted:
        found = found[1:]
    sms = sms_dataset() if "sms_spam_uci" in wanted else None
    return [*found, sms] if sms else found

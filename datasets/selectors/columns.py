"""A chunk of snapshot rows, held column by column: what the row reader yields and the writers take."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class RowChunk:
    """A chunk of snapshot rows, column by column (the layout Parquet and Arrow want)."""

    item_id: list[int] = field(default_factory=list)
    external_id: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    metadata: list[str] = field(default_factory=list)  # JSON text, as the database keeps it
    label: list[str] = field(default_factory=list)  # the label, or labels joined by "|" (multi-label)
    labels: list[list[str]] = field(default_factory=list)
    label_source: list[str] = field(default_factory=list)
    soft_label: list[list[float]] = field(default_factory=list)  # probabilities in the schema's label order
    confidence: list[float] = field(default_factory=list)
    n_annotators: list[int] = field(default_factory=list)
    agreement: list[float | None] = field(default_factory=list)
    split: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.item_id)

    def row(self, index: int) -> dict[str, Any]:
        return {name: getattr(self, name)[index] for name in ROW_FIELDS}


ROW_FIELDS = [
    "item_id", "external_id", "text", "metadata", "label", "labels", "label_source", "soft_label", "confidence",
    "n_annotators", "agreement", "split",
]  # fmt: skip

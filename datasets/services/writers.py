"""Writers for a snapshot's files, into a local scratch folder: Parquet (with a declared schema), JSON Lines,
CSV, and a Hugging Face `datasets` layout (one Parquet file per split under data/, with a dataset card)."""

from __future__ import annotations

import csv
import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Iterable
from json.encoder import encode_basestring as _string  # what json.dumps uses, in C
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from core.csv_safety import csv_cells_safe
from datasets.choices import ExportFormat
from datasets.selectors import ROW_FIELDS, RowChunk

SCHEMA = pa.schema(
    [
        pa.field("item_id", pa.int64(), nullable=False),
        pa.field("external_id", pa.string(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("metadata", pa.string(), nullable=False, metadata={"format": "json"}),
        pa.field("label", pa.string(), nullable=False),
        pa.field("labels", pa.list_(pa.string()), nullable=False),
        pa.field("label_source", pa.string(), nullable=False),
        pa.field("soft_label", pa.list_(pa.float32()), nullable=False),
        pa.field("confidence", pa.float32(), nullable=False),
        pa.field("n_annotators", pa.int32(), nullable=False),
        pa.field("agreement", pa.float32(), nullable=True),
        pa.field("split", pa.string(), nullable=False),
    ]
)
SCHEMA_DESCRIPTION = {
    "item_id": "the item's id in Oversight",
    "external_id": "the item's id in the imported data",
    "text": "the item's text",
    "metadata": "the item's metadata, as a JSON object",
    "label": "the final label; in multi-label projects the labels joined by |",
    "labels": "the final labels, as a list",
    "label_source": "adjudicated, gold (a known answer, or every annotator agreed), majority, weak (the label "
    "model), end_model (the classifier trained on the label model's answers, for items no LF covers) or "
    "inferred (truth inference, every source weighed by its estimated reliability)",
    "soft_label": "probabilities per label, in the order of the manifest's labels",
    "confidence": "how sure the label is: 1 for gold labels, the share of votes, the label model's probability "
    "or truth inference's posterior",
    "n_annotators": "how many people labeled the item",
    "agreement": "the share of those people whose answer equals the final label (empty when nobody labeled it)",
    "split": "train, valid or test; an item keeps its split in every version",
}
PARQUET_COMPRESSION = "zstd"


def chunk_table(chunk: RowChunk) -> pa.Table:
    return pa.table({name: getattr(chunk, name) for name in ROW_FIELDS}, schema=SCHEMA)


def file_digest(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return path.stat().st_size, digest.hexdigest()


class Sink(ABC):
    """Receives the snapshot's rows chunk by chunk and writes one format's files under `folder`."""

    format: str = ""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @abstractmethod
    def write(self, chunk: RowChunk, table: pa.Table, lines: list[str]) -> None: ...

    @abstractmethod
    def close(self) -> list[tuple[str, str]]:
        """Finishes the files; returns (format, name relative to the folder) for each."""


class ParquetSink(Sink):
    format = ExportFormat.PARQUET
    name = "data.parquet"

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.writer = pq.ParquetWriter(folder / self.name, SCHEMA, compression=PARQUET_COMPRESSION)

    def write(self, chunk: RowChunk, table: pa.Table, lines: list[str]) -> None:
        self.writer.write_table(table)

    def close(self) -> list[tuple[str, str]]:
        self.writer.close()
        return [(self.format, self.name)]


class JsonlSink(Sink):
    format = ExportFormat.JSONL
    name = "data.jsonl"

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.handle: IO[str] = (folder / self.name).open("w", encoding="utf-8", newline="\n")

    def write(self, chunk: RowChunk, table: pa.Table, lines: list[str]) -> None:
        self.handle.writelines(lines)

    def close(self) -> list[tuple[str, str]]:
        self.handle.close()
        return [(self.format, self.name)]


class CsvSink(Sink):
    format = ExportFormat.CSV
    name = "data.csv"

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.handle: IO[str] = (folder / self.name).open("w", encoding="utf-8", newline="")
        self.writer = csv.writer(self.handle)
        self.writer.writerow(ROW_FIELDS)

    def write(self, chunk: RowChunk, table: pa.Table, lines: list[str]) -> None:
        # Every text column goes through csv_cells_safe (formula cells; core/csv_safety.py), numbers do not.
        rows = zip(
            chunk.item_id, csv_cells_safe(chunk.external_id), csv_cells_safe(chunk.text),
            csv_cells_safe(chunk.metadata), csv_cells_safe(chunk.label),
            csv_cells_safe("|".join(labels) for labels in chunk.labels), chunk.label_source,
            (json.dumps(soft) for soft in chunk.soft_label), chunk.confidence, chunk.n_annotators,
            ("" if value is None else value for value in chunk.agreement), chunk.split,
            strict=True,
        )  # fmt: skip
        self.writer.writerows(rows)

    def close(self) -> list[tuple[str, str]]:
        self.handle.close()
        return [(self.format, self.name)]


class HuggingFaceSink(Sink):
    """`datasets.load_dataset("parquet", data_files={"train": ".../hf/data/train-00000-of-00001.parquet", ...})`,
    or `load_dataset(".../hf")` on the folder: the card's YAML names the files of each split."""

    format = ExportFormat.HF

    def __init__(self, folder: Path, *, card: str = "") -> None:
        super().__init__(folder)
        (folder / "hf" / "data").mkdir(parents=True, exist_ok=True)
        self.writers: dict[str, pq.ParquetWriter] = {}
        self.card = card

    def _path(self, split: str) -> str:
        return f"hf/data/{split}-00000-of-00001.parquet"

    def write(self, chunk: RowChunk, table: pa.Table, lines: list[str]) -> None:
        splits = table.column("split")
        for split in sorted(set(chunk.split)):
            writer = self.writers.get(split)
            if writer is None:
                writer = pq.ParquetWriter(
                    self.folder / self._path(split), SCHEMA, compression=PARQUET_COMPRESSION
                )
                self.writers[split] = writer
            writer.write_table(table.filter(pc.equal(splits, split)))

    def close(self) -> list[tuple[str, str]]:
        for writer in self.writers.values():
            writer.close()
        configs = "\n".join(
            f"  - split: {split}\n    path: {self._path(split)[3:]}" for split in sorted(self.writers)
        )
        card = f"---\nconfigs:\n- config_name: default\n  data_files:\n{configs}\n---\n\n{self.card}\n"
        (self.folder / "hf" / "README.md").write_text(card, encoding="utf-8")
        names = [self._path(split) for split in sorted(self.writers)]
        return [(self.format, name) for name in [*names, "hf/README.md"]]


def sink_for(fmt: str, folder: Path, *, card: str = "") -> Sink:
    if fmt == ExportFormat.PARQUET:
        return ParquetSink(folder)
    if fmt == ExportFormat.JSONL:
        return JsonlSink(folder)
    if fmt == ExportFormat.CSV:
        return CsvSink(folder)
    if fmt == ExportFormat.HF:
        return HuggingFaceSink(folder, card=card)
    raise ValueError(f"Unknown format {fmt}")


def _optional(value: float | None) -> str:
    return "" if value is None else repr(value)


# Every field but the database's item id, so that the same data gives the same hash wherever it lives.
HASHED_FIELDS = [name for name in ROW_FIELDS if name != "item_id"]


class ContentHash:
    """The snapshot's content hash, fed chunk by chunk: the sha256 of a header and of each field's own sha256.

    A field's digest reads its values in row order, each as text and ended by U+001E: strings as they are,
    numbers as Python writes them, list items separated by U+001D (soft labels by commas), no agreement as an
    empty string. Chunk boundaries do not change it. Each field is joined in C (str.join), where a document
    per row would cost seconds at a million rows; rows that share a label list have it written once.
    """

    def __init__(self, header: str) -> None:
        self.header = header
        self.fields = {name: hashlib.sha256() for name in HASHED_FIELDS}

    def update(self, chunk: RowChunk) -> None:
        if not len(chunk):
            return
        for name, values in _hash_columns(chunk).items():
            self.fields[name].update(("\x1e".join(values) + "\x1e").encode())

    def hexdigest(self) -> str:
        total = hashlib.sha256(self.header.encode())
        for name in HASHED_FIELDS:
            total.update(f"{name}\x1f{self.fields[name].hexdigest()}\x1e".encode())
        return total.hexdigest()


def _hash_columns(chunk: RowChunk) -> dict[str, Iterable[str]]:
    written: dict[int, str] = {}  # shared lists, written once (all alive in the chunk: ids are unique)

    def joined(values: list[str]) -> str:
        text = written.get(id(values))
        if text is None:
            text = written[id(values)] = "\x1d".join(values)
        return text

    def floats(values: list[float]) -> str:
        text = written.get(id(values))
        if text is None:
            text = written[id(values)] = ",".join(map(repr, values))
        return text

    return {
        "external_id": chunk.external_id, "text": chunk.text, "metadata": chunk.metadata, "label": chunk.label,
        "labels": map(joined, chunk.labels), "label_source": chunk.label_source,
        "soft_label": map(floats, chunk.soft_label), "confidence": map(repr, chunk.confidence),
        "n_annotators": map(str, chunk.n_annotators), "agreement": map(_optional, chunk.agreement),
        "split": chunk.split,
    }  # fmt: skip


def jsonl_lines(chunk: RowChunk) -> list[str]:
    """One JSON object per row (sorted keys, compact, the item id last).

    Built by hand from the string encoder json.dumps itself uses: the same text as
    `json.dumps(row, sort_keys=True, ensure_ascii=False, separators=(",", ":"))` with the item id moved to the
    end (a test holds them equal), at a quarter of the cost, which matters at a million rows.
    """
    lines: list[str] = []
    columns = zip(
        chunk.agreement, chunk.confidence, chunk.external_id, chunk.label, chunk.label_source, chunk.labels,
        chunk.metadata, chunk.n_annotators, chunk.soft_label, chunk.split, chunk.text, chunk.item_id, strict=True,
    )  # fmt: skip
    for (
        agreement,
        confidence,
        external_id,
        label,
        source,
        labels,
        metadata,
        annotators,
        soft,
        split,
        text,
        pk,
    ) in columns:
        line = (
            f'{{"agreement":{"null" if agreement is None else repr(agreement)},"confidence":{confidence!r},'
            f'"external_id":{_string(external_id)},"label":{_string(label)},"label_source":{_string(source)},'
            f'"labels":[{",".join(map(_string, labels))}],"metadata":{_string(metadata)},'
            f'"n_annotators":{annotators},"soft_label":[{",".join(map(repr, soft))}],"split":{_string(split)},'
            f'"text":{_string(text)}}}'
        )
        lines.append(f'{line[:-1]},"item_id":{pk}}}\n')
    return lines


def fewshot_write(folder: Path, k: int, rows: list[dict[str, Any]]) -> tuple[str, str]:
    name = f"fewshot/k{k}.jsonl"
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        handle.writelines(json.dumps(row, sort_keys=True, ensure_ascii=False) + "\n" for row in rows)
    return "fewshot", name

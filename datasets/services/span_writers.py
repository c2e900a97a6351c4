"""A span project's snapshot files: Parquet, JSON Lines and CSV rows with each item's spans (code-point
offsets into its text, type, quoted text), and a Hugging Face token-classification dataset (one Parquet file
per split under hf/data/: `tokens`, and `ner_tags` as a sequence of ClassLabel ids whose names are O, B-type,
I-type per entity type in schema order, core.spans.bio_label_names), whose features `datasets` reads from the
files' own metadata: `datasets.load_dataset("parquet", data_files=...)` gives Sequence(ClassLabel(names=...)).

The rows are chosen by datasets.selectors.span_rows; splits are given and kept as for item projects
(datasets.services.splits: an item keeps its split in every version)."""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from core.csv_safety import csv_cells_safe
from core.spans import bio_label_names, bio_tags
from datasets.choices import ExportFormat
from datasets.selectors.span_rows import SpanRowChunk
from datasets.services.manifests import Tally
from datasets.services.writers import PARQUET_COMPRESSION, ContentHash

_SPAN = pa.struct(
    [
        pa.field("start", pa.int32(), nullable=False),
        pa.field("end", pa.int32(), nullable=False),
        pa.field("label", pa.string(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
    ]
)
SPAN_SCHEMA = pa.schema(
    [
        pa.field("item_id", pa.int64(), nullable=False),
        pa.field("external_id", pa.string(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("metadata", pa.string(), nullable=False, metadata={"format": "json"}),
        pa.field("spans", pa.list_(_SPAN), nullable=False),
        pa.field("labels", pa.list_(pa.string()), nullable=False),
        pa.field("label_source", pa.string(), nullable=False),
        pa.field("confidence", pa.float32(), nullable=False),
        pa.field("n_annotators", pa.int32(), nullable=False),
        pa.field("agreement", pa.float32(), nullable=True),
        pa.field("split", pa.string(), nullable=False),
        pa.field("tokens", pa.list_(pa.string()), nullable=False),
        pa.field("ner_tags", pa.list_(pa.string()), nullable=False),
    ]
)
SPAN_FIELDS = SPAN_SCHEMA.names
SPAN_SCHEMA_DESCRIPTION = {
    "item_id": "the item's id in Oversight",
    "external_id": "the item's id in the imported data",
    "text": "the item's text",
    "metadata": "the item's metadata, as a JSON object",
    "spans": "the final spans in text order: start and end in code points of the text (end exclusive), the "
    "entity type's key, and the text they cover",
    "labels": "the entity types the spans hold, in schema order (empty: no entities)",
    "label_source": "adjudicated, gold (a known answer, or every annotator marked the same spans), majority (the "
    "spans most annotators marked) or weak (the label model's spans)",
    "confidence": "1 for gold spans; the smallest share of annotators behind a majority span; the weak spans' "
    "confidence",
    "n_annotators": "how many people answered the item",
    "agreement": "the share of those people whose spans are exactly the final ones (empty when nobody answered)",
    "split": "train, valid or test; an item keeps its split in every version",
    "tokens": "the item's tokens: those its import gave, else Oversight's tokenizer's",
    "ner_tags": "a BIO tag per token (B-type opens a span, I-type continues it, O is outside any)",
}


def ner_tag_names(label_keys: list[str]) -> list[str]:
    return bio_label_names(label_keys)


def _hf_features(names: list[str]) -> bytes:
    """The `datasets` features of the token-classification files, as its Parquet reader finds them."""
    string = {"dtype": "string", "_type": "Value"}
    features = {
        "id": string,
        "text": string,
        "tokens": {"feature": string, "_type": "Sequence"},
        "ner_tags": {"feature": {"names": names, "_type": "ClassLabel"}, "_type": "Sequence"},
    }
    return json.dumps({"info": {"features": features}}).encode()


HF_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string()),
        pa.field("text", pa.string()),
        pa.field("tokens", pa.list_(pa.string())),
        pa.field("ner_tags", pa.list_(pa.int64())),
    ]
)


@dataclass
class SpanTable:
    """A chunk's rows as an Arrow table (SPAN_SCHEMA), its BIO tags per row, and its JSON lines."""

    chunk: SpanRowChunk
    table: pa.Table
    tags: list[list[str]]
    tokens: list[list[str]]

    def jsonl_lines(self) -> list[str]:
        """One JSON object per row: sorted keys, compact, metadata as an object."""
        rows = self.table.drop_columns(["tokens", "ner_tags"]).to_pylist()
        lines: list[str] = []
        for row in rows:
            row["metadata"] = json.loads(row["metadata"])
            row["confidence"] = self.chunk.confidence[len(lines)]
            row["agreement"] = self.chunk.agreement[len(lines)]
            lines.append(json.dumps(row, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n")
        return lines


def span_table(chunk: SpanRowChunk) -> SpanTable:
    tags = [bio_tags(offsets, spans) for offsets, spans in zip(chunk.token_offsets, chunk.spans, strict=True)]
    tokens = [
        [text[s:e] for s, e in offsets] for text, offsets in zip(chunk.text, chunk.token_offsets, strict=True)
    ]
    columns: dict[str, Any] = {
        name: getattr(chunk, name) for name in SPAN_FIELDS if name not in ("tokens", "ner_tags")
    }
    columns["tokens"], columns["ner_tags"] = tokens, tags
    return SpanTable(chunk, pa.table(columns, schema=SPAN_SCHEMA), tags, tokens)


class SpanContentHash(ContentHash):
    """The item rows' content hash (datasets.services.writers.ContentHash) with the spans and tokens hashed
    too: the same spans on the same texts give the same hash wherever they live."""

    def __init__(self, header: str) -> None:
        super().__init__(header)
        self.spans = hashlib.sha256()

    def update(self, chunk: SpanRowChunk) -> None:  # type: ignore[override]
        super().update(chunk)
        for spans, offsets in zip(chunk.spans, chunk.token_offsets, strict=True):
            text = json.dumps([spans, offsets], sort_keys=True, separators=(",", ":"))
            self.spans.update((text + "\x1e").encode())

    def hexdigest(self) -> str:
        total = hashlib.sha256(super().hexdigest().encode())
        total.update(f"spans\x1f{self.spans.hexdigest()}".encode())
        return total.hexdigest()


def span_tally(header: str) -> Tally:
    tally = Tally(header)
    tally.digest = SpanContentHash(header)
    return tally


class SpanSink:
    """One format's files of a span snapshot."""

    def __init__(self, fmt: str, folder: Path, *, tag_names: list[str], card: str = "") -> None:
        self.format, self.folder, self.card = fmt, folder, card
        self.ids = {name: index for index, name in enumerate(tag_names)}
        self.features = _hf_features(tag_names)
        self.writers: dict[str, pq.ParquetWriter] = {}
        self.handle: IO[str] | None = None
        self.csv: Any = None
        if fmt == ExportFormat.PARQUET:
            self.writers[""] = pq.ParquetWriter(
                folder / "data.parquet", SPAN_SCHEMA, compression=PARQUET_COMPRESSION
            )
        elif fmt == ExportFormat.JSONL:
            self.handle = (folder / "data.jsonl").open("w", encoding="utf-8", newline="\n")
        elif fmt == ExportFormat.CSV:
            self.handle = (folder / "data.csv").open("w", encoding="utf-8", newline="")
            self.csv = csv.writer(self.handle)
            self.csv.writerow(SPAN_FIELDS)
        elif fmt == ExportFormat.HF:
            (folder / "hf" / "data").mkdir(parents=True, exist_ok=True)
        else:
            raise ValueError(f"Unknown format {fmt}")

    def write(self, table: SpanTable) -> None:
        if self.format == ExportFormat.PARQUET:
            self.writers[""].write_table(table.table)
        elif self.format == ExportFormat.JSONL and self.handle is not None:
            self.handle.writelines(table.jsonl_lines())
        elif self.format == ExportFormat.CSV:
            self.csv.writerows(_csv_rows(table))
        else:
            self._write_hf(table)

    def _write_hf(self, table: SpanTable) -> None:
        chunk = table.chunk
        hf = pa.table(
            {"id": chunk.external_id, "text": chunk.text, "tokens": table.tokens,
             "ner_tags": [[self.ids[tag] for tag in tags] for tags in table.tags]},
            schema=HF_SCHEMA.with_metadata({b"huggingface": self.features}),
        )  # fmt: skip
        splits = pa.array(chunk.split)
        for split in sorted(set(chunk.split)):
            writer = self.writers.get(split)
            if writer is None:
                writer = pq.ParquetWriter(
                    self.folder / _hf_path(split), hf.schema, compression=PARQUET_COMPRESSION
                )
                self.writers[split] = writer
            writer.write_table(hf.filter(pc.equal(splits, split)))

    def close(self) -> list[tuple[str, str]]:
        for writer in self.writers.values():
            writer.close()
        if self.handle is not None:
            self.handle.close()
        if self.format == ExportFormat.PARQUET:
            return [(self.format, "data.parquet")]
        if self.format == ExportFormat.JSONL:
            return [(self.format, "data.jsonl")]
        if self.format == ExportFormat.CSV:
            return [(self.format, "data.csv")]
        splits = sorted(self.writers)
        configs = "\n".join(f"  - split: {split}\n    path: {_hf_path(split)[3:]}" for split in splits)
        card = f"---\nconfigs:\n- config_name: default\n  data_files:\n{configs}\n---\n\n{self.card}\n"
        (self.folder / "hf" / "README.md").write_text(card, encoding="utf-8")
        return [(self.format, name) for name in [*map(_hf_path, splits), "hf/README.md"]]


def _hf_path(split: str) -> str:
    return f"hf/data/{split}-00000-of-00001.parquet"


def _csv_rows(table: SpanTable) -> Iterator[list[Any]]:
    """Text cells go through csv_cells_safe (formula cells, core/csv_safety.py); lists are JSON."""
    chunk = table.chunk
    texts = zip(
        csv_cells_safe(chunk.external_id), csv_cells_safe(chunk.text), csv_cells_safe(chunk.metadata),
        csv_cells_safe(json.dumps(spans, ensure_ascii=False) for spans in chunk.spans), strict=True,
    )  # fmt: skip
    for index, (external_id, text, metadata, spans) in enumerate(texts):
        agreement = chunk.agreement[index]
        yield [
            chunk.item_id[index], external_id, text, metadata, spans, "|".join(chunk.labels[index]),
            chunk.label_source[index], chunk.confidence[index], chunk.n_annotators[index],
            "" if agreement is None else agreement, chunk.split[index],
            json.dumps(table.tokens[index], ensure_ascii=False), " ".join(table.tags[index]),
        ]  # fmt: skip

"""Streaming readers: each yields (line_or_record_number, record dict) with bounded memory."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import ijson
import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings

from imports.parsing.errors import ImportFileError
from imports.parsing.json_stream import JsonTooDeepError, json_array_items, json_document, json_object_items
from projects.choices import ImportFormat

# Bytes a CSV is read by: its lines are checked and decoded a chunk at a time (one bytes.count, one decode),
# and only a chunk that holds a problem is walked line by line, to name the line.
CSV_CHUNK_BYTES = 1 << 20
# Records per Parquet batch: 10k rows of short text is a few MB of Python objects.
PARQUET_BATCH_ROWS = 10_000
_EXTENSIONS = {
    ".csv": ImportFormat.CSV,
    ".tsv": ImportFormat.CSV,
    ".jsonl": ImportFormat.JSONL,
    ".ndjson": ImportFormat.JSONL,
    ".json": ImportFormat.JSON,
    ".parquet": ImportFormat.PARQUET,
    ".pq": ImportFormat.PARQUET,
    ".zip": ImportFormat.WRENCH,
    ".conll": ImportFormat.CONLL,
}
WRENCH_SPLITS = {"train": "train", "valid": "valid", "test": "test"}
# label.json and readme.txt are a few lines; anything much larger is not a WRENCH dataset's.
WRENCH_SMALL_FILE_BYTES = 1024 * 1024
ERROR_LINE_TOO_LONG = (
    "longer than {limit:,} bytes; no line of a CSV or JSONL file may be (IMPORT_MAX_LINE_BYTES)."
)
ERROR_WRENCH_SEQUENCE_HINT = (
    " This one has a meta.json and no label.json, as a sequence-tagging (named-entity) dataset has: import it into "
    "a span project."
)
ERROR_NUL = "holds a NUL byte (\\x00), which no text may contain; remove it and import again."


@dataclass
class Progress:
    """Shared between a reader and its caller: how far through the source the reader is (0..1)."""

    fraction: float = 0.0


@dataclass
class ReaderOptions:
    delimiter: str | None = None
    has_header: bool = True
    columns: list[str] = field(default_factory=list)


def infer_format(path: Path) -> str:
    if path.is_dir():
        return ImportFormat.WRENCH
    fmt = _EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        raise ImportFileError(
            f"Cannot tell the format of '{path.name}' from its name; give one of: "
            f"{', '.join(ImportFormat.values)}."
        )
    return fmt


def _decoded_lines(stream: IO[bytes], size: int, progress: Progress) -> Iterator[tuple[int, str]]:
    """The file's lines, decoded; a line longer than the limit, not UTF-8 or holding NUL is refused first."""
    done = number = 0
    limit = settings.IMPORT_MAX_LINE_BYTES
    readline, cap = stream.readline, limit + 1
    # readline(cap): a file without line breaks never costs more than one line's worth of memory.
    while raw := readline(cap):
        number += 1
        done += len(raw)
        if len(raw) > limit:
            raise ImportFileError(ERROR_LINE_TOO_LONG.format(limit=limit), line=number)
        if b"\x00" in raw:
            raise ImportFileError(ERROR_NUL, line=number)
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            raise ImportFileError(
                f"not valid UTF-8 (byte {exc.start + 1} of the line). Save the file as UTF-8.", line=number
            ) from exc
        if size:
            progress.fraction = done / size
        yield number, line


def _decoded_chunks(stream: IO[bytes], size: int, progress: Progress) -> Iterator[str]:
    """The file's complete lines, decoded, a chunk of them at a time; the same checks as _decoded_lines (a line
    longer than the limit, not UTF-8 or holding NUL is refused, with its number), in the same order."""
    limit = settings.IMPORT_MAX_LINE_BYTES
    read, carry, lines_before, done, first = stream.read, b"", 0, 0, True
    while True:
        data = read(CSV_CHUNK_BYTES)
        done += len(data)
        buffer = carry + data if carry else data
        if data:
            cut = buffer.rfind(b"\n") + 1
            if cut == 0:  # no line ends yet: the line so far is carried, as long as it may be
                if len(buffer) > limit:
                    raise ImportFileError(ERROR_LINE_TOO_LONG.format(limit=limit), line=lines_before + 1)
                carry = buffer
                continue
            complete, carry = buffer[:cut], buffer[cut:]
            if len(carry) > limit:
                complete += carry[: limit + 1]  # the too-long line is found (and named) below
        else:
            complete, carry = buffer, b""
            if not complete:
                return
        text = _chunk_decoded(complete, limit, lines_before, first)
        lines_before += complete.count(b"\n")
        first = False
        if size:
            progress.fraction = done / size
        yield text


def _chunk_decoded(complete: bytes, limit: int, lines_before: int, first: bool) -> str:
    if b"\x00" not in complete and (len(complete) <= limit or _longest_line(complete) <= limit):
        try:
            return complete.decode("utf-8-sig" if first else "utf-8")
        except UnicodeDecodeError:
            pass
    # Something in this chunk is refused: the line-by-line reader names the first line at fault.
    for _ in _decoded_lines(_Renumbered(complete, lines_before), 0, Progress()):
        pass
    raise AssertionError("a chunk refused as a whole passed line by line")  # pragma: no cover


def _longest_line(chunk: bytes) -> int:
    return max(map(len, chunk.split(b"\n"))) + 1


class _Renumbered(io.BytesIO):
    """A chunk's lines, read after `skipped` empty lines so that _decoded_lines numbers them as in the file
    (and decodes the first with utf-8-sig only where it is the file's first)."""

    def __init__(self, chunk: bytes, skipped: int) -> None:
        super().__init__(chunk)
        self._skipped = skipped

    def readline(self, size: int | None = -1) -> bytes:
        if self._skipped:
            self._skipped -= 1
            return b"\n"
        return super().readline(size)


def _chunk_lines(chunks: Iterator[str]) -> Iterator[str]:
    for text in chunks:
        yield from io.StringIO(text)  # lines end at "\n" only, as the bytes' lines did


def read_csv(
    stream: IO[bytes], *, size: int, options: ReaderOptions, progress: Progress
) -> Iterator[tuple[int, dict[str, Any]]]:
    delimiter = options.delimiter or ","
    lines = _chunk_lines(_decoded_chunks(stream, size, progress))
    # A tab-separated file follows the TSV convention: no quoting, a quote is an ordinary character.
    if delimiter == "\t":
        reader = csv.reader(lines, delimiter=delimiter, quoting=csv.QUOTE_NONE, strict=True)
    else:
        reader = csv.reader(lines, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL, strict=True)
    header: list[str] | None = list(options.columns) or None
    consumed = 0  # lines the reader had taken before this record: the record starts on the next one
    try:
        for row in reader:
            start, consumed = consumed + 1, reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if header is None and options.has_header:
                header = [name.strip() for name in row]
                _check_header(header, start)
                continue
            if header is None:
                header = [f"column_{i}" for i in range(1, len(row) + 1)]
            if len(row) != len(header):
                raise ImportFileError(f"expected {len(header)} fields, found {len(row)}.", line=start)
            yield start, dict(zip(header, row))  # noqa: B905 - the lengths are equal, checked above
    except csv.Error as exc:
        raise ImportFileError(f"malformed CSV ({exc}).", line=reader.line_num) from exc


def _check_header(header: list[str], line: int) -> None:
    seen: set[str] = set()
    for name in header:
        if not name:
            raise ImportFileError("the header has an empty column name.", line=line)
        if name in seen:
            raise ImportFileError(f"the header names column '{name}' twice.", line=line)
        seen.add(name)


def read_jsonl(stream: IO[bytes], *, size: int, progress: Progress) -> Iterator[tuple[int, dict[str, Any]]]:
    limit = settings.IMPORT_JSON_MAX_DEPTH
    for number, line in _decoded_lines(stream, size, progress):
        if not line.strip():
            continue
        # A line cannot nest deeper than it has brackets: json.loads (which recurses once per level) only
        # sees lines that cannot reach the limit; the rare others go through the flat, depth-checked parser.
        shallow = line.count("[") + line.count("{") <= limit
        try:
            record = json.loads(line) if shallow else json_document(line.encode("utf-8"), limit=limit)
        except json.JSONDecodeError as exc:
            raise ImportFileError(f"malformed JSON ({exc.msg} at column {exc.colno}).", line=number) from exc
        except JsonTooDeepError as exc:
            raise ImportFileError(str(exc), line=number) from exc
        except ijson.JSONError as exc:
            raise ImportFileError(f"malformed JSON ({_ijson_reason(exc)}).", line=number) from exc
        if not isinstance(record, dict):
            raise ImportFileError("each line must be a JSON object.", line=number)
        yield number, record


class _CountingReader:
    def __init__(self, stream: IO[bytes], size: int, progress: Progress) -> None:
        self._stream, self._size, self._progress, self._done = stream, size, progress, 0

    def read(self, n: int = -1) -> bytes:
        chunk = self._stream.read(n)
        self._done += len(chunk)
        if self._size:
            self._progress.fraction = self._done / self._size
        return chunk


def read_json_array(
    stream: IO[bytes], *, size: int, progress: Progress
) -> Iterator[tuple[int, dict[str, Any]]]:
    number = 0
    records = json_array_items(_CountingReader(stream, size, progress), limit=settings.IMPORT_JSON_MAX_DEPTH)
    try:
        for number, record in enumerate(records, 1):
            if not isinstance(record, dict):
                raise ImportFileError(
                    "each element of the array must be a JSON object.", line=number, where="Record"
                )
            yield number, record
    except JsonTooDeepError as exc:
        raise ImportFileError(str(exc), line=number + 1, where="Record") from exc
    except ijson.JSONError as exc:
        raise ImportFileError(f"malformed JSON after record {number} ({_ijson_reason(exc)}).") from exc
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"not valid UTF-8 after record {number}. Save the file as UTF-8.") from exc
    if number == 0:
        raise ImportFileError("the file must hold a JSON array of objects, and this one holds none.")


def _ijson_reason(exc: Exception) -> str:
    """yajl's message on one line, without the excerpt of the input it quotes (which may be binary)."""
    text = exc.args[0] if exc.args else str(exc)
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    first = str(text).strip().splitlines()[0] if str(text).strip() else type(exc).__name__
    return first[:200]


def read_parquet(path: Path, *, progress: Progress) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise ImportFileError(f"not a readable Parquet file ({exc}).") from exc
    _check_parquet(parquet)
    total = parquet.metadata.num_rows or 1
    number = 0
    try:
        for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS):
            for record in batch.to_pylist():
                number += 1
                yield number, record
            progress.fraction = number / total
    except (pa.ArrowException, OSError) as exc:
        raise ImportFileError(f"the Parquet file is damaged after row {number} ({exc}).") from exc


def _check_parquet(parquet: pq.ParquetFile) -> None:
    """What the footer says is checked before any data is decoded: nesting depth and row-group size."""
    limit = settings.IMPORT_JSON_MAX_DEPTH
    for column in parquet.schema_arrow:
        if _arrow_depth(column.type) > limit:
            raise ImportFileError(f"column '{column.name}' is nested more than {limit} levels deep.")
    biggest = settings.IMPORT_PARQUET_MAX_ROW_GROUP_BYTES
    for index in range(parquet.metadata.num_row_groups):
        size = parquet.metadata.row_group(index).total_byte_size
        if size > biggest:
            raise ImportFileError(
                f"row group {index + 1} holds {size:,} bytes uncompressed, more than the {biggest:,} an import "
                "reads at once (IMPORT_PARQUET_MAX_ROW_GROUP_BYTES); write the file with smaller row groups."
            )


def _arrow_depth(kind: pa.DataType) -> int:
    """Nesting of an Arrow type (a flat column is 0), walked with a stack rather than recursion."""
    deepest, pending = 0, [(kind, 0)]
    while pending:
        current, depth = pending.pop()
        deepest = max(deepest, depth)
        pending.extend((current.field(i).type, depth + 1) for i in range(current.num_fields))
    return deepest


@dataclass
class WrenchFolder:
    """The parts of a WRENCH dataset folder: label names and the LF names from its readme."""

    root: Path
    label_names: dict[int, str]
    lf_names: list[str]


def open_wrench_folder(path: Path) -> WrenchFolder:
    root = path
    if not (root / "label.json").is_file():
        candidates = (
            [child for child in root.iterdir() if (child / "label.json").is_file()] if root.is_dir() else []
        )
        if len(candidates) != 1:
            raise ImportFileError(
                "a WRENCH dataset is a folder holding label.json and train.json, valid.json, test.json."
                + (ERROR_WRENCH_SEQUENCE_HINT if (root / "meta.json").is_file() else "")
            )
        root = candidates[0]
    label_file = root / "label.json"
    if label_file.stat().st_size > WRENCH_SMALL_FILE_BYTES:
        raise ImportFileError(f"label.json is larger than {WRENCH_SMALL_FILE_BYTES:,} bytes.")
    try:
        with label_file.open("rb") as stream:
            raw = json_document(stream, limit=settings.IMPORT_JSON_MAX_DEPTH)
        label_names = {int(key): str(value) for key, value in raw.items()}
    except (ValueError, AttributeError, ijson.JSONError) as exc:
        raise ImportFileError(f"label.json must map class ids to names ({_ijson_reason(exc)}).") from exc
    if not any((root / f"{split}.json").is_file() for split in WRENCH_SPLITS):
        raise ImportFileError("the WRENCH folder holds none of train.json, valid.json, test.json.")
    return WrenchFolder(root=root, label_names=label_names, lf_names=_wrench_lf_names(root))


def _wrench_lf_names(root: Path) -> list[str]:
    """LF names listed in the readme ('Labeling functions list:' then one identifier a line), if any."""
    readme = root / "readme.txt"
    if not readme.is_file() or readme.stat().st_size > WRENCH_SMALL_FILE_BYTES:
        return []
    names: list[str] = []
    listing = False
    for line in readme.read_text("utf-8", errors="replace").splitlines():
        if re.match(r"\s*labeling functions list\s*:", line, re.IGNORECASE):
            listing = True
            continue
        if listing:
            match = re.fullmatch(r"\s*([A-Za-z_][\w]*)\s*,?\s*", line)
            if match:
                names.append(match.group(1))
            elif names:
                break
    return names


def wrench_entries(root: Path, *, progress: Progress) -> Iterator[tuple[int, str, str, str, Any]]:
    """The records of a WRENCH folder's train.json, valid.json and test.json, in that order, streamed: (number
    from 1 across the files, split, file name, key, entry), with the read's progress kept up to date."""
    files = [(split, root / f"{split}.json") for split in WRENCH_SPLITS]
    files = [(split, file) for split, file in files if file.is_file()]
    total = sum(file.stat().st_size for _, file in files) or 1
    done = 0
    number = 0
    for split, file in files:
        size = file.stat().st_size
        with file.open("rb") as stream:
            counting = _CountingReader(stream, 0, progress)
            try:
                for key, entry in json_object_items(counting, limit=settings.IMPORT_JSON_MAX_DEPTH):
                    number += 1
                    progress.fraction = (done + counting._done) / total
                    yield number, split, file.name, key, entry
            except JsonTooDeepError as exc:
                raise ImportFileError(f"{file.name}, after record {number}: {exc}") from exc
            except ijson.JSONError as exc:
                raise ImportFileError(f"{file.name} is malformed JSON ({_ijson_reason(exc)}).") from exc
            except UnicodeDecodeError as exc:
                raise ImportFileError(f"{file.name} is not valid UTF-8 after record {number}.") from exc
        done += size


def read_wrench(folder: WrenchFolder, *, progress: Progress) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, split, name, key, entry in wrench_entries(folder.root, progress=progress):
        yield number, _wrench_record(folder, split, name, key, entry)


def _wrench_record(folder: WrenchFolder, split: str, filename: str, key: str, entry: Any) -> dict[str, Any]:
    where = f"{filename}, record '{key}'"
    if not isinstance(entry, dict) or not isinstance(entry.get("data"), dict):
        raise ImportFileError(f"{where}: expected an object with 'data', 'label' and 'weak_labels'.")
    data = entry["data"]
    label = entry.get("label")
    weak = entry.get("weak_labels", [])
    if not isinstance(weak, list) or not all(isinstance(vote, int) for vote in weak):
        raise ImportFileError(f"{where}: 'weak_labels' must be a list of integers.")
    record = {key_: value for key_, value in data.items() if key_ != "text"}
    record.update(
        {
            "id": f"{split}-{key}",
            "text": data.get("text"),
            "split": split,
            "label": _wrench_label(folder, label, where) if label is not None and label != -1 else None,
            "weak_labels": [_wrench_label(folder, vote, where) if vote != -1 else None for vote in weak],
        }
    )
    return record


def _wrench_label(folder: WrenchFolder, value: Any, where: str) -> str:
    try:
        return folder.label_names[int(value)]
    except (KeyError, ValueError, TypeError) as exc:
        raise ImportFileError(f"{where}: class {value!r} is not in label.json.") from exc

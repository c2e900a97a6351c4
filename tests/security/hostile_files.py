"""Hostile import files, built quickly at any size: the tests build small ones, bench/import.py ~100 MB ones."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

MB = 1_000_000
MIB = 1024 * 1024
WRENCH_LABELS = {"0": "ham", "1": "spam"}


def deep_json(path: Path, *, depth: int) -> Path:
    """A JSON 'array' that only opens arrays: `[` x depth (the issue's 200 KB file is depth 100,000 x 2)."""
    path.write_bytes(b"[" * depth)
    return path


def deep_jsonl(path: Path, *, depth: int, good_lines: int = 1) -> Path:
    """JSONL whose first lines are fine and whose next line nests `depth` levels deep."""
    filler = "An ordinary sentence that an analyst would label. " * 20
    good = "".join(json.dumps({"text": f"fine {index}. {filler}"}) + "\n" for index in range(good_lines))
    path.write_text(good + '{"text": "deep", "x": ' + "[" * depth + "]" * depth + "}\n", encoding="utf-8")
    return path


def csv_with_bad_last_line(path: Path, *, size: int, bad: bytes) -> tuple[Path, int]:
    """A CSV of about `size` bytes whose last line holds `bad` (a NUL, invalid UTF-8); returns its line."""
    row = b"id-%09d," + b"A perfectly ordinary sentence that an analyst would label. " * 16 + b",ham\n"
    lines = max(size // len(row % 0), 1)
    with path.open("wb") as out:
        out.write(b"id,text,label\n")
        for index in range(lines):
            out.write(row % index)
        out.write(b"id-last,bad " + bad + b" text,ham\n")
    return path, lines + 2


def jsonl_one_long_line(path: Path, *, size: int) -> Path:
    """One JSONL record of `size` bytes: no line break to stop at."""
    with path.open("wb") as out:
        out.write(b'{"text": "')
        chunk = b"x" * MIB
        left = size
        while left > 0:
            out.write(chunk[: min(left, MIB)])
            left -= MIB
        out.write(b'"}\n')
    return path


def parquet_with_values(path: Path, values: list[object]) -> Path:
    """A Parquet file whose `text` column holds `values` (a column has one type: all of them of that type)."""
    table = pa.table({"id": [f"r{index}" for index in range(len(values))], "text": pa.array(values)})
    pq.write_table(table, path)
    return path


def _deflate_repeated(chunk: bytes, count: int) -> bytes:
    """Raw deflate of `chunk` x `count`, built from one compressed copy (a full flush makes copies independent)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    return block * count + compressor.flush(zlib.Z_FINISH)


def _crc_repeated(chunk: bytes, count: int) -> int:
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(chunk, crc)
    return crc


def zip_bomb(path: Path, *, expands_to: int = 1024 * MIB, declared: int | None = None) -> Path:
    """A WRENCH-looking .zip: label.json plus a train.json of spaces that expands to `expands_to` bytes.

    `declared` (default: the truth) is the size its headers claim, for an archive that lies about it.
    Written by hand: zipfile would have to compress the whole gigabyte, this builds it from one MiB.
    """
    count = max(expands_to // MIB, 1)
    chunk = b" " * MIB
    members = [
        ("wrench/label.json", 0, json.dumps(WRENCH_LABELS).encode(), None),
        ("wrench/train.json", 8, _deflate_repeated(chunk, count), (_crc_repeated(chunk, count), count * MIB)),
    ]
    local, central = bytearray(), bytearray()
    for name, method, data, crc_size in members:
        crc, size = crc_size if crc_size else (zlib.crc32(data), len(data))
        size = declared if declared is not None and crc_size else size
        encoded, offset = name.encode(), len(local)
        local += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0, 0x21, crc, len(data), size,
                             len(encoded), 0) + encoded + data  # fmt: skip
        central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, method, 0, 0x21, crc, len(data), size,
                               len(encoded), 0, 0, 0, 0, 0, offset) + encoded  # fmt: skip
    end = struct.pack(
        "<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(central), len(local), 0
    )
    path.write_bytes(bytes(local + central + end))
    return path

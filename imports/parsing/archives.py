"""Zip archives measured before anything is extracted, then extracted member by member in bounded chunks.

Python's zipfile documentation warns that an archive may expand to far more than it weighs ("zip bombs") and
hold many small members. So the central directory is checked first (entry count, total uncompressed size,
compression ratio), only the members a WRENCH dataset uses are written, and every byte written is counted
against the declared sizes, so a member that lies about its size is caught too.
"""

from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from imports.parsing.errors import ImportFileError

CHUNK_BYTES = 1024 * 1024
# Below this uncompressed total the ratio is not checked: small text files of repeated keys compress well.
RATIO_FLOOR_BYTES = 1024 * 1024
ERROR_NOT_ZIP = "a WRENCH upload must be a .zip of the dataset folder."
ERROR_ENTRIES = (
    "the archive holds {count:,} entries; at most {limit:,} are accepted (IMPORT_ZIP_MAX_ENTRIES)."
)
ERROR_SIZE = (
    "the archive expands to {size:,} bytes; at most {limit:,} are accepted (IMPORT_ZIP_MAX_BYTES). "
    "Nothing was extracted."
)
ERROR_RATIO = (
    "the archive expands {ratio:,.0f} times ({size:,} bytes from {packed:,}); at most {limit} times is accepted "
    "(IMPORT_ZIP_MAX_RATIO). Nothing was extracted."
)
ERROR_DAMAGED = "the archive is damaged ({reason})."


@dataclass(frozen=True)
class ZipLimits:
    max_entries: int
    max_bytes: int
    max_ratio: float


def zip_extract_checked(
    source: Path, destination: Path, *, limits: ZipLimits, wanted: frozenset[str]
) -> None:
    """Extracts the members whose file name is in `wanted` into `destination`, keeping their folders."""
    try:
        with zipfile.ZipFile(source) as archive:
            members = archive.infolist()
            _check_directory(members, limits)
            written = 0
            for member in members:
                path = PurePosixPath(member.filename)
                if member.is_dir() or path.name not in wanted or _unsafe(path):
                    continue
                written += _extract(archive, member, destination / Path(*path.parts), limits, written)
    except zipfile.BadZipFile as exc:
        raise ImportFileError(ERROR_DAMAGED.format(reason=exc)) from exc
    except (zlib.error, EOFError, NotImplementedError) as exc:
        raise ImportFileError(ERROR_DAMAGED.format(reason=exc or type(exc).__name__)) from exc


def _check_directory(members: list[zipfile.ZipInfo], limits: ZipLimits) -> None:
    if len(members) > limits.max_entries:
        raise ImportFileError(ERROR_ENTRIES.format(count=len(members), limit=limits.max_entries))
    size = sum(member.file_size for member in members)
    packed = sum(member.compress_size for member in members)
    if size > limits.max_bytes:
        raise ImportFileError(ERROR_SIZE.format(size=size, limit=limits.max_bytes))
    if size > RATIO_FLOOR_BYTES and size > packed * limits.max_ratio:
        raise ImportFileError(
            ERROR_RATIO.format(ratio=size / max(packed, 1), size=size, packed=packed, limit=limits.max_ratio)
        )


def _unsafe(path: PurePosixPath) -> bool:
    return path.is_absolute() or ".." in path.parts or any(":" in part or "\\" in part for part in path.parts)


def _extract(
    archive: zipfile.ZipFile, member: zipfile.ZipInfo, target: Path, limits: ZipLimits, written: int
) -> int:
    """Copies one member in chunks; more bytes than declared (or than the limit) stop it at once."""
    target.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with archive.open(member) as stream, target.open("wb") as out:
        while chunk := stream.read(CHUNK_BYTES):
            count += len(chunk)
            if count > member.file_size or written + count > limits.max_bytes:
                raise ImportFileError(
                    f"{member.filename} expands beyond the size its archive declares; nothing was imported."
                )
            out.write(chunk)
    return count

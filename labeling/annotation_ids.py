"""The ids (client_uuid) of imported annotations.

An import stores its annotations in item order. An id that starts with its item's id makes those inserts
append to the unique index, instead of landing on random pages of it as random ids do (those cost a tenth
(SQLite) to a fifth (PostgreSQL) of a million-row import; bench/README.md, `import.py`). The rest of the id is
random, so nobody can foresee an import's ids and take one first with an answer of their own (an analyst's
answer carries an id its client made, unique across the database). A re-import finds the annotations an
earlier import stored by item and annotator name (imports.services.writers), never by id, so annotations
imported under earlier layouts keep theirs.

Layout (a version 8 UUID, RFC 9562's custom layout; 32 hexadecimal digits):

    digits  1-12  the item's id (48 bits), so ids ascend with items
    digit     13  the version, 8
    digits 14-16  random
    digit     17  the variant (binary 10xx): 8, 9, a or b, with two random bits
    digits 18-32  random
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

IMPORTED_UUID_VERSION = 8


def imported_annotation_uuids(item_ids: Sequence[int]) -> list[str]:
    """New ids for annotations an import stores on these items, in order, as 32 hexadecimal digits (what
    UUIDField stores on SQLite; PostgreSQL's uuid type reads the same text). About 0.4 s per million."""
    count = len(item_ids)
    if not count:
        return []
    raw = np.frombuffer(os.urandom(16 * count), dtype=np.uint8).reshape(count, 16).copy()
    raw[:, :6] = np.asarray(item_ids, dtype=">u8").view(np.uint8).reshape(count, 8)[:, 2:]  # the low 48 bits
    raw[:, 6] = (raw[:, 6] & 0x0F) | (IMPORTED_UUID_VERSION << 4)
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 9562's variant
    text = raw.tobytes().hex()
    return [text[32 * index : 32 * index + 32] for index in range(count)]

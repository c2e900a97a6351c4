"""The ids (client_uuid) of imported annotations.

An imported annotation's id is a function of its item and its annotator, so that importing a file again finds
the annotations the first import stored, and it ascends with the item: an import inserts its annotations in
item order, at the right edge of the unique index, instead of at random pages of it (random ids cost a tenth
(SQLite) to a fifth (PostgreSQL) of a million-row import; bench/README.md, `import.py`).

Layout (a version 8 UUID, RFC 9562's custom layout; 32 hexadecimal digits):

    digits  1-12  the item's id (48 bits), so ids ascend with items
    digit     13  the version, 8
    digits 14-16  the MD5 of the annotator's name (UTF-8), its digits 1-3
    digit     17  the variant (binary 10xx): 8, 9, a or b, the low two bits of the MD5's digit 4
    digits 18-32  the MD5's digits 5-19

An analyst's answers carry ids their client made (random, version 4); annotation_submit refuses version 8,
which is kept for imports, so an answer can never take an id an import will need.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

IMPORTED_UUID_VERSION = 8
_ITEM_MASK = (1 << 48) - 1
_VARIANT = "89ab"


@lru_cache(maxsize=4096)
def _annotator_digits(annotator: str) -> str:
    digest = hashlib.md5(annotator.encode("utf-8"), usedforsecurity=False).hexdigest()
    return f"{IMPORTED_UUID_VERSION:x}{digest[0:3]}{_VARIANT[int(digest[3], 16) & 3]}{digest[4:19]}"


def imported_annotation_uuid(item_id: int, annotator: str) -> str:
    """The id of the annotation an import stores for `annotator` (an external name; "" where the file names
    none) on the item `item_id`, as 32 hexadecimal digits (what UUIDField stores on SQLite; PostgreSQL's
    uuid type reads the same text)."""
    return f"{item_id & _ITEM_MASK:012x}{_annotator_digits(annotator)}"

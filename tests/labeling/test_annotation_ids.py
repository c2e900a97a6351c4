"""Imported annotations' ids: they start with their item's id (so they ascend with it) and end at random."""

from __future__ import annotations

import uuid

from labeling.annotation_ids import IMPORTED_UUID_VERSION, imported_annotation_uuids


def test_an_imported_annotation_id_is_a_version_8_uuid_that_starts_with_its_item() -> None:
    # given / when
    values = [uuid.UUID(text) for text in imported_annotation_uuids([1234, 2**47 + 5])]

    # then each is a valid RFC 9562 UUID whose first 48 bits are its item's id, written as 32 hex digits
    assert [(value.version, value.variant) for value in values] == [
        (IMPORTED_UUID_VERSION, uuid.RFC_4122)
    ] * 2
    assert [value.int >> 80 for value in values] == [1234, 2**47 + 5]
    assert all(len(text) == 32 for text in imported_annotation_uuids([7]))


def test_ids_ascend_with_their_items_and_nobody_can_foresee_them() -> None:
    # given the items of a batch, one of them with two annotators
    items = [3, 3, 10, 11, 2**40]

    # when
    first, again = imported_annotation_uuids(items), imported_annotation_uuids(items)

    # then they sort in item order, and no id repeats, within a batch or between two batches
    assert [value[:12] for value in first] == [f"{item:012x}" for item in items]
    assert first[2:] == sorted(first[2:])
    assert len(set(first) | set(again)) == 2 * len(items)
    assert imported_annotation_uuids([]) == []

from __future__ import annotations

import json

from datasets.selectors import ROW_FIELDS, RowChunk
from datasets.services.writers import ContentHash, jsonl_lines


def _chunk(*rows: tuple[object, ...]) -> RowChunk:
    chunk = RowChunk()
    for row in rows:
        for name, value in zip(ROW_FIELDS, row, strict=True):
            getattr(chunk, name).append(value)
    return chunk


def test_the_hand_built_lines_are_exactly_what_json_dumps_gives() -> None:
    # given rows with quotes, newlines, non-ASCII text, an empty metadata object and no agreement
    chunk = _chunk(
        (7, 'id "1"', 'Line one\nline "two" \\ café ☕ \u2028', '{"a": 1, "é": [1, 2]}', "spam", ["spam"], "gold",
         [0.0, 1.0], 1.0, 2, 0.5, "train"),
        (8, "x", "", "{}", "a|b", ["a", "b"], "weak", [0.123456, 0.987654], 0.75, 0, None, "test"),
    )  # fmt: skip

    # when
    lines = jsonl_lines(chunk)

    # then
    for index, line in enumerate(lines):
        full = chunk.row(index)
        without_id = {key: value for key, value in full.items() if key != "item_id"}
        expected = json.dumps(without_id, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        assert line == f'{expected[:-1]},"item_id":{full["item_id"]}}}\n'
        assert json.loads(line) == full


def _hash(*chunks: RowChunk) -> str:
    content = ContentHash("header")
    for chunk in chunks:
        content.update(chunk)
    return content.hexdigest()


def _row(item_id: int, soft: list[float], agreement: float | None = None) -> tuple[object, ...]:
    return (
        item_id,
        f"e{item_id % 5}",
        "text",
        "{}",
        "spam",
        ["spam"],
        "gold",
        soft,
        1.0,
        2,
        agreement,
        "train",
    )


def test_the_content_hash_holds_every_field_but_the_item_id() -> None:
    # given the same row under two item ids, and the row with a changed soft label or agreement
    same = [_chunk(_row(1, [0.0, 1.0])), _chunk(_row(6, [0.0, 1.0]))]
    changed = [_chunk(_row(1, [0.1, 0.9])), _chunk(_row(1, [0.0, 1.0], agreement=1.0))]

    # when
    hashes = [_hash(chunk) for chunk in same + changed]

    # then
    assert hashes[0] == hashes[1]
    assert len(set(hashes)) == 3


def test_the_content_hash_does_not_depend_on_chunk_boundaries() -> None:
    # given four rows, as one chunk and as chunks of one and three
    rows = [_row(index, [0.0, 1.0], agreement=0.5 if index % 2 else None) for index in range(1, 5)]

    # when
    whole = _hash(_chunk(*rows))
    parted = _hash(_chunk(rows[0]), _chunk(*rows[1:]))
    reordered = _hash(_chunk(*rows[::-1]))

    # then
    assert whole == parted
    assert reordered != whole

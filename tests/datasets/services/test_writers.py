from __future__ import annotations

import json

from datasets.selectors import ROW_FIELDS, RowChunk
from datasets.services.writers import hash_text, jsonl_lines


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


def test_the_hash_text_holds_every_field_but_the_item_id() -> None:
    # given two rows that differ only in their item ids, and a third with one soft label changed
    def row(item_id: int, soft: list[float]) -> tuple[object, ...]:
        return (item_id, "e1", "text", "{}", "spam", ["spam"], "gold", soft, 1.0, 2, None, "train")

    # when
    first, moved, changed = (
        hash_text(_chunk(row(*args))) for args in ((1, [0.0, 1.0]), (9, [0.0, 1.0]), (1, [0.1, 0.9]))
    )

    # then
    assert (
        first == moved == "e1\x1ftext\x1f{}\x1fspam\x1fspam\x1fgold\x1f0.0,1.0\x1f1.0\x1f2\x1f\x1ftrain\x1e"
    )
    assert changed != first

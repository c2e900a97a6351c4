from __future__ import annotations

import json

from datasets.selectors import ROW_FIELDS, RowChunk
from datasets.services.writers import canonical_lines


def test_the_hand_built_lines_are_exactly_what_json_dumps_gives() -> None:
    # given rows with quotes, newlines, non-ASCII text, an empty metadata object and no agreement
    chunk = RowChunk()
    rows = [
        (7, 'id "1"', 'Line one\nline "two" \\ café ☕ \u2028', '{"a": 1, "é": [1, 2]}', "spam", ["spam"], "gold",
         [0.0, 1.0], 1.0, 2, 0.5, "train"),
        (8, "x", "", "{}", "a|b", ["a", "b"], "weak", [0.123456, 0.987654], 0.75, 0, None, "test"),
    ]  # fmt: skip
    for row in rows:
        for name, value in zip(ROW_FIELDS, row, strict=True):
            getattr(chunk, name).append(value)

    # when
    hashed, lines = canonical_lines(chunk)

    # then
    for index in range(len(rows)):
        full = chunk.row(index)
        without_id = {key: value for key, value in full.items() if key != "item_id"}
        assert hashed[index] == json.dumps(
            without_id, sort_keys=True, ensure_ascii=False, separators=(",", ":")
        )
        assert json.loads(lines[index]) == full
        assert lines[index].endswith("}\n")

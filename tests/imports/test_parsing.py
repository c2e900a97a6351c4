"""Readers and row validation, without the database."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from imports.parsing import readers
from imports.parsing.archives import ZipLimits, zip_extract_checked
from imports.parsing.errors import ImportFileError
from imports.parsing.json_stream import JsonTooDeepError, json_array_items, json_document, json_object_items
from imports.parsing.rows import ON_DUPLICATE_SKIP, FieldMapping, RowBuilder


def _csv(text: str, **options: object) -> list[tuple[int, dict[str, object]]]:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return list(
        readers.read_csv(
            io.BytesIO(data),
            size=len(data),
            options=readers.ReaderOptions(**options),
            progress=readers.Progress(),
        )
    )


def test_csv_records_carry_the_line_where_they_start() -> None:
    # given a CSV whose second record spans two lines
    text = 'id,text\n1,hello\n2,"two\nlines"\n3,end\n'

    # when
    records = _csv(text)

    # then
    assert records == [
        (2, {"id": "1", "text": "hello"}),
        (3, {"id": "2", "text": "two\nlines"}),
        (5, {"id": "3", "text": "end"}),
    ]


def test_csv_strips_a_byte_order_mark_and_skips_blank_lines() -> None:
    assert _csv("\ufeffid,text\n\n1,a\n") == [(3, {"id": "1", "text": "a"})]


def test_tsv_without_header_uses_given_columns_and_no_quoting() -> None:
    records = _csv(
        'ham\t"quoted" text\nspam\tfree\n', delimiter="\t", has_header=False, columns=["label", "text"]
    )
    assert records == [(1, {"label": "ham", "text": '"quoted" text'}), (2, {"label": "spam", "text": "free"})]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"id,text\n1,ok\n2,bad\xff\n", "Line 3: not valid UTF-8"),
        (b"id,text\n1,ok,extra\n", "Line 2: expected 2 fields, found 3."),
        (b'id,text\n1,"never closed\n', "Line 2: malformed CSV"),
        (b"id,id\n1,2\n", "Line 1: the header names column 'id' twice."),
    ],
)
def test_bad_csv_is_refused_with_the_line(data: bytes, message: str) -> None:
    with pytest.raises(ImportFileError) as error:
        _csv(data)  # type: ignore[arg-type]
    assert error.value.message.startswith(message)


def test_jsonl_reports_malformed_lines_and_non_objects() -> None:
    good = b'{"text": "a"}\n\n{"text": "b"}\n'
    assert list(readers.read_jsonl(io.BytesIO(good), size=len(good), progress=readers.Progress())) == [
        (1, {"text": "a"}),
        (3, {"text": "b"}),
    ]
    with pytest.raises(ImportFileError, match="Line 2: malformed JSON"):
        list(
            readers.read_jsonl(io.BytesIO(b'{"text": "a"}\n{"text": \n'), size=0, progress=readers.Progress())
        )
    with pytest.raises(ImportFileError, match="Line 1: each line must be a JSON object."):
        list(readers.read_jsonl(io.BytesIO(b"[1, 2]\n"), size=0, progress=readers.Progress()))


def test_json_array_streams_objects_and_numbers_become_floats() -> None:
    data = json.dumps([{"text": "a", "score": 0.5}, {"text": "b", "score": 2}]).encode()
    progress = readers.Progress()
    records = list(readers.read_json_array(io.BytesIO(data), size=len(data), progress=progress))
    assert records == [(1, {"text": "a", "score": 0.5}), (2, {"text": "b", "score": 2})]
    assert isinstance(records[0][1]["score"], float)
    assert progress.fraction == 1.0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'[{"text": "a"}, {"text": ', "malformed JSON after record 1"),
        (b'[{"text": "a"}, 3]', "Record 2: each element of the array must be a JSON object."),
        (b"[]", "holds none"),
    ],
)
def test_bad_json_array_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(ImportFileError, match=message):
        list(readers.read_json_array(io.BytesIO(data), size=len(data), progress=readers.Progress()))


def test_parquet_rows_are_numbered_from_one(tmp_path: Path) -> None:
    path = tmp_path / "items.parquet"
    pq.write_table(pa.table({"text": ["a", "b", "c"], "n": [1, 2, 3]}), path)
    assert list(readers.read_parquet(path, progress=readers.Progress())) == [
        (1, {"text": "a", "n": 1}),
        (2, {"text": "b", "n": 2}),
        (3, {"text": "c", "n": 3}),
    ]


def test_a_file_that_is_not_parquet_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "fake.parquet"
    path.write_text("id,text\n")
    with pytest.raises(ImportFileError, match="not a readable Parquet file"):
        list(readers.read_parquet(path, progress=readers.Progress()))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.csv", "csv"),
        ("a.TSV", "csv"),
        ("a.jsonl", "jsonl"),
        ("a.json", "json"),
        ("a.parquet", "parquet"),
        ("a.zip", "wrench"),
    ],
)
def test_format_is_inferred_from_the_extension(name: str, expected: str) -> None:
    assert readers.infer_format(Path(name)) == expected


def test_unknown_extension_asks_for_a_format() -> None:
    with pytest.raises(ImportFileError, match="Cannot tell the format of 'data.xlsx'"):
        readers.infer_format(Path("data.xlsx"))


def _builder(**mapping: object) -> RowBuilder:
    return RowBuilder(
        mapping=FieldMapping(**mapping),  # type: ignore[arg-type]
        label_keys=["ham", "spam"],
        label_names={"ham": "Ham", "spam": "Spam"},
        multi_label=False,
    )


def test_rows_map_fields_and_keep_the_rest_as_metadata() -> None:
    # given
    builder = _builder(id_field="id", label_field="label", split_field="split")

    # when
    row = builder.build(
        2, {"id": " 7 ", "text": "hello", "label": "SPAM", "split": "validation", "author": "x"}, 1
    )

    # then
    assert (row.external_id, row.text, row.labels, row.split) == ("7", "hello", ["spam"], "valid")
    assert json.loads(row.metadata_json) == {"author": "x"}
    assert row.content_hash == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"


def test_the_row_number_is_the_id_when_no_id_field_is_given() -> None:
    assert _builder().build(5, {"text": "a"}, 3).external_id == "3"


@pytest.mark.parametrize(
    ("records", "mapping", "message"),
    [
        ([{"body": "a"}], {}, "Line 2: the text field 'text' is not in the data; fields are: body."),
        ([{"text": "  "}], {}, "Line 2: the text field 'text' is empty."),
        ([{"text": "a", "id": ""}], {"id_field": "id"}, "Line 2: the id field 'id' is empty."),
        (
            [{"text": "a", "id": "1"}, {"text": "b", "id": "1"}],
            {"id_field": "id"},
            "Line 3: duplicate id '1' (first seen at line 2).",
        ),
        (
            [{"text": "a", "label": "eggs"}],
            {"label_field": "label"},
            "Line 2: unknown label 'eggs'; the project's labels are: ham, spam.",
        ),
        (
            [{"text": "a", "label": ["ham", "spam"]}],
            {"label_field": "label"},
            "Line 2: 2 labels given, but the project is single-label.",
        ),
        (
            [{"text": "a", "split": "holdout"}],
            {"split_field": "split"},
            "Line 2: unknown split 'holdout'; use train, valid or test.",
        ),
        (
            [{"text": "a", "v": [None, "ham"]}, {"text": "b", "v": ["ham"]}],
            {"votes_field": "v"},
            "Line 3: 1 votes, but earlier records have 2.",
        ),
    ],
)
def test_invalid_records_are_refused_with_their_line(
    records: list[dict[str, object]], mapping: dict[str, object], message: str
) -> None:
    builder = _builder(**mapping)

    def build_all() -> None:
        for ordinal, record in enumerate(records, start=1):
            builder.build(ordinal + 1, record, ordinal)

    with pytest.raises(ImportFileError) as error:
        build_all()
    assert error.value.message == message
    assert error.value.line == len(records) + 1


def test_label_map_translates_raw_values() -> None:
    row = _builder(label_field="label", label_map={"1": "spam", "0": "ham"}).build(
        2, {"text": "a", "label": 1}, 1
    )
    assert row.labels == ["spam"]


def test_multi_label_values_split_on_the_separator_in_schema_order() -> None:
    builder = RowBuilder(
        mapping=FieldMapping(label_field="tags"), label_keys=["a", "b", "c"],
        label_names={"a": "A", "b": "B", "c": "C"}, multi_label=True,
    )  # fmt: skip
    assert builder.build(2, {"text": "x", "tags": "c, a,a"}, 1).labels == ["a", "c"]


def test_wrench_folder_names_lfs_from_its_readme(shared_data: Path) -> None:
    folder = readers.open_wrench_folder(shared_data / "wrench" / "youtube_v1_paper")
    assert folder.label_names == {0: "HAM", 1: "SPAM"}
    assert folder.lf_names[:3] == ["keyword_my", "keyword_subscribe", "keyword_link"]
    assert len(folder.lf_names) == 10


def test_a_folder_without_label_json_is_not_wrench(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="a WRENCH dataset is a folder holding label.json"):
        readers.open_wrench_folder(tmp_path)


# --- json_stream: flat, depth-limited JSON ------------------------------------------------------------------
def test_json_stream_builds_the_same_values_as_json_loads() -> None:
    # given a document with every kind of value, nested a few levels
    document = [{"a": [1, 2.5, None, True, "x", {"b": []}], "c": {}}, 3, "s", [[], [{}]]]

    # when its elements are streamed
    items = list(json_array_items(io.BytesIO(json.dumps(document).encode()), limit=64))

    # then they are what json.loads gives, one by one
    assert items == document


def test_json_stream_reads_a_top_level_object_and_a_single_document() -> None:
    stream = io.BytesIO(b'{"1": {"data": {"text": "hi"}}, "2": [1]}')
    assert list(json_object_items(stream, limit=64)) == [("1", {"data": {"text": "hi"}}), ("2", [1])]
    assert json_document(io.BytesIO(b'{"a": [1, 2]}'), limit=64) == {"a": [1, 2]}
    assert list(json_array_items(io.BytesIO(b'{"a": 1}'), limit=64)) == []


@pytest.mark.parametrize(("depth", "refused"), [(64, False), (65, True)])
def test_json_stream_counts_every_level_towards_the_limit(depth: int, refused: bool) -> None:
    data = b"[" * depth + b"]" * depth
    if refused:
        with pytest.raises(JsonTooDeepError):
            json_document(io.BytesIO(data), limit=64)
    else:
        assert json_document(io.BytesIO(data), limit=64) is not None


# --- archives: zips measured, then extracted member by member ----------------------------------------------
def test_only_wanted_members_are_extracted_and_unsafe_paths_never(tmp_path: Path) -> None:
    # given an archive with a wanted file, an unwanted one, and one whose path climbs out
    source = tmp_path / "a.zip"
    with zipfile.ZipFile(source, "w") as archive:
        archive.writestr("set/label.json", '{"0": "ham"}')
        archive.writestr("set/notes.bin", "x" * 100)
        archive.writestr("../label.json", "evil")
    target = tmp_path / "out"

    # when it is extracted
    zip_extract_checked(source, target, limits=ZipLimits(max_entries=10, max_bytes=10_000, max_ratio=100),
                        wanted=frozenset({"label.json"}))  # fmt: skip

    # then only the wanted, safe member is there
    assert sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*") if path.is_file()) == [
        "a.zip", "out/set/label.json",
    ]  # fmt: skip


def test_a_file_that_is_not_a_zip_is_refused_as_damaged(tmp_path: Path) -> None:
    source = tmp_path / "a.zip"
    source.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(ImportFileError, match="the archive is damaged"):
        zip_extract_checked(source, tmp_path / "out", limits=ZipLimits(max_entries=10, max_bytes=10, max_ratio=1),
                            wanted=frozenset())  # fmt: skip


@pytest.mark.parametrize(
    ("mapping", "raw", "labels"),
    [
        ({}, "SPAM", ["spam"]),
        ({}, "Not Spam", ["not_spam"]),
        ({}, "not-spam", ["not_spam"]),
        ({}, "Clearly Spam", ["spam"]),  # the display name, in any case
        ({"label_map": {"0": "NOT SPAM", "1": "Spam"}}, 0, ["not_spam"]),
    ],
)
def test_labels_in_files_and_label_maps_follow_the_one_rule_for_keys(
    mapping: dict[str, Any], raw: object, labels: list[str]
) -> None:
    # given a project whose keys creation made from "Not Spam" and "Spam"
    builder = RowBuilder(
        mapping=FieldMapping(label_field="label", **mapping), label_keys=["not_spam", "spam"],
        label_names={"not_spam": "Not spam", "spam": "Clearly spam"}, multi_label=False,
    )  # fmt: skip

    # when
    row = builder.build(2, {"text": "a", "label": raw}, 1)

    # then
    assert row.labels == labels


def test_an_unknown_label_in_a_file_still_lists_the_labels() -> None:
    with pytest.raises(ImportFileError) as error:
        _builder(label_field="label").build(4, {"text": "a", "label": "Spam!?x"}, 1)
    assert error.value.message == "Line 4: unknown label 'Spam!?x'; the project's labels are: ham, spam."


def test_a_repeated_id_is_skipped_and_counted_when_asked() -> None:
    # given
    builder = RowBuilder(
        mapping=FieldMapping(id_field="id"), label_keys=["ham"], label_names={"ham": "Ham"},
        multi_label=False, on_duplicate=ON_DUPLICATE_SKIP,
    )  # fmt: skip

    # when
    rows = [
        builder.build(line, {"id": id_, "text": "t"}, line)
        for line, id_ in [(2, "a"), (3, "a"), (4, "b"), (5, "a")]
    ]

    # then
    assert [row.external_id if row else None for row in rows] == ["a", None, "b", None]
    assert (builder.duplicates_skipped, builder.duplicate_lines) == (2, [3, 5])


def test_metadata_of_text_values_is_written_as_json_dumps_writes_it() -> None:
    # given text values with quotes, backslashes, control and non-ASCII characters, and a non-text value
    record = {"text": "t", "a": 'say "hi"\\ \t\x01 é 😀', "b\n": "", "c": "x"}

    # when
    texts = _builder().build(2, record, 1)
    mixed = _builder().build(2, {**record, "n": 3}, 1)

    # then
    assert texts is not None
    assert mixed is not None
    expected = {key: value for key, value in record.items() if key != "text"}
    assert texts.metadata_json == json.dumps(expected, ensure_ascii=False, separators=(",", ":"))
    assert json.loads(mixed.metadata_json) == {**expected, "n": 3}


@pytest.mark.parametrize("chunk", [7, 16, 64, 1 << 20])
def test_csv_read_in_small_chunks_keeps_every_record_and_line(
    monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    # given a CSV with a BOM, a record over three lines, a blank line and CRLF endings, read in chunks that cut
    # its lines and records anywhere
    monkeypatch.setattr(readers, "CSV_CHUNK_BYTES", chunk)
    text = '\ufeffid,text\r\n1,héllo\r\n2,"one\ntwo\nthree"\r\n\r\n3,"a ""quote"""\r\n4,end'

    # when
    records = _csv(text)

    # then
    assert records == [
        (2, {"id": "1", "text": "héllo"}),
        (3, {"id": "2", "text": "one\ntwo\nthree"}),
        (7, {"id": "3", "text": 'a "quote"'}),
        (8, {"id": "4", "text": "end"}),
    ]


@pytest.mark.parametrize("chunk", [5, 13, 1 << 20])
@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"id,text\n1,ok\n2,fine\n3,bad\xff\n4,ok\n", "Line 4: not valid UTF-8 (byte 6 of the line)"),
        (b"id,text\n1,ok\n2,fi\x00ne\n3,bad\xff\n", "Line 3: holds a NUL byte"),
        (b"\xef\xbb\xbfid,te\xffxt\n1,ok\n", "Line 1: not valid UTF-8 (byte 6 of the line)"),
    ],
)
def test_csv_read_in_chunks_names_the_first_bad_line(
    monkeypatch: pytest.MonkeyPatch, chunk: int, data: bytes, message: str
) -> None:
    monkeypatch.setattr(readers, "CSV_CHUNK_BYTES", chunk)
    with pytest.raises(ImportFileError) as error:
        _csv(data)  # type: ignore[arg-type]
    assert error.value.message.startswith(message)


@pytest.mark.parametrize("chunk", [4, 10, 1 << 20])
def test_csv_read_in_chunks_refuses_a_line_over_the_limit(
    monkeypatch: pytest.MonkeyPatch, settings: Any, chunk: int
) -> None:
    # given lines of at most 12 bytes, and a third line of 20
    settings.IMPORT_MAX_LINE_BYTES = 12
    monkeypatch.setattr(readers, "CSV_CHUNK_BYTES", chunk)
    data = b"id,text\n1,short\n2,much too long a line\n3,ok\n"

    # when
    with pytest.raises(ImportFileError) as error:
        _csv(data)  # type: ignore[arg-type]

    # then
    assert error.value.message.startswith("Line 3: longer than 12 bytes")

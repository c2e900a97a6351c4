"""On PostgreSQL a chunk is read with COPY into Arrow, and metadata rules read only the fields they name,
extracted by the database: the texts must arrive exactly as stored, and the votes must be exactly those
computed on the whole decoded objects."""

from __future__ import annotations

import numpy as np
import pytest
from django.db import connection

from projects.models import Item
from tests.projects.factories import ItemFactory, ProjectFactory
from weak_supervision.models import LabelModelRun
from weak_supervision.services.functions import labeling_function_create
from weak_supervision.services.runs import ChunkItems, _chunk_bounds, _chunk_items, _columns, chunk_votes

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

METADATA = [
    {"channel": "email", "n": 7, "nested": {"x": "y", "n": 3}}, {"channel": "sms", "n": "7"}, {"channel": None},
    {"n": 12.5, "tags": ["a", "b"]}, {}, {"channel": '"email"', "nested": {"x": None}}, {"nested": "flat"},
    {"channel": "EMAIL", "n": True},
]  # fmt: skip
RULES = [
    ("channel", "eq", "email"), ("channel", "ne", "sms"), ("channel", "in", ["sms", "fax"]),
    ("channel", "contains", "mai"), ("channel", "exists", None), ("n", "gt", 5), ("n", "lte", 7),
    ("nested.x", "eq", "y"), ("nested.x", "exists", None), ("nested.n", "gte", 3), ("tags", "exists", None),
]  # fmt: skip


def test_extracted_fields_give_the_same_votes_as_whole_objects() -> None:
    # given items with strings, numbers, numeric strings, nulls, nesting and missing fields
    assert connection.vendor == "postgresql"
    project = ProjectFactory()
    for index, metadata in enumerate(METADATA):
        ItemFactory(project=project, text=f"item {index}", metadata=metadata)
    for index, (field, operator, value) in enumerate(RULES):
        labeling_function_create(project=project, user=None, name=f"m{index}", kind="metadata", label="spam",
                                 spec={"field": field, "operator": operator, "value": value})  # fmt: skip
    chunks, count = _chunk_bounds(project, 100)
    run = LabelModelRun.objects.create(project=project, number=1, lf_versions=_columns(project), chunks=chunks,
                                       item_count=count, labels=["ham", "spam"])  # fmt: skip

    # when
    items = _chunk_items(run, 0)
    whole = ChunkItems(ids=items.ids, texts=items.text_list(), split_names=items.split_names,
                       split_codes=items.split_codes,
                       metadata=[Item.objects.get(pk=item_id).metadata for item_id in items.ids.tolist()])  # fmt: skip

    # then
    assert items.fields is not None  # read as fields, not as whole objects
    assert items.metadata is None
    fast, _ = chunk_votes(run, items)
    slow, _ = chunk_votes(run, whole)
    assert np.array_equal(fast, slow)
    assert (fast != -1).any(axis=0).all()


TEXTS = [
    'a "quoted" word, a comma', "two\nlines\r\nand a carriage return", "", "   ", "\\N", "NULL", '""',
    "tab\there", "naïve café — 東京 🚀", "trailing backslash \\", ",", "x" * 5000,
]  # fmt: skip


def test_a_chunk_read_into_arrow_carries_every_text_id_and_split_exactly() -> None:
    # given texts that CSV must quote or escape, empty ones, and items of another project between them
    project, other = ProjectFactory(), ProjectFactory()
    for index, text in enumerate(TEXTS):
        ItemFactory(project=project, text=text, split=["train", "", "test"][index % 3],
                    metadata={"channel": "email"} if index % 2 else {})  # fmt: skip
        ItemFactory(project=other, text="not mine")
    labeling_function_create(project=project, user=None, name="m", kind="metadata", label="spam",
                             spec={"field": "channel", "operator": "eq", "value": "email"})  # fmt: skip
    chunks, count = _chunk_bounds(project, 100)
    run = LabelModelRun.objects.create(project=project, number=1, lf_versions=_columns(project), chunks=chunks,
                                       item_count=count, labels=["ham", "spam"])  # fmt: skip

    # when
    items = _chunk_items(run, 0)

    # then
    stored = list(Item.objects.filter(project=project).order_by("id").values_list("id", "text", "split"))
    assert items.ids.tolist() == [row[0] for row in stored]
    assert items.text_list() == [row[1] for row in stored]
    assert [items.split_names[code] for code in items.split_codes] == [row[2] for row in stored]
    votes, _ = chunk_votes(run, items)
    assert votes[:, 0].tolist() == [1 if index % 2 else -1 for index in range(len(TEXTS))]

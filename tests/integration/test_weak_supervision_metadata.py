"""On PostgreSQL, metadata rules read only the fields they name, extracted by the database: the votes must
be exactly those computed on the whole decoded objects."""

from __future__ import annotations

import numpy as np
import pytest
from django.db import connection

from labeling.models import Item
from tests.labeling.factories import ItemFactory, ProjectFactory
from weak_supervision.models import LabelModelRun
from weak_supervision.services.functions import labeling_function_create
from weak_supervision.services.runs import _chunk_bounds, _chunk_items, _columns, chunk_votes

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
    ids, texts, extracted, _ = _chunk_items(run, 0)
    whole = [Item.objects.get(pk=item_id).metadata for item_id in ids]

    # then
    fast, _ = chunk_votes(run, ids, texts, extracted)
    slow, _ = chunk_votes(run, ids, texts, whole)
    assert np.array_equal(fast, slow)
    assert extracted[0] == {"channel": "email", "n": 7, "nested": {"x": "y", "n": 3}}
    assert extracted[2] == {"channel": None}
    assert (fast != -1).any(axis=0).all()

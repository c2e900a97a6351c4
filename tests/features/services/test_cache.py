from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from django.core.files.storage import default_storage

from features.choices import HYBRID_FIELDS, HYBRID_FIELDS_CONTEXT, BlockKind, FeatureKind
from features.encoders import STATIC_DIM, static_embed
from features.models import FeatureBlock
from features.services.cache import (
    BlockPlan,
    block_load,
    feature_block_build,
    features_get,
    features_invalidate,
    features_plan,
    features_refresh,
    idf_compute,
    stored_kinds,
)
from features.vectors import N_FEATURES, document_frequency, idf_weights, term_counts, term_frequencies, tfidf
from projects.models import Item, Project
from tests.active_learning.factories import new_item, new_project
from tests.projects.factories import ItemFactory

pytestmark = pytest.mark.django_db
KIND = FeatureKind.HASHED_TFIDF


def _items(project: Project, n: int) -> list[int]:
    return [new_item(project=project, text=f"word{index % 3} item {index}").pk for index in range(n)]


def _build(project: Project, block_size: int) -> list[FeatureBlock]:
    """What a retrain's workers do: plan with this block size, build every planned block."""
    built = []
    for plan in features_plan(project=project, kind=KIND, block_size=block_size):
        block = feature_block_build(project=project, kind=KIND, first_id=plan.first_id, last_id=plan.last_id)
        assert block is not None
        built.append(block)
    return built


def _ranges(project: Project) -> list[tuple[int, int, int]]:
    return list(
        FeatureBlock.objects.filter(project=project, kind=KIND)
        .order_by("first_id")
        .values_list("first_id", "last_id", "rows")
    )


def test_a_plan_cuts_the_uncovered_items_into_blocks(project: Project) -> None:
    # given
    ids = _items(project, 7)

    # when
    plans = features_plan(project=project, kind=KIND, block_size=3)

    # then
    assert plans == [
        BlockPlan(first_id=ids[0], last_id=ids[2], rows=3),
        BlockPlan(first_id=ids[3], last_id=ids[5], rows=3),
        BlockPlan(first_id=ids[6], last_id=ids[6], rows=1),
    ]


def test_building_the_plan_stores_every_item_once(project: Project) -> None:
    # given
    ids = _items(project, 7)

    # when
    blocks = _build(project, block_size=3)

    # then
    assert _ranges(project) == [(ids[0], ids[2], 3), (ids[3], ids[5], 3), (ids[6], ids[6], 1)]
    stored: list[int] = []
    for block in blocks:
        assert default_storage.exists(block.path)
        block_ids, counts, df = block_load(block)
        stored += block_ids.tolist()
        assert counts.shape[0] == block.rows
        assert df is not None
        assert np.array_equal(df, document_frequency(counts))
    assert stored == ids
    assert features_plan(project=project, kind=KIND, block_size=3) == []


def test_new_items_get_only_new_blocks(project: Project) -> None:
    # given a cache that covers the first five items
    first = _items(project, 5)
    before = _build(project, block_size=3)
    paths = {block.pk: block.path for block in before}

    # when three items arrive
    new = _items(project, 3)
    plans = features_plan(project=project, kind=KIND, block_size=3)
    _build(project, block_size=3)

    # then
    assert plans == [BlockPlan(first_id=new[0], last_id=new[2], rows=3)]
    assert _ranges(project) == [(first[0], first[2], 3), (first[3], first[4], 2), (new[0], new[2], 3)]
    assert {block.pk: block.path for block in FeatureBlock.objects.filter(pk__in=paths)} == paths


def test_a_refresh_with_every_item_covered_does_nothing(project: Project) -> None:
    # given
    _items(project, 4)
    assert features_refresh(project=project, kind=KIND) == 1
    block = FeatureBlock.objects.get(project=project)

    # when
    built = features_refresh(project=project, kind=KIND)

    # then
    assert built == 0
    assert list(FeatureBlock.objects.filter(project=project)) == [block]


def test_features_of_another_project_or_kind_do_not_count(project: Project) -> None:
    # given
    _items(project, 3)
    other = new_project()
    _items(other, 2)
    features_refresh(project=other, kind=KIND)

    # when
    plans = features_plan(project=project, kind=KIND)

    # then
    assert [plan.rows for plan in plans] == [3]
    assert [plan.rows for plan in features_plan(project=other, kind=FeatureKind.EMBEDDINGS)] == [2]


def test_invalidating_an_item_drops_its_block_and_a_refresh_rebuilds_it(
    project: Project, django_capture_on_commit_callbacks: Any
) -> None:
    # given three blocks
    ids = _items(project, 9)
    blocks = _build(project, block_size=3)
    Item.objects.filter(pk=ids[4]).update(text="a completely new text")

    # when the middle block's item changed
    with django_capture_on_commit_callbacks(execute=True):
        dropped = features_invalidate(project=project, item_ids=[ids[4], ids[4]])

    # then only that block is gone, with its file; a refresh builds it again from the new text
    assert dropped == 1
    assert _ranges(project) == [(ids[0], ids[2], 3), (ids[6], ids[8], 3)]
    assert not default_storage.exists(blocks[1].path)
    assert default_storage.exists(blocks[0].path)
    assert features_plan(project=project, kind=KIND) == [BlockPlan(first_id=ids[3], last_id=ids[5], rows=3)]
    assert features_refresh(project=project, kind=KIND) == 1
    assert _ranges(project) == [(ids[0], ids[2], 3), (ids[3], ids[5], 3), (ids[6], ids[8], 3)]
    rebuilt = FeatureBlock.objects.get(project=project, first_id=ids[3])
    block_ids, counts, _ = block_load(rebuilt)
    assert block_ids.tolist() == ids[3:6]
    assert (counts[1] != term_counts(["a completely new text"])).nnz == 0


def test_a_plan_never_joins_a_dropped_block_with_new_items(project: Project) -> None:
    # given blocks of items 0-2, 3-5, 6-8, the middle one dropped, and two new items
    ids = _items(project, 9)
    _build(project, block_size=3)
    features_invalidate(project=project, item_ids=[ids[4]])
    new = _items(project, 2)

    # when
    plans = features_plan(project=project, kind=KIND, block_size=10)

    # then
    assert plans == [
        BlockPlan(first_id=ids[3], last_id=ids[5], rows=3),
        BlockPlan(first_id=new[0], last_id=new[1], rows=2),
    ]


@pytest.mark.parametrize(
    ("positions", "dropped", "left"),
    [
        ([], 0, [0, 3, 6]),
        ([0], 1, [3, 6]),
        ([2, 3], 2, [6]),
        ([8], 1, [0, 3]),
        ([0, 4, 8], 3, []),
    ],
)
def test_invalidate_drops_exactly_the_blocks_holding_the_items(
    project: Project, positions: list[int], dropped: int, left: list[int]
) -> None:
    # given blocks of items 0-2, 3-5, 6-8
    ids = _items(project, 9)
    _build(project, block_size=3)

    # when
    count = features_invalidate(project=project, item_ids=[ids[position] for position in positions])

    # then
    assert count == dropped
    assert [first for first, _, _ in _ranges(project)] == [ids[position] for position in left]


def test_invalidate_ignores_items_between_blocks_and_other_projects(project: Project) -> None:
    # given a block of items 0-2, then an uncovered item
    ids = _items(project, 3)
    _build(project, block_size=3)
    later = _items(project, 1)
    other = new_project()
    other_ids = _items(other, 3)
    features_refresh(project=other, kind=KIND)

    # when
    count = features_invalidate(project=project, item_ids=[later[0], *other_ids])

    # then
    assert count == 0
    assert _ranges(project) == [(ids[0], ids[2], 3)]
    assert FeatureBlock.objects.filter(project=other).count() == 1


def test_building_a_block_twice_keeps_the_first(project: Project) -> None:
    # given
    ids = _items(project, 4)
    first = feature_block_build(project=project, kind=KIND, first_id=ids[0], last_id=ids[3])
    assert first is not None

    # when
    again = feature_block_build(project=project, kind=KIND, first_id=ids[0], last_id=ids[3])

    # then
    assert again == first
    assert FeatureBlock.objects.filter(project=project).count() == 1
    assert default_storage.exists(first.path)


def test_building_a_range_without_items_records_nothing(project: Project) -> None:
    ids = _items(project, 2)

    block = feature_block_build(project=project, kind=KIND, first_id=ids[1] + 1, last_id=ids[1] + 10)

    assert block is None
    assert not FeatureBlock.objects.filter(project=project).exists()


def test_features_get_returns_each_row_with_its_id(project: Project) -> None:
    # given blocks of three, and the items wanted in no particular order, one twice, one unknown
    ids = _items(project, 8)
    _build(project, block_size=3)
    idf = idf_compute(project=project, kind=KIND)
    wanted = [ids[7], ids[1], ids[4], ids[1], ids[0], 10**9]

    # when
    found, x = features_get(project=project, kind=KIND, item_ids=wanted, idf=idf)

    # then
    assert found.tolist() == sorted({ids[7], ids[1], ids[4], ids[0]})
    assert x is not None
    assert x.shape[0] == 4
    texts = dict(Item.objects.filter(project=project).values_list("pk", "text"))
    assert idf is not None
    expected = tfidf(term_counts([texts[item] for item in found.tolist()]), idf)
    assert np.abs(x - expected).max() < 1e-6


def test_features_get_of_uncached_items_is_empty(project: Project) -> None:
    ids = _items(project, 2)

    found, x = features_get(project=project, kind=KIND, item_ids=ids, idf=None)

    assert (found.tolist(), x) == ([], None)


def test_idf_sums_document_frequencies_over_every_block(project: Project) -> None:
    # given
    _items(project, 7)
    _build(project, block_size=3)

    # when
    idf = idf_compute(project=project, kind=KIND)

    # then it is the idf of all the items at once
    texts = list(Item.objects.filter(project=project).order_by("pk").values_list("text", flat=True))
    counts = term_counts(texts)
    assert idf is not None
    assert np.array_equal(idf, idf_weights(document_frequency(counts), 7))


def test_idf_of_a_project_without_features_is_none(project: Project) -> None:
    assert idf_compute(project=project, kind=KIND) is None


def test_a_fields_block_holds_the_static_embedding_of_each_items_metadata_text(project: Project) -> None:
    # given two items with metadata text fields and one with none
    with_fields = ItemFactory(project=project, text="a", metadata={"entity1": "canons", "entity2": "chapter"})
    same_fields = ItemFactory(project=project, text="b", metadata={"entity2": "chapter", "entity1": "canons"})
    without = ItemFactory(project=project, text="c", metadata={"span": [1, 2]})

    # when
    features_refresh(project=project, kind=BlockKind.FIELDS)

    # then the block embeds the fields (not the text): equal fields, equal rows; no fields, a zero row
    ids, x = features_get(
        project=project,
        kind=BlockKind.FIELDS,
        item_ids=[with_fields.pk, same_fields.pk, without.pk],
        idf=None,
    )
    assert list(ids) == [with_fields.pk, same_fields.pk, without.pk]
    assert isinstance(x, np.ndarray)
    assert np.allclose(x[0], static_embed(["canons ; chapter"])[0])
    assert np.allclose(x[0], x[1])
    assert not x[2].any()
    assert idf_compute(project=project, kind=BlockKind.FIELDS) is None


def test_the_hybrid_and_fields_kind_puts_three_stored_parts_side_by_side(project: Project) -> None:
    # given
    item = ItemFactory(project=project, text="refund my invoice", metadata={"channel": "email"})

    # when
    for part in stored_kinds(HYBRID_FIELDS):
        features_refresh(project=project, kind=part)
    ids, x = features_get(project=project, kind=HYBRID_FIELDS, item_ids=[item.pk], idf=None)

    # then TF-IDF columns, then the text's static embedding, then the fields'
    assert list(ids) == [item.pk]
    assert x is not None
    assert x.shape == (1, N_FEATURES + 2 * STATIC_DIM)
    dense = x.toarray() if hasattr(x, "toarray") else x
    assert np.allclose(dense[0, N_FEATURES : N_FEATURES + STATIC_DIM], static_embed(["refund my invoice"])[0])
    assert np.allclose(dense[0, N_FEATURES + STATIC_DIM :], static_embed(["email"])[0])


def test_a_context_block_holds_the_words_between_each_items_marked_spans(project: Project) -> None:
    # given a relation item, the same relation between other entities, and an item that marks nothing
    text = "The burst has been caused by water hammer pressure ."
    relation = ItemFactory(project=project, text=text, metadata={"span1": [4, 9], "span2": [42, 50]})
    same = ItemFactory(project=project, text="A fire has been caused by water hammer sparks .",
                       metadata={"span1": [2, 6], "span2": [39, 45]})  # fmt: skip
    unmarked = ItemFactory(project=project, text=text, metadata={"entity1": "burst"})

    # when
    features_refresh(project=project, kind=BlockKind.CONTEXT)

    # then the block holds the context's term frequencies (no IDF is applied), and nothing for no context
    ids, x = features_get(
        project=project, kind=BlockKind.CONTEXT, item_ids=[relation.pk, same.pk, unmarked.pk], idf=None
    )
    assert list(ids) == [relation.pk, same.pk, unmarked.pk]
    assert x is not None
    expected = term_frequencies(["has been caused by water hammer"])
    assert np.allclose(x[0].toarray(), expected.toarray())
    assert np.allclose(x[1].toarray(), expected.toarray())
    assert x[2].nnz == 0
    assert idf_compute(project=project, kind=BlockKind.CONTEXT) is None


def test_the_hybrid_fields_and_context_kind_puts_four_stored_parts_side_by_side(project: Project) -> None:
    # given
    metadata = {"entity1": "burst", "entity2": "pressure", "span1": [4, 9], "span2": [42, 50]}
    item = ItemFactory(
        project=project, text="The burst has been caused by water hammer pressure .", metadata=metadata
    )

    # when
    for part in stored_kinds(HYBRID_FIELDS_CONTEXT):
        features_refresh(project=project, kind=part)
    ids, x = features_get(project=project, kind=HYBRID_FIELDS_CONTEXT, item_ids=[item.pk], idf=None)

    # then TF-IDF columns, the text's static embedding, the fields', then the context's term frequencies
    assert list(ids) == [item.pk]
    assert x is not None
    assert x.shape == (1, 2 * N_FEATURES + 2 * STATIC_DIM)
    context = x[:, N_FEATURES + 2 * STATIC_DIM :]
    assert np.allclose(context.toarray(), term_frequencies(["has been caused by water hammer"]).toarray())

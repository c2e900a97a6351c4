from django.db import models


class FeatureKind(models.TextChoices):
    """What a classifier reads of an item. Every kind but the hybrid one is a cached block kind of its own;
    the hybrid kind reads the TF-IDF and static blocks side by side."""

    HYBRID = "hybrid", "TF-IDF and static MiniLM embeddings (default)"
    HASHED_TFIDF = "hashed_tfidf", "Hashed TF-IDF"
    STATIC = "static", "Static embeddings distilled from all-MiniLM-L6-v2 (fast)"
    EMBEDDINGS = "embeddings", "Sentence embeddings (all-MiniLM-L6-v2, about 150 items/s)"


class BlockKind(models.TextChoices):
    """What a cached feature block holds: one of the text's feature kinds, or the static embedding of the
    item's metadata text fields (`features.vectors.fields_text`), which the end model may read beside the
    text where held-out gold says it helps."""

    HASHED_TFIDF = FeatureKind.HASHED_TFIDF.value, FeatureKind.HASHED_TFIDF.label
    STATIC = FeatureKind.STATIC.value, FeatureKind.STATIC.label
    EMBEDDINGS = FeatureKind.EMBEDDINGS.value, FeatureKind.EMBEDDINGS.label
    FIELDS = "fields", "Static embeddings of the item's metadata text fields"


# The end model's feature set with the metadata fields: the hybrid kind's parts and the fields block.
HYBRID_FIELDS = "hybrid+fields"

# The stored block kinds a feature kind reads, in column order.
STORED_KINDS: dict[str, tuple[str, ...]] = {
    FeatureKind.HYBRID: (FeatureKind.HASHED_TFIDF, FeatureKind.STATIC),
    FeatureKind.HASHED_TFIDF: (FeatureKind.HASHED_TFIDF,),
    FeatureKind.STATIC: (FeatureKind.STATIC,),
    FeatureKind.EMBEDDINGS: (FeatureKind.EMBEDDINGS,),
    BlockKind.FIELDS: (BlockKind.FIELDS,),
    HYBRID_FIELDS: (FeatureKind.HASHED_TFIDF, FeatureKind.STATIC, BlockKind.FIELDS),
}
ENCODER_KINDS = frozenset({FeatureKind.HYBRID, FeatureKind.STATIC, FeatureKind.EMBEDDINGS})
DEFAULT_FEATURES = FeatureKind.HYBRID

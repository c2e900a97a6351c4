from django.db import models


class FeatureKind(models.TextChoices):
    """What a classifier reads of an item. Every kind but the hybrid one is a cached block kind of its own;
    the hybrid kind reads the TF-IDF and static blocks side by side."""

    HYBRID = "hybrid", "TF-IDF and static MiniLM embeddings (default)"
    HASHED_TFIDF = "hashed_tfidf", "Hashed TF-IDF"
    STATIC = "static", "Static embeddings distilled from all-MiniLM-L6-v2 (fast)"
    EMBEDDINGS = "embeddings", "Sentence embeddings (all-MiniLM-L6-v2, about 150 items/s)"


class BlockKind(models.TextChoices):
    """What a cached feature block holds: one of the text's feature kinds, the static embedding of the item's
    metadata text fields (`features.vectors.fields_text`), or the words between two spans of the text that
    its metadata marks (`features.vectors.context_text`); the end model may read the last two beside the text
    where held-out gold says they help."""

    HASHED_TFIDF = FeatureKind.HASHED_TFIDF.value, FeatureKind.HASHED_TFIDF.label
    STATIC = FeatureKind.STATIC.value, FeatureKind.STATIC.label
    EMBEDDINGS = FeatureKind.EMBEDDINGS.value, FeatureKind.EMBEDDINGS.label
    FIELDS = "fields", "Static embeddings of the item's metadata text fields"
    CONTEXT = "context", "Words between the two spans of the text that the item's metadata marks"


# The end model's feature set with the metadata fields: the hybrid kind's parts and the fields block.
HYBRID_FIELDS = "hybrid+fields"
# With the words between two marked spans (relation items: `features.vectors.context_text`), without and with
# the metadata fields.
HYBRID_CONTEXT = "hybrid+context"
HYBRID_FIELDS_CONTEXT = "hybrid+fields+context"

# The stored block kinds a feature kind reads, in column order.
STORED_KINDS: dict[str, tuple[str, ...]] = {
    FeatureKind.HYBRID: (FeatureKind.HASHED_TFIDF, FeatureKind.STATIC),
    FeatureKind.HASHED_TFIDF: (FeatureKind.HASHED_TFIDF,),
    FeatureKind.STATIC: (FeatureKind.STATIC,),
    FeatureKind.EMBEDDINGS: (FeatureKind.EMBEDDINGS,),
    BlockKind.FIELDS: (BlockKind.FIELDS,),
    BlockKind.CONTEXT: (BlockKind.CONTEXT,),
    HYBRID_FIELDS: (FeatureKind.HASHED_TFIDF, FeatureKind.STATIC, BlockKind.FIELDS),
    HYBRID_CONTEXT: (FeatureKind.HASHED_TFIDF, FeatureKind.STATIC, BlockKind.CONTEXT),
    HYBRID_FIELDS_CONTEXT: (
        FeatureKind.HASHED_TFIDF,
        FeatureKind.STATIC,
        BlockKind.FIELDS,
        BlockKind.CONTEXT,
    ),
}
ENCODER_KINDS = frozenset({FeatureKind.HYBRID, FeatureKind.STATIC, FeatureKind.EMBEDDINGS})
DEFAULT_FEATURES = FeatureKind.HYBRID

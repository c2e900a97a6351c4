from django.db import models


class FeatureKind(models.TextChoices):
    """What a classifier reads of an item. Every kind but the hybrid one is a cached block kind of its own;
    the hybrid kind reads the TF-IDF and static blocks side by side."""

    HYBRID = "hybrid", "TF-IDF and static MiniLM embeddings (default)"
    HASHED_TFIDF = "hashed_tfidf", "Hashed TF-IDF"
    STATIC = "static", "Static embeddings distilled from all-MiniLM-L6-v2 (fast)"
    EMBEDDINGS = "embeddings", "Sentence embeddings (all-MiniLM-L6-v2, about 150 items/s)"


# The stored block kinds a feature kind reads, in column order.
STORED_KINDS: dict[str, tuple[str, ...]] = {
    FeatureKind.HYBRID: (FeatureKind.HASHED_TFIDF, FeatureKind.STATIC),
    FeatureKind.HASHED_TFIDF: (FeatureKind.HASHED_TFIDF,),
    FeatureKind.STATIC: (FeatureKind.STATIC,),
    FeatureKind.EMBEDDINGS: (FeatureKind.EMBEDDINGS,),
}
ENCODER_KINDS = frozenset({FeatureKind.HYBRID, FeatureKind.STATIC, FeatureKind.EMBEDDINGS})
DEFAULT_FEATURES = FeatureKind.HYBRID

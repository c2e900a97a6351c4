"""Active learning for span projects on real data: the token classifier (active_learning.tagger) on WRENCH
wikigold, and the simulator's learning curves of span F1, the tagger's uncertainty against random sampling.

Run from the repository root:

    .venv/bin/python bench/spans_al.py [--seeds 3] [--step 50] [--budget 400] [--at 50,100,200,400]
                                       [--strategies adaptive,uncertainty,random] [--json]

The data is `../shared/data/ner/wrench_wikigold` (train, valid and test JSON, BIO tags over tokens), read
here directly: each sentence's tokens joined by one space (core.spans.tokens_join) with its gold tags as
spans, entity types lower-cased as label keys are. No Django, no database.

1. The tagger trained on the whole train split (1,355 sentences, 31,560 tokens): span precision, recall and
   F1 (exact match, micro) on the valid and test splits, and the seconds to fit and to tag.
2. `active_learning.span_evaluation.span_simulate` on the train split, scored on the test split: every
   strategy (adaptive: uncertainty with a random audit share; uncertainty alone; random) labels `step`
   sentences at a time, from a random first batch, up to the budget; curves are means over the seeds.

BLAS runs on one thread (the tagger's fits say so themselves). Three to five minutes with the defaults on
the 2-CPU machine (shared with other work).

Measured (3 seeds, step 50): full train test F1 0.716 (P 0.715, R 0.717; valid 0.670); span F1 at
50 / 100 / 200 / 400 labeled sentences: adaptive 0.276 / 0.404 / 0.512 / 0.583, uncertainty 0.268 / 0.410 /
0.509 / 0.593, random 0.268 / 0.370 / 0.443 / 0.560. Ranking by the least token probability instead of the
geometric mean (2 seeds) gave 0.402 / 0.468 / 0.610 at 100 / 200 / 400, against the mean's 0.420 / 0.514 /
0.595.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from active_learning.span_evaluation import SpanData, span_scores, span_simulate  # noqa: E402
from active_learning.tagger import tagger_fit, tagger_predict  # noqa: E402
from core.spans import tag_spans, token_spans_to_spans, tokens_join  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "ner" / "wrench_wikigold"
TYPES = ["per", "loc", "org", "misc"]


def split_load(folder: Path, name: str) -> SpanData:
    """A WRENCH sequence-tagging split as texts, gold spans (types lower-cased) and row numbers as ids."""
    rows = json.loads((folder / f"{name}.json").read_text())
    texts, spans = [], []
    for row in rows.values():
        text, offsets = tokens_join(row["data"]["text"])
        tags = [tag if tag == "O" else tag[:2] + tag[2:].lower() for tag in row["label"]]
        texts.append((text, offsets))
        spans.append(token_spans_to_spans(text, offsets, tag_spans(tags)))
    return SpanData(texts, spans, np.arange(len(texts), dtype=np.int64))


def full_train(train: SpanData, others: dict[str, SpanData]) -> dict[str, Any]:
    started = time.perf_counter()
    tagger = tagger_fit(train.texts, train.spans, TYPES)
    assert tagger is not None
    result: dict[str, Any] = {"fit_seconds": round(time.perf_counter() - started, 2),
                              "tokens": sum(len(offsets) for _, offsets in train.texts)}  # fmt: skip
    for name, data in others.items():
        started = time.perf_counter()
        predicted = [tagged.spans for tagged in tagger_predict(tagger, data.texts)]
        result[name] = {**span_scores(data.spans, predicted),
                        "tag_seconds": round(time.perf_counter() - started, 2)}  # fmt: skip
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--step", type=int, default=50)
    parser.add_argument("--budget", type=int, default=400)
    parser.add_argument("--at", default="50,100,200,400")
    parser.add_argument("--strategies", default="adaptive,uncertainty,random")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"{DATA} is absent: the bench reads wikigold from ../shared/data/ner.")
    train, valid, test = (split_load(DATA, name) for name in ("train", "valid", "test"))
    full = full_train(train, {"valid": valid, "test": test})
    started = time.perf_counter()
    curves = span_simulate(pool=train, test=test, types=TYPES, strategies=args.strategies.split(","),
                           budget=args.budget, step=args.step, seeds=args.seeds)  # fmt: skip
    curves["seconds"] = round(time.perf_counter() - started, 1)
    if args.json:
        print(json.dumps({"full_train": full, "simulation": curves}))
        return
    print(f"Tagger on the whole train split ({full['tokens']} tokens, fit {full['fit_seconds']} s):")
    for name in ("valid", "test"):
        row = full[name]
        print(
            f"  {name}: P {row['span_precision']:.3f}  R {row['span_recall']:.3f}  F1 {row['span_f1']:.3f}"
            f"  ({row['n_heldout']} sentences, {row['n_spans']} spans, tagged in {row['tag_seconds']} s)"
        )
    at = [int(n) for n in args.at.split(",")]
    print(f"\nSpan F1 on test by labeled sentences (mean of {args.seeds} seeds, step {args.step}; "
          f"full train {curves['full_train']:.3f}; {curves['seconds']} s):")  # fmt: skip
    print("  strategy      " + "".join(f"{n:>8}" for n in at) + "   labels to 95%")
    for name, found in curves["strategies"].items():
        points = {int(n): value for n, value in found["curve"]}
        cells = "".join(f"{points[n]:>8.3f}" if n in points else f"{'-':>8}" for n in at)
        print(f"  {name:<12}  {cells}   {found['labels_to_95']}")


if __name__ == "__main__":
    main()

"""Truth inference (`oversight/truth.py`) on real crowd labels, on WRENCH sets with simulated annotators, label
errors found in gold labels (`oversight/label_errors.py`), and the engine's time on a million items.

Run from the repository root:

    .venv/bin/python bench/truth.py [--section crowd|simulated|errors|scale|all] [--quick]

Everything is read from ../shared/data; a section whose data is absent says so and is skipped. Every draw is
seeded, so a rerun prints the same figures (times aside). Wherever gold is used, it is used as the platform uses
usable gold: `variant_select` chooses the variant on held-out gold (the default, Dawid-Skene, below 30 gold
items), then `infer` runs that variant with every usable gold item held fixed, and only the items that were
NOT fixed are scored. Majority vote (MV) everywhere breaks ties by a seeded random choice among the tied
classes (`tie_broken_argmax`), never by class order.

**crowd**: CrowdFlower weather sentiment (../shared/data/crowd/weather_sentiment): 1,000 tweets x 20 real
answers from 102 workers, 5 classes. The gold `sentiment` column uses exactly the judgments' five strings
(`Positive`, `Negative`, `Neutral / author is just sharing information`, `Tweet not related to weather
condition`, `I can't tell`), so the mapping is the identity (2 gold tweets are `I can't tell`). Scored on all
1,000 tweets and on the Snorkel tutorial's strict subset (`correct_category == "Yes"` and
`correct_category_conf == 1`: 632 tweets). Rows: MV; our inference with no gold, each variant (the default is
`dawid_skene`); crowd-kit's MajorityVote, DawidSkene, OneCoinDawidSkene, GLAD and MACE where importable; then
a project-like gold set: 5% of the tweets (50, seeded draws 0-4) held fixed and used by `variant_select`,
everything (crowd-kit too, which does not use the gold) scored on the other tweets only.

**simulated**: WRENCH youtube, sms and semeval (all splits: every item gets answers). Six simulated annotators
with these confusion matrices (row: true class t, column: answer; k classes):

- a1, a2, a3 (good): P(t | t) = 0.88, 0.90, 0.92; P(j | t) = (1 - P(t | t)) / (k - 1) for j != t;
- a4 (weak): P(t | t) = 0.70, errors spread evenly the same way;
- a5 (spammer): P(j | t) = 1 / k for every j (uniform random, whatever the item);
- a6 (majority on doubt): on an *uncertain* item it answers the majority class M (the most frequent true
  class of the set: youtube SPAM (1), sms ham (0), semeval Cause-Effect (0) on this data; P(M | t) = 1);
  on the other items it answers like a good annotator at 0.90. An item is uncertain when a logistic
  regression on hashed TF-IDF, fitted out of fold (5 folds) on the true labels, gives the true class a
  probability below 0.6: a property of the text alone, independent of every annotator's draws.

Each item gets answers from 3 of the 6 annotators, drawn at random without replacement (seed s). Sources:
the six annotators (`silent_answers` False), the set's WRENCH labeling functions (`silent_answers` True: an
abstain is modelled), and an end model (`silent_answers` False): a logistic regression on hashed TF-IDF
(unigrams and bigrams, idf over the set's texts), cross-fitted (5 folds) on the annotators' MV labels (C from
0.1/1/10 by out-of-fold log loss against those MV labels), so it never sees a true label; each item gets the
answer of the fold model that did not see it. Usable gold: the valid split's labels (held fixed, used by
`variant_select`); scored on the test split. Rows: MV over the 3 answers; inference over the annotators;
inference over annotators + LFs + end model; the gain over MV in points; Spearman (scipy) between the
annotators' estimated accuracy (`source_reliability(...).accuracy` of the all-sources inference) and their
realised accuracy (the share of their answers that equal the truth), over the six annotators. Seeds 0, 1, 2
(`--quick`: seed 0 only).

**errors**: youtube, sms, semeval: gold = train + valid labels; 5% and 10% of them flipped at random (seed 0)
to another class drawn uniformly; then what a scan does (`oversight.services.label_errors`): candidate
feature sets, the text (hashed TF-IDF, idf over the set, beside the static embeddings: the platform's `hybrid`
kind) and, where the items carry metadata text fields (semeval's two entities), the text beside the fields'
static embedding (`hybrid+fields`), each alone and beside the set's LF votes (a column per LF and class it
voted for), scored by `out_of_fold_select` (5 folds, C from 0.1/1/10, the lowest out-of-fold log loss wins;
the winner refitted on two more draws of the folds and averaged), and `label_issues_find` on its probabilities;
precision and recall of the flagged rows against the flipped ones.
`--quick`: 10% only.

**scale**: synthetic, 1,000,000 items (`--quick`: 100,000), k = 2 and k = 5: a pool of 100 annotators, each
right with its own probability drawn uniformly from 0.55-0.95 (errors spread evenly over the other classes),
3 distinct annotators per item; 10 labeling functions, each firing on a random 30-60% of the items and right
60-90% of the time where it fires. `infer` alone (the default variant, no gold) is timed in a child process:
seconds, iterations, converged, peak RSS (resource.getrusage, the whole child: data included, and before the
fit), accuracy beside MV over the annotators and over annotators + LFs.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(
    0, str(ROOT)
)  # before bench/ (the script's own folder): bench/oversight.py is not the package

from oversight.truth import (  # noqa: E402  (after the path is set)
    VARIANTS,
    Answers,
    Inference,
    Selection,
    infer,
    source_reliability,
    variant_select,
)

DATA = ROOT.parent / "shared" / "data"
CROWD = DATA / "crowd" / "weather_sentiment"
WRENCH = DATA / "wrench"
DATASETS = ("youtube", "sms", "semeval")
SPLITS = ("train", "valid", "test")

CROWD_CLASSES = [
    "Positive",
    "Negative",
    "Neutral / author is just sharing information",
    "Tweet not related to weather condition",
    "I can't tell",
]
CROWD_GOLD_SHARE = 0.05
CROWD_GOLD_DRAWS = 5

ANNOTATORS = [  # name, kind, accuracy (None: not one-coin)
    ("a1 good 0.88", "coin", 0.88),
    ("a2 good 0.90", "coin", 0.90),
    ("a3 good 0.92", "coin", 0.92),
    ("a4 weak 0.70", "coin", 0.70),
    ("a5 spammer", "spam", None),
    ("a6 majority on doubt", "doubt", 0.90),
]
ANSWERS_PER_ITEM = 3
UNCERTAIN_BELOW = 0.6
FOLDS = 5
C_GRID = (0.1, 1.0, 10.0)
TARGET_GAIN = 3.0  # points over MV
TARGET_SPEARMAN = 0.9
TARGET_PRECISION = 0.7
TARGET_RECALL = 0.6
TARGET_SCALE_S = 30.0

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


# --- shared ------------------------------------------------------------------------------------------------


def tie_broken_argmax(votes: Floats, rng: np.random.Generator) -> Ints:
    """Each row's class with the most votes, ties broken by a seeded random choice (votes are counts, so a
    jitter below 0.5 only orders the tied classes)."""
    return np.asarray(np.argmax(votes + 0.49 * rng.random(votes.shape), axis=1), dtype=np.int64)


def vote_counts(item: Ints, answer: Ints, n: int, k: int) -> Floats:
    votes = np.zeros((n, k))
    np.add.at(votes, (item, answer), 1.0)
    return votes


def accuracy(predicted: Ints, truth: Ints, rows: Ints | npt.NDArray[np.bool_] | None = None) -> float:
    if rows is None:
        return float((predicted == truth).mean())
    return float((predicted[rows] == truth[rows]).mean())


def platform_infer(
    answers: Answers, gold_rows: Ints | None = None, gold_classes: Ints | None = None
) -> tuple[Selection, Inference, float]:
    """The platform's protocol: choose the variant on held-out gold, then infer with all of it held fixed."""
    rows = np.zeros(0, dtype=np.int64) if gold_rows is None else gold_rows
    classes = np.zeros(0, dtype=np.int64) if gold_classes is None else gold_classes
    started = time.perf_counter()
    selection = variant_select(answers, fixed_rows=rows, fixed_classes=classes)
    inference = infer(answers, fixed_rows=rows, fixed_classes=classes, variant=selection.variant)
    return selection, inference, time.perf_counter() - started


def selection_text(selection: Selection) -> str:
    if selection.method != "held_out_gold":
        return f"{selection.variant} ({selection.method})"
    scores = ", ".join(f"{v} {selection.scores[v]:.3f}" for v in VARIANTS)
    return f"{selection.variant} ({scores} on {selection.n_heldout} held out)"


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")


def met(ok: bool) -> str:
    return "met" if ok else "MISSED"


def tfidf_features(texts: Sequence[str]) -> Any:
    from features.vectors import document_frequency, idf_weights, term_counts, tfidf

    counts = term_counts(texts)
    return tfidf(counts, idf_weights(document_frequency(counts), len(texts)))


def cross_fitted(
    x: Any, y: Ints, k: int, *, seed: int, c_grid: Sequence[float] = C_GRID
) -> tuple[Floats, float]:
    """Out-of-fold class probabilities of a logistic regression fitted on (x, y), C by out-of-fold log loss."""
    from sklearn.metrics import log_loss
    from sklearn.model_selection import StratifiedKFold

    # Fitted on the hashed columns the fold's items use, as the platform's classifiers are: the same model.
    from features.classifiers import CompactLogisticRegression as LogisticRegression

    counts = np.bincount(y, minlength=k)
    folds = max(2, min(FOLDS, int(counts[counts > 0].min())))
    splits = list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))
    best: tuple[float, Floats, float] | None = None
    for c in c_grid:
        out = np.zeros((len(y), k))
        for train, test in splits:
            model = LogisticRegression(C=c, max_iter=2000).fit(x[train], y[train])
            out[np.ix_(test, model.classes_)] = model.predict_proba(x[test])
        out = np.clip(out, 1e-9, None)
        out /= out.sum(axis=1, keepdims=True)
        loss = float(log_loss(y, out, labels=list(range(k))))
        if best is None or loss < best[0]:
            best = (loss, out, c)
    assert best is not None
    return best[1], best[2]


# --- crowd -------------------------------------------------------------------------------------------------


def crowd_load() -> dict[str, Any]:
    import pandas as pd

    judgments = pd.read_csv(CROWD / "weather-non-agg-DFE.csv")
    gold = pd.read_csv(CROWD / "weather-evaluated-agg-DFE.csv")
    index = {name: i for i, name in enumerate(CROWD_CLASSES)}
    unknown = (set(judgments["emotion"]) | set(gold["sentiment"])) - set(index)
    if unknown:
        raise SystemExit(f"unmapped classes in the crowd data: {sorted(unknown)}")
    tweets = sorted(gold["tweet_id"].unique())
    row_of = {tweet: i for i, tweet in enumerate(tweets)}
    workers = sorted(judgments["worker_id"].unique())
    worker_of = {worker: i for i, worker in enumerate(workers)}
    gold = gold.set_index("tweet_id").loc[tweets]
    truth = np.array([index[s] for s in gold["sentiment"]], dtype=np.int64)
    strict = ((gold["correct_category"] == "Yes") & (gold["correct_category_conf"] == 1)).to_numpy()
    item = judgments["tweet_id"].map(row_of).to_numpy(dtype=np.int64)
    source = judgments["worker_id"].map(worker_of).to_numpy(dtype=np.int64)
    answer = judgments["emotion"].map(index).to_numpy(dtype=np.int64)
    answers = Answers.of(
        item, source, answer, n_items=len(tweets), n_sources=len(workers), k=len(CROWD_CLASSES)
    )
    return {"answers": answers, "truth": truth, "strict": strict, "judgments": judgments, "row_of": row_of}


def crowdkit_run(judgments: Any, row_of: dict[Any, int], n: int) -> dict[str, tuple[Ints | None, float, str]]:
    """Each crowd-kit aggregator's labels (rows in our item order), its seconds, and a note."""
    out: dict[str, tuple[Ints | None, float, str]] = {}
    try:
        from crowdkit import aggregation
    except Exception as error:
        return {"crowd-kit": (None, 0.0, f"not importable: {error}")}
    frame = judgments.rename(columns={"tweet_id": "task", "worker_id": "worker", "emotion": "label"})[
        ["task", "worker", "label"]
    ]
    index = {name: i for i, name in enumerate(CROWD_CLASSES)}
    makers: dict[str, Callable[[], Any]] = {
        "MajorityVote": lambda: aggregation.MajorityVote(),
        "DawidSkene": lambda: aggregation.DawidSkene(n_iter=100),
        "OneCoinDawidSkene": lambda: aggregation.OneCoinDawidSkene(n_iter=100),
        "GLAD": lambda: aggregation.GLAD(),
        "MACE": lambda: aggregation.MACE(random_state=0),
    }
    for name, make in makers.items():
        if not hasattr(aggregation, name):
            out[name] = (None, 0.0, "not in this crowd-kit")
            continue
        try:
            started = time.perf_counter()
            result = make().fit_predict(frame)
            seconds = time.perf_counter() - started
        except Exception as error:
            out[name] = (None, 0.0, f"failed: {type(error).__name__}: {error}")
            continue
        labels = np.full(n, -1, dtype=np.int64)
        for task, label in result.items():
            labels[row_of[task]] = index[label]
        out[name] = (labels, seconds, "")
    return out


def section_crowd(quick: bool) -> None:
    print("\n## crowd: weather sentiment, 1,000 tweets x 20 real answers, 5 classes\n")
    if not CROWD.is_dir():
        print(f"SKIPPED: {CROWD} is absent (it lives in ../shared/data/crowd).")
        return
    data = crowd_load()
    answers, truth, strict = data["answers"], data["truth"], data["strict"]
    n, k = answers.n_items, answers.k
    every = np.ones(n, dtype=np.bool_)
    print(f"{len(answers.item):,} answers, {answers.n_sources} workers; strict gold subset {int(strict.sum())} "
          f"tweets; gold = the `sentiment` column (same five strings as the answers: identity mapping)\n")  # fmt: skip
    rng = np.random.default_rng(0)
    started = time.perf_counter()
    mv = tie_broken_argmax(vote_counts(answers.item, answers.answer, n, k), rng)
    mv_s = time.perf_counter() - started
    rows: list[list[Any]] = [["majority vote (ties: seeded random)", f"{accuracy(mv, truth):.3f}",
                              f"{accuracy(mv, truth, strict):.3f}", f"{mv_s:.2f}", ""]]  # fmt: skip
    ours: dict[str, float] = {}
    for variant in ("dawid_skene", "one_coin", "majority_vote"):
        started = time.perf_counter()
        fitted = infer(answers, variant=variant)
        seconds = time.perf_counter() - started
        labels = fitted.labels()
        ours[variant] = accuracy(labels, truth)
        note = "the default, used with no gold" if variant == "dawid_skene" else ""
        rows.append([f"ours, {variant}, no gold", f"{accuracy(labels, truth):.3f}",
                     f"{accuracy(labels, truth, strict):.3f}", f"{seconds:.2f}",
                     f"{note}; {fitted.iterations} iterations".strip("; ")])  # fmt: skip
    reference = crowdkit_run(data["judgments"], data["row_of"], n)
    for name, (given, seconds, note) in reference.items():
        if given is None:
            rows.append([f"crowd-kit {name}", "-", "-", "-", note])
            continue
        rows.append([f"crowd-kit {name}", f"{accuracy(given, truth):.3f}", f"{accuracy(given, truth, strict):.3f}",
                     f"{seconds:.2f}", note])  # fmt: skip
    print("No gold used (accuracy):\n")
    table(["method", "all 1,000", "strict 632", "seconds", "note"], rows)

    share = CROWD_GOLD_SHARE
    n_gold = round(share * n)
    print(f"\nProject-like gold: {n_gold} tweets ({share:.0%}, seeded draw d) held fixed and used by variant_select; "
          f"every figure on the other {n - n_gold} tweets (all / strict subset of them):\n")  # fmt: skip
    ck = {name: labels for name, (labels, _, _) in reference.items() if labels is not None}
    header = [
        "draw",
        "selected (held-out accuracy)",
        "ours",
        "majority vote",
        *[f"crowd-kit {c}" for c in ck],
    ]
    rows = []
    totals: dict[str, list[tuple[float, float]]] = {}
    for draw in range(1 if quick else CROWD_GOLD_DRAWS):
        gold_rows = np.sort(np.random.default_rng(draw).choice(n, n_gold, replace=False))
        selection, fitted, _ = platform_infer(answers, gold_rows, truth[gold_rows])
        other = every.copy()
        other[gold_rows] = False
        cells = {
            "ours": fitted.labels(),
            "majority vote": mv,
            **{f"crowd-kit {c}": labels for c, labels in ck.items()},
        }
        row: list[Any] = [draw, selection_text(selection)]
        for name, labels in cells.items():
            pair = (accuracy(labels, truth, other), accuracy(labels, truth, other & strict))
            totals.setdefault(name, []).append(pair)
            row.append(f"{pair[0]:.3f} / {pair[1]:.3f}")
        rows.append(row)
    rows.append(["mean", ""] + [f"{np.mean([p[0] for p in v]):.3f} / {np.mean([p[1] for p in v]):.3f}"
                                for v in totals.values()])  # fmt: skip
    table(header, rows)
    print("\nTarget: on the real crowd set, at least as accurate as crowd-kit's Dawid-Skene:\n")
    if "DawidSkene" in ck:
        ds_all = accuracy(ck["DawidSkene"], truth)
        ds_strict = accuracy(ck["DawidSkene"], truth, strict)
        default = infer(answers).labels()
        print(f"- no gold (default dawid_skene): {accuracy(default, truth):.3f} vs {ds_all:.3f} (all), "
              f"{accuracy(default, truth, strict):.3f} vs {ds_strict:.3f} (strict): "
              f"{met(accuracy(default, truth) >= ds_all and accuracy(default, truth, strict) >= ds_strict)}"
              )  # fmt: skip
        mine = [np.mean([p[i] for p in totals["ours"]]) for i in (0, 1)]
        theirs = [np.mean([p[i] for p in totals["crowd-kit DawidSkene"]]) for i in (0, 1)]
        print(f"- {share:.0%} gold, variant chosen by variant_select (mean over draws, other tweets): "
              f"{mine[0]:.3f} vs {theirs[0]:.3f} (all), {mine[1]:.3f} vs {theirs[1]:.3f} (strict): "
              f"{met(mine[0] >= theirs[0] and mine[1] >= theirs[1])}")  # fmt: skip
    else:
        print("- crowd-kit DawidSkene not available: no comparison")


# --- WRENCH ------------------------------------------------------------------------------------------------


def wrench_load(name: str) -> dict[str, Any] | None:
    folder = WRENCH / name
    if not all((folder / f"{split}.json").is_file() for split in SPLITS):
        return None
    from features.vectors import fields_text  # the metadata text a project's fields block embeds

    texts: list[str] = []
    fields: list[str] = []  # as the WRENCH import stores them: every data field but the text, as metadata
    labels: list[int] = []
    weak: list[list[int]] = []
    split_of: list[str] = []
    for split in SPLITS:
        for entry in json.loads((folder / f"{split}.json").read_text()).values():
            texts.append(entry["data"]["text"])
            fields.append(fields_text({key: value for key, value in entry["data"].items() if key != "text"}))
            labels.append(int(entry["label"]))
            weak.append([int(v) for v in entry["weak_labels"]])
            split_of.append(split)
    names = json.loads((folder / "label.json").read_text())
    return {
        "texts": texts, "fields": fields, "truth": np.array(labels, dtype=np.int64),
        "weak": np.array(weak, dtype=np.int64),
        "split": np.array(split_of), "k": len(names), "classes": [names[str(i)] for i in range(len(names))],
    }  # fmt: skip


def simulate_annotators(
    truth: Ints, uncertain: npt.NDArray[np.bool_], majority: int, k: int, seed: int
) -> Answers:
    """Three of the six annotators per item, each answering from its confusion matrix (see the docstring)."""
    rng = np.random.default_rng(seed)
    n = len(truth)
    chosen = np.argsort(rng.random((n, len(ANNOTATORS))), axis=1)[:, :ANSWERS_PER_ITEM]
    item = np.repeat(np.arange(n), ANSWERS_PER_ITEM)
    source = chosen.reshape(-1).astype(np.int64)
    true = truth[item]
    wrong = (true + rng.integers(1, k, len(item))) % k  # another class, uniformly
    draw = rng.random(len(item))
    answer = np.empty(len(item), dtype=np.int64)
    for s, (_, kind, acc) in enumerate(ANNOTATORS):
        mine = source == s
        if kind == "spam":
            answer[mine] = rng.integers(0, k, int(mine.sum()))
            continue
        answer[mine] = np.where(draw[mine] < acc, true[mine], wrong[mine])
        if kind == "doubt":
            doubtful = mine & uncertain[item]
            answer[doubtful] = majority
    return Answers.of(item, source, answer, n_items=n, n_sources=len(ANNOTATORS), k=k)


def combined(annotators: Answers, weak: Ints, model: Ints) -> Answers:
    """Annotators, then the LFs (silence modelled), then the end model, as one set of sources."""
    n, k, m = annotators.n_items, annotators.k, weak.shape[1]
    lf_item, lf = np.nonzero(weak >= 0)
    item = np.concatenate([annotators.item, lf_item, np.arange(n)])
    source = np.concatenate([annotators.source, len(ANNOTATORS) + lf, np.full(n, len(ANNOTATORS) + m)])
    answer = np.concatenate([annotators.answer, weak[lf_item, lf], model])
    silent = [False] * len(ANNOTATORS) + [True] * m + [False]
    return Answers.of(item, source, answer, n_items=n, n_sources=len(silent), k=k, silent_answers=silent)


def section_simulated(quick: bool) -> None:
    from scipy.stats import spearmanr

    print(
        "\n## simulated: WRENCH sets, six simulated annotators (3 answers per item), LFs and an end model\n"
    )
    seeds = [0] if quick else [0, 1, 2]
    results: dict[str, list[dict[str, Any]]] = {}
    for name in DATASETS:
        data = wrench_load(name)
        if data is None:
            print(f"SKIPPED {name}: {WRENCH / name} is absent (it lives in ../shared/data/wrench).")
            continue
        truth, k, split = data["truth"], data["k"], data["split"]
        n = len(truth)
        started = time.perf_counter()
        x = tfidf_features(data["texts"])
        probabilities, c = cross_fitted(x, truth, k, seed=0)
        uncertain = probabilities[np.arange(n), truth] < UNCERTAIN_BELOW
        majority = int(np.bincount(truth, minlength=k).argmax())
        gold_rows = np.flatnonzero(split == "valid")
        test = split == "test"
        print(f"- {name}: {n:,} items ({int(test.sum())} test, {len(gold_rows)} valid = usable gold), k={k}, "
              f"{data['weak'].shape[1]} LFs; uncertain items (out-of-fold P(true) < {UNCERTAIN_BELOW}, C={c:g}) "
              f"{uncertain.mean():.1%}; majority class {data['classes'][majority]} "
              f"({np.mean(truth == majority):.1%}); setup {time.perf_counter() - started:.1f} s")  # fmt: skip
        for seed in seeds:
            started = time.perf_counter()
            people = simulate_annotators(truth, uncertain, majority, k, seed)
            votes = vote_counts(people.item, people.answer, n, k)
            mv = tie_broken_argmax(votes, np.random.default_rng(1000 + seed))
            model_probabilities, model_c = cross_fitted(x, mv, k, seed=seed)
            model = np.asarray(model_probabilities.argmax(axis=1), dtype=np.int64)
            selection_people, people_fit, _ = platform_infer(people, gold_rows, truth[gold_rows])
            everything = combined(people, data["weak"], model)
            selection_all, all_fit, _ = platform_infer(everything, gold_rows, truth[gold_rows])
            estimated = [r.accuracy for r in source_reliability(everything, all_fit)[: len(ANNOTATORS)]]
            estimated_people = [r.accuracy for r in source_reliability(people, people_fit)]
            realised = [float((people.answer[people.source == s] == truth[people.item[people.source == s]]).mean())
                        for s in range(len(ANNOTATORS))]  # fmt: skip
            results.setdefault(name, []).append({
                "seed": seed, "mv": accuracy(mv, truth, test), "people": accuracy(people_fit.labels(), truth, test),
                "all": accuracy(all_fit.labels(), truth, test), "model": accuracy(model, truth, test),
                "model_c": model_c, "selected_people": selection_text(selection_people),
                "selected_all": selection_text(selection_all),
                "spearman": float(spearmanr(estimated, realised).statistic),
                "spearman_people": float(spearmanr(estimated_people, realised).statistic),
                "estimated": estimated, "realised": realised, "seconds": time.perf_counter() - started,
                "ties": int((np.sort(votes, axis=1)[:, -1] == np.sort(votes, axis=1)[:, -2]).sum()),
            })  # fmt: skip
    if not results:
        return
    print(
        "\nTest split accuracy, per seed (usable gold = valid split, held fixed; variant by variant_select):\n"
    )
    rows = []
    for name, runs in results.items():
        for r in runs:
            gain = 100 * (r["all"] - r["mv"])
            rows.append([name, r["seed"], f"{r['mv']:.4f}", f"{r['people']:.4f}", f"{r['all']:.4f}",
                         f"{r['model']:.4f}", f"{gain:+.1f}", met(gain >= TARGET_GAIN), f"{r['spearman']:.3f}",
                         f"{r['spearman_people']:.3f}", r["ties"], f"{r['seconds']:.1f}"])  # fmt: skip
    table(["set", "seed", "MV (3 answers)", "inference: annotators", "inference: + LFs + end model",
           "end model alone", "gain over MV (points)", f">= +{TARGET_GAIN:g}", "Spearman (all sources)",
           "Spearman (annotators only)", "MV ties", "seconds"], rows)  # fmt: skip
    print("\nMean over seeds:\n")
    rows = []
    for name, runs in results.items():
        mean = {key: float(np.mean([r[key] for r in runs])) for key in ("mv", "people", "all", "spearman")}
        gain = 100 * (mean["all"] - mean["mv"])
        worst_gain = min(100 * (r["all"] - r["mv"]) for r in runs)
        worst_rho = min(r["spearman"] for r in runs)
        rows.append([name, f"{mean['mv']:.4f}", f"{mean['people']:.4f}", f"{mean['all']:.4f}", f"{gain:+.1f}",
                     f"{met(gain >= TARGET_GAIN)} (worst seed {worst_gain:+.1f})", f"{mean['spearman']:.3f}",
                     f"{met(mean['spearman'] >= TARGET_SPEARMAN)} (worst seed {worst_rho:.3f})"])  # fmt: skip
    table(["set", "MV", "annotators", "+ LFs + end model", "gain (points)", f"target >= +{TARGET_GAIN:g}",
           "Spearman", f"target >= {TARGET_SPEARMAN}"], rows)  # fmt: skip
    print(
        "\nVariants chosen, and each annotator's estimated / realised accuracy (all sources, seed "
        f"{seeds[0]}):\n"
    )
    for name, runs in results.items():
        r = runs[0]
        triples = zip(ANNOTATORS, r["estimated"], r["realised"], strict=True)
        pairs = ", ".join(f"{label.split()[0]} {e:.3f}/{t:.3f}" for (label, _, _), e, t in triples)
        print(f"- {name}: annotators {r['selected_people']}; all sources {r['selected_all']}; end model C="
              f"{r['model_c']:g}; {pairs}")  # fmt: skip


# --- label errors ------------------------------------------------------------------------------------------


def lf_vote_features(weak: Ints, k: int) -> Any:
    """The LFs' votes as the platform builds them for a scan: a column per (LF, class) it voted for."""
    from scipy import sparse

    rows, lfs = np.nonzero(weak >= 0)
    pairs = lfs * k + weak[rows, lfs]
    used, columns = np.unique(pairs, return_inverse=True)
    data = np.ones(len(rows), dtype=np.float32)
    return sparse.csr_matrix((data, (rows, columns)), shape=(weak.shape[0], len(used)))


def section_errors(quick: bool) -> None:
    print("\n## errors: flipped gold labels (train + valid), found by oversight.label_errors\n")
    try:
        from oversight.label_errors import label_issues_find, out_of_fold_select
    except ImportError as error:
        print(f"oversight.label_errors not available ({error}): section skipped.")
        return
    present = [name for name in DATASETS if (WRENCH / name).is_dir()]
    if not present:
        print(f"SKIPPED: {WRENCH} is absent (it lives in ../shared/data/wrench).")
        return
    with tempfile.TemporaryDirectory(prefix="oversight-bench-truth-") as scratch:
        from bench.harness import embedded_django_setup

        embedded_django_setup(Path(scratch))  # the static encoder reads its table through Django's storage
        from features.services.cache import hstack_features
        from features.vectors import block_compute

        rates = [0.10] if quick else [0.05, 0.10]
        rows = []
        for name in present:
            data = wrench_load(name)
            assert data is not None
            keep = data["split"] != "test"
            texts = [t for t, kept in zip(data["texts"], keep, strict=True) if kept]
            y, k = data["truth"][keep], data["k"]
            started = time.perf_counter()
            text_x = hstack_features([tfidf_features(texts), np.asarray(block_compute("static", texts))])
            votes = lf_vote_features(data["weak"][keep], k)
            kinds = {"hybrid": text_x}
            fields = [f for f, kept in zip(data["fields"], keep, strict=True) if kept]
            if any(fields):  # as features.selectors.project_has_text_fields decides
                kinds["hybrid+fields"] = hstack_features(
                    [text_x, np.asarray(block_compute("static", fields))]
                )
            candidates = {}
            for kind, x in kinds.items():
                candidates[kind] = x
                candidates[kind + "+lfs"] = hstack_features([x, votes])
            features_s = time.perf_counter() - started
            for rate in rates:
                rng = np.random.default_rng(0)
                flipped = np.sort(rng.choice(len(y), round(rate * len(y)), replace=False))
                noisy = y.copy()
                noisy[flipped] = (y[flipped] + rng.integers(1, k, len(flipped))) % k
                started = time.perf_counter()
                fitted = out_of_fold_select(candidates, noisy, k)
                found = np.asarray(label_issues_find(noisy, fitted.probabilities), dtype=np.int64)
                seconds = time.perf_counter() - started
                hits = int(np.isin(found, flipped).sum())
                precision = hits / len(found) if len(found) else float("nan")
                recall = hits / len(flipped)
                target = (
                    met(precision >= TARGET_PRECISION and recall >= TARGET_RECALL) if rate == 0.10 else ""
                )
                oof = float((fitted.probabilities.argmax(axis=1) == y).mean())
                losses = ", ".join(f"{key} {value:.3f}" for key, value in fitted.log_loss.items())
                rows.append([name, len(y), f"{rate:.0%}", len(flipped), f"{fitted.features}, C={fitted.c:g}",
                             losses, f"{oof:.3f}", len(found), hits, f"{precision:.3f}", f"{recall:.3f}", target,
                             f"{seconds:.0f}"])  # fmt: skip
            print(
                f"- {name}: {len(y):,} gold labels, k={k}, {data['weak'].shape[1]} LFs, features {features_s:.1f} s"
            )
        print()
        table(["set", "gold", "flipped", "rows flipped", "chosen (out-of-fold log loss)", "log loss per set",
               "out-of-fold accuracy vs truth", "flagged", "flagged and flipped", "precision", "recall",
               f"at 10%: P >= {TARGET_PRECISION}, R >= {TARGET_RECALL}", "seconds"], rows)  # fmt: skip


# --- scale -------------------------------------------------------------------------------------------------


def scale_data(n: int, k: int, seed: int = 0) -> tuple[Answers, Ints, Floats, Floats]:
    rng = np.random.default_rng(seed)
    pool, lfs = 100, 10
    truth = rng.integers(0, k, n)
    skill = rng.uniform(0.55, 0.95, pool)
    first = rng.integers(0, pool, n)  # three distinct annotators: offsets d1 != d2 in 1..pool-1
    d1 = rng.integers(1, pool, n)
    d2 = rng.integers(1, pool - 1, n)
    d2 = d2 + (d2 >= d1)
    who = np.stack([first, (first + d1) % pool, (first + d2) % pool], axis=1).reshape(-1)
    item = np.repeat(np.arange(n), ANSWERS_PER_ITEM)
    right = rng.random(len(item)) < skill[who]
    answer = np.where(right, truth[item], (truth[item] + rng.integers(1, k, len(item))) % k)
    lf_items, lf_answers, lf_sources = [], [], []
    for j in range(lfs):
        coverage, precision = rng.uniform(0.3, 0.6), rng.uniform(0.6, 0.9)
        fires = np.flatnonzero(rng.random(n) < coverage)
        good = rng.random(len(fires)) < precision
        lf_items.append(fires)
        lf_answers.append(np.where(good, truth[fires], (truth[fires] + rng.integers(1, k, len(fires))) % k))
        lf_sources.append(np.full(len(fires), pool + j))
    people_votes = np.zeros((n, k))
    np.add.at(people_votes, (item, answer), 1.0)
    all_votes = people_votes.copy()
    for fires, votes in zip(lf_items, lf_answers, strict=False):
        np.add.at(all_votes, (fires, votes), 1.0)
    answers = Answers.of(
        np.concatenate([item, *lf_items]), np.concatenate([who, *lf_sources]),
        np.concatenate([answer, *lf_answers]), n_items=n, n_sources=pool + lfs, k=k,
        silent_answers=[False] * pool + [True] * lfs,
    )  # fmt: skip
    return answers, truth, people_votes, all_votes


def scale_child(n: int, k: int, profile: bool) -> None:
    answers, truth, people_votes, all_votes = scale_data(n, k)
    rng = np.random.default_rng(1)
    mv_people = tie_broken_argmax(people_votes, rng)
    mv_all = tie_broken_argmax(all_votes, rng)
    del people_votes, all_votes
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    fitted = infer(answers)
    seconds = time.perf_counter() - started
    if profile:
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(12)
    print(json.dumps({
        "n": n, "k": k, "answers": len(answers.item), "seconds": seconds, "iterations": fitted.iterations,
        "converged": fitted.converged, "variant": fitted.variant, "accuracy": accuracy(fitted.labels(), truth),
        "mv_people": accuracy(mv_people, truth), "mv_all": accuracy(mv_all, truth),
        "rss_before_mb": rss_before, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))  # fmt: skip


def section_scale(quick: bool, profile: bool) -> None:
    n = 100_000 if quick else 1_000_000
    print(f"\n## scale: infer alone on {n:,} synthetic items, 3 answers each (100 annotators) + 10 LFs\n")
    rows = []
    for k in (2, 5):
        command = [sys.executable, __file__, "--scale-child", f"{n},{k}"] + (["--profile"] if profile else [])
        done = subprocess.run(
            command, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}
        )
        if done.returncode:
            print(f"k={k}: the child failed:\n{done.stderr[-3000:]}")
            continue
        if profile:
            print(f"Profile, k={k}:\n```\n{done.stderr.strip()}\n```\n")
        r = json.loads(done.stdout.strip().splitlines()[-1])
        rows.append([f"{r['n']:,}", r["k"], f"{r['answers']:,}", r["variant"], f"{r['seconds']:.1f}",
                     met(r["seconds"] <= TARGET_SCALE_S), r["iterations"], r["converged"], f"{r['accuracy']:.4f}",
                     f"{r['mv_people']:.4f}", f"{r['mv_all']:.4f}", f"{r['rss_before_mb']:.0f}",
                     f"{r['peak_rss_mb']:.0f}"])  # fmt: skip
    table(["items", "k", "answers", "variant", "infer s", f"<= {TARGET_SCALE_S:g} s", "iterations", "converged",
           "accuracy", "MV annotators", "MV annotators + LFs", "peak RSS MB before infer", "peak RSS MB"],
          rows)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--section", default="all", choices=["crowd", "simulated", "errors", "scale", "all"])
    parser.add_argument(
        "--quick", action="store_true", help="fewer seeds, draws and cases; 100,000 items at scale"
    )
    parser.add_argument("--profile", action="store_true", help="scale: print the fit's cProfile (top 12)")
    parser.add_argument("--scale-child", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.scale_child:
        n, k = (int(v) for v in args.scale_child.split(","))
        scale_child(n, k, args.profile)
        return
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, numpy {np.__version__}")
    sections = ["crowd", "simulated", "errors", "scale"] if args.section == "all" else [args.section]
    for section in sections:
        started = time.perf_counter()
        if section == "crowd":
            section_crowd(args.quick)
        elif section == "simulated":
            section_simulated(args.quick)
        elif section == "errors":
            section_errors(args.quick)
        else:
            section_scale(args.quick, args.profile)
        print(f"\n({section}: {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()

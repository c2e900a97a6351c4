"""Active-learning quality on real data: the simulator's learning curves on WRENCH youtube, sms and semeval
(and, if asked, a 4-class set made of youtube and sms), the project's default strategy against random
sampling and the other strategies.

Run from the repository root:

    .venv/bin/python bench/al_quality.py [--datasets youtube,sms,semeval] [--strategies default,random,...]
                                         [--features hybrid] [--seeds 5] [--step 10] [--step-semeval 25]
                                         [--budget-youtube 300] [--budget-sms 400] [--budget-semeval 700]
                                         [--at 50,100,...] [--json]

For each dataset the simulator (`active_learning.evaluation.simulate`) replays the loop on the train split,
with the gold labels as the oracle: label `step` items (a diverse cold start, or a seeded draw for random),
retrain, score the model on the test split, pick the next `step` items with the strategy, until the budget.
Curves are means over the seeds. Features are the app's (`--features`, the default kind `hybrid`: hashed
unigram+bigram TF-IDF with IDF over the dataset's train and test texts, beside the static MiniLM embeddings
of `features.encoders`); the encoder reads its table from storage, so Django is set up with a throwaway
MEDIA_ROOT (the first run in it distills the table, about 15 s). No database is used. As a retrain does
(`active_learning.feature_sets`), the feature sets the items call for beside the default one are
candidates too, chosen at each retrain by cross-validation on the labels so far: on semeval, whose items
mark two entities (`entity1`, `entity2`, `span1`, `span2`, kept as the WRENCH import keeps them), the
entities' embedding and the words between them (`--fixed-features`: the `--features` set only).

- youtube: `../shared/data/wrench/youtube`, accuracy.
- sms: `../shared/data/wrench/sms`, F1 of the spam class (the data README scores sms so: always answering
  ham gives 86.6% accuracy).
- semeval: `../shared/data/wrench/semeval`, 9 relation classes, accuracy (the text, and its entities as
  metadata, as the platform imports them). Step 25 by default: its 9-class fits on hybrid features cost ten
  times youtube's.
- multiclass (only when named): both train files and both test files of youtube and sms, four classes,
  macro F1. Not a real multiclass test (each pair of classes comes from a different source), so it is not
  among the defaults.

For every strategy the table shows the worst gap to random over all budgets >= 50 (its figure minus
random's, the smallest). Checks, for the default strategy against random:
(a) labels to reach 95% of the full-train figure: default <= half of random's. When random never reaches it
    within the budget, the check passes if the default does (and says so: raise the budget to know);
(b) at every budget >= 50 the default's figure is never more than 0.02 below random's.

BLAS runs on one thread by default (`--blas-threads 1`): the fits here are small (a few hundred rows), and
on this 2-CPU machine, shared with other work, OpenBLAS's two threads made a 300-row, 4-class L-BFGS fit
take about 2 s instead of 0.04 s. The figures are the same either way, up to rounding.

With the defaults (5 strategies, 5 seeds, three datasets) it takes about 9 minutes on the 2-CPU machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from harness import embedded_django_setup  # noqa: E402  (bench/ is not a package)

from active_learning.choices import DEFAULT_STRATEGY, Strategy  # noqa: E402  (after the path is set)
from active_learning.evaluation import HeldOut, Pool, simulate  # noqa: E402
from features.choices import DEFAULT_FEATURES, STORED_KINDS, BlockKind, FeatureKind  # noqa: E402
from features.vectors import (  # noqa: E402
    Matrix,
    context_text,
    document_frequency,
    extra_feature_sets,
    fields_text,
    idf_weights,
    term_counts,
    term_frequencies,
    tfidf,
)

WRENCH = ROOT.parent / "shared" / "data" / "wrench"
# Every strategy the simulator can replay without an LF run ("weak" needs a label model's answers).
ALL_STRATEGIES = [
    "default", "random", "uncertainty", "margin", "margin_diverse", "entropy", "committee", "uncertainty_diverse",
]  # fmt: skip
DEFAULT_STRATEGIES = ["default", "random", "margin", "margin_diverse", "uncertainty_diverse"]
CHECK_FROM = 50  # check (b) looks at budgets from here on: below it every strategy is still near its start
MAX_BELOW = 0.02
SHARE_OF_RANDOM = 0.5  # check (a): the default needs at most half of random's labels
DATASETS = {  # name: (WRENCH folders, metric, the metric's name in the table)
    "youtube": (["youtube"], "accuracy", "accuracy"),
    "sms": (["sms"], "f1:spam", "spam F1"),
    "semeval": (["semeval"], "accuracy", "accuracy"),
    "multiclass": (["youtube", "sms"], "macro_f1", "macro F1"),
}
DEFAULT_DATASETS = ["youtube", "sms", "semeval"]


@dataclass
class Dataset:
    name: str
    labels: list[str]
    train_texts: list[str]
    train_y: npt.NDArray[np.int64]
    test_texts: list[str]
    test_y: npt.NDArray[np.int64]
    train_metadata: list[Any]
    test_metadata: list[Any]


# --- data ---------------------------------------------------------------------------------------------------
def _split(folder: Path, split: str) -> tuple[list[str], list[int], list[Any]]:
    rows = json.loads((folder / f"{split}.json").read_text(encoding="utf-8"))
    texts = [row["data"]["text"] for row in rows.values()]
    # The rest of an item's data is its metadata, as the WRENCH import stores it (relation sets' entities
    # and spans).
    metadata = [{key: value for key, value in row["data"].items() if key != "text"} for row in rows.values()]
    return texts, [int(row["label"]) for row in rows.values()], metadata


def _class_names(folder: Path) -> list[str]:
    names = json.loads((folder / "label.json").read_text(encoding="utf-8"))
    return [names[str(index)].lower() for index in range(len(names))]  # youtube says HAM/SPAM, sms ham/spam


def dataset_load(name: str) -> Dataset:
    """One WRENCH folder as it is, or several with their classes prefixed by the folder (one class each)."""
    folders = DATASETS[name][0]
    labels: list[str] = []
    train_texts: list[str] = []
    test_texts: list[str] = []
    train_y: list[int] = []
    test_y: list[int] = []
    train_metadata: list[Any] = []
    test_metadata: list[Any] = []
    for folder_name in folders:
        folder = WRENCH / folder_name
        offset = len(labels)
        names = _class_names(folder)
        labels += names if len(folders) == 1 else [f"{folder_name}_{label}" for label in names]
        for split, texts, ys, metadata in (
            ("train", train_texts, train_y, train_metadata),
            ("test", test_texts, test_y, test_metadata),
        ):
            split_texts, split_y, split_metadata = _split(folder, split)
            texts += split_texts
            ys += [offset + label for label in split_y]
            metadata += split_metadata
    return Dataset(
        name, labels, train_texts, np.asarray(train_y, np.int64), test_texts, np.asarray(test_y, np.int64),
        train_metadata, test_metadata,
    )  # fmt: skip


def setup_django(scratch: Path) -> None:
    """Django settings for the encoder's storage (its distilled table), in a throwaway folder; no database."""
    embedded_django_setup(scratch)


def features_build(data: Dataset, kind: str) -> tuple[Any, Any]:
    """The app's features of `kind` (IDF over the dataset's train and test texts; the metadata fields' and
    the marked spans' context blocks as the cache builds them); (train rows, test rows)."""
    from features.encoders import minilm_embed, static_embed
    from features.services.cache import hstack_features

    texts = [*data.train_texts, *data.test_texts]
    metadata = [*data.train_metadata, *data.test_metadata]
    parts: list[Matrix] = []
    for part in STORED_KINDS[kind]:
        if part == FeatureKind.HASHED_TFIDF:
            counts = term_counts(texts)
            parts.append(tfidf(counts, idf_weights(document_frequency(counts), counts.shape[0])))
        elif part == BlockKind.FIELDS:
            parts.append(static_embed([fields_text(value) for value in metadata]))
        elif part == BlockKind.CONTEXT:
            parts.append(
                term_frequencies([context_text(*pair) for pair in zip(texts, metadata, strict=True)])
            )
        else:
            parts.append(static_embed(texts) if part == FeatureKind.STATIC else minilm_embed(texts))
    matrix: Any = hstack_features(parts)
    return matrix[: len(data.train_texts)], matrix[len(data.train_texts) :]


# --- checks -------------------------------------------------------------------------------------------------
def check_labels(default: int | None, random: int | None) -> tuple[bool, str]:
    """(a): the default reaches 95% of the full-train figure with at most half of random's labels."""
    if random is None:
        if default is None:
            return False, "neither reaches 95% of full train within the budget"
        return True, f"default {default}, random never within the budget"
    if default is None:
        return False, f"default never within the budget, random {random}"
    limit = SHARE_OF_RANDOM * random
    return default <= limit, f"default {default} against random {random} (limit {limit:g})"


def worst_gap(curve: list[list[float]], random: list[list[float]]) -> tuple[float, int] | None:
    """The smallest figure minus random's over the budgets >= CHECK_FROM (and where it is), None if none."""
    random_at = {int(n): value for n, value in random}
    gaps = [
        (value - random_at[int(n)], int(n)) for n, value in curve if n >= CHECK_FROM and int(n) in random_at
    ]
    return min(gaps) if gaps else None


def check_never_below(default: list[list[float]], random: list[list[float]]) -> tuple[bool, str]:
    """(b): from CHECK_FROM labels on, the default is never more than MAX_BELOW below random."""
    random_at = {int(n): value for n, value in random}
    gaps = [
        (value - random_at[int(n)], int(n)) for n, value in default if n >= CHECK_FROM and int(n) in random_at
    ]
    found = worst_gap(default, random)
    if found is None:
        return False, f"no common budget >= {CHECK_FROM}"
    gap, at = found
    failing = [n for difference, n in gaps if difference < -MAX_BELOW]
    detail = f"smallest default - random {gap:+.4f} at {at} labels"
    if failing:
        detail += f"; more than {MAX_BELOW} below at {', '.join(map(str, failing))}"
    return not failing, detail


# --- the run ------------------------------------------------------------------------------------------------
def strategies_parse(names: str) -> list[str]:
    parsed = []
    for name in (part.strip() for part in names.split(",")):
        if not name:
            continue
        name = str(DEFAULT_STRATEGY) if name == "default" else name
        if name not in Strategy.values or name == Strategy.WEAK:
            raise SystemExit(
                f"unknown strategy '{name}': use default or one of {', '.join(ALL_STRATEGIES[1:])}"
            )
        if name not in parsed:
            parsed.append(name)
    for needed in (str(DEFAULT_STRATEGY), str(Strategy.RANDOM)):  # the checks compare these two
        if needed not in parsed:
            parsed.insert(0 if needed == DEFAULT_STRATEGY else 1, needed)
    return parsed


def dataset_run(name: str, args: argparse.Namespace, strategies: list[str]) -> dict[str, Any]:
    started = time.perf_counter()
    data = dataset_load(name)
    x_train, x_test = features_build(data, args.features)
    # As a retrain does (active_learning.feature_sets): with the default features, the sets the items call
    # for are candidates too, chosen at each retrain on the labels so far.
    extras = (
        extra_feature_sets(zip([*data.train_texts, *data.test_texts], [*data.train_metadata, *data.test_metadata],
                               strict=True))
        if args.features == DEFAULT_FEATURES and not args.fixed_features else ()
    )  # fmt: skip
    alternatives = {kind: features_build(data, kind) for kind in extras}
    budget = getattr(args, f"budget_{name}")
    step = args.step_semeval if name == "semeval" and args.step_semeval else args.step
    seconds: dict[str, float] = {}
    clock = [time.perf_counter()]

    def progress(strategy: str, seed: int) -> None:
        now = time.perf_counter()
        seconds[strategy] = seconds.get(strategy, 0.0) + now - clock[0]
        clock[0] = now
        print(
            f"  {name}: {strategy} seed {seed + 1}/{args.seeds} ({now - started:.0f} s)",
            file=sys.stderr,
            flush=True,
        )

    result = simulate(
        pool=Pool(x_train, data.train_y, np.arange(len(data.train_y), dtype=np.int64),
                  {kind: pair[0] for kind, pair in alternatives.items()}),
        test=HeldOut(x_test, data.test_y, {kind: pair[1] for kind, pair in alternatives.items()}),
        labels=data.labels, strategies=strategies, budget=budget, step=step, seeds=args.seeds,
        metric=DATASETS[name][1], progress=progress,
    )  # fmt: skip
    curves = result["strategies"]
    default, random = curves[str(DEFAULT_STRATEGY)], curves[str(Strategy.RANDOM)]
    for found in curves.values():
        gap = worst_gap(found["curve"], random["curve"])
        found["worst_gap"] = None if gap is None else {"gap": round(gap[0], 4), "at": gap[1]}
    passed_a, detail_a = check_labels(default["labels_to_95"], random["labels_to_95"])
    passed_b, detail_b = check_never_below(default["curve"], random["curve"])
    result.update(
        dataset=name, labels=data.labels, pool=len(data.train_y), test=len(data.test_y), budget=budget,
        step=step, seeds=args.seeds, default=str(DEFAULT_STRATEGY),
        features=" or ".join([args.features, *extras]) + (" (chosen at each retrain)" if extras else ""),
        seconds=round(time.perf_counter() - started, 1),
        strategy_seconds={key: round(value, 1) for key, value in seconds.items()},
        checks={"labels_to_95": {"passed": passed_a, "detail": detail_a},
                "never_below_random": {"passed": passed_b, "detail": detail_b}},
    )  # fmt: skip
    return result


# --- output -------------------------------------------------------------------------------------------------
def print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(row[index]) for row in [header, *rows]) for index in range(len(header))]
    for line in [header, ["-" * width for width in widths], *rows]:
        print("| " + " | ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)) + " |")


def dataset_print(result: dict[str, Any], at: list[int]) -> None:
    name = result["dataset"]
    shown = [n for n in at if n <= result["budget"]]
    print(
        f"\n{name}: {result['pool']:,} train items (the pool), {result['test']:,} test items, "
        f"{len(result['labels'])} classes; features {result['features']}; metric {DATASETS[name][2]} on test; "
        f"budget {result['budget']}, step {result['step']}, {result['seeds']} seeds; full train "
        f"{result['full_train']:.4f}, 95% of it {0.95 * result['full_train']:.4f}; {result['seconds']:.0f} s\n"
    )
    header = ["strategy", "labels to 95%", "worst gap >= 50", *(f"@{n}" for n in shown), "s"]
    rows = []
    for strategy, found in result["strategies"].items():
        values = {int(n): value for n, value in found["curve"]}
        label = f"{strategy} (default)" if strategy == result["default"] else strategy
        reached = found["labels_to_95"]
        gap = found["worst_gap"]
        rows.append([
            label, str(reached) if reached is not None else f"> {result['budget']}",
            f"{gap['gap']:+.4f} @{gap['at']}" if gap else "-",
            *(f"{values[n]:.4f}" if n in values else "-" for n in shown),
            f"{result['strategy_seconds'].get(strategy, 0.0):.0f}",
        ])  # fmt: skip
    print_table(header, rows)
    print(
        "(s: the strategy's seconds over all seeds; the first strategy's include fitting the full-train model)"
    )
    print()
    titles = {
        "labels_to_95": "(a) labels to 95%: default <= half of random",
        "never_below_random": f"(b) default never > {MAX_BELOW} below random at >= {CHECK_FROM}",
    }
    for key, title in titles.items():
        check = result["checks"][key]
        print(f"{title}: {'PASS' if check['passed'] else 'FAIL'} ({check['detail']})")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--datasets", default=",".join(DEFAULT_DATASETS), help=f"comma-separated: {', '.join(DATASETS)}"
    )
    parser.add_argument(
        "--strategies", default=",".join(DEFAULT_STRATEGIES),
        help=f"comma-separated, of {', '.join(ALL_STRATEGIES)}; 'default' is the project's default strategy; "
        "default and random are always run",
    )  # fmt: skip
    parser.add_argument("--features", default=str(DEFAULT_FEATURES), choices=list(STORED_KINDS))
    parser.add_argument(
        "--fixed-features", action="store_true",
        help="read --features only (by default, as a retrain does, the sets the items call for beside it are "
        "candidates too, chosen at each retrain on the labels so far)",
    )  # fmt: skip
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--step", type=int, default=10, help="labels added between retrains")
    parser.add_argument("--step-semeval", type=int, default=25, help="semeval's step (0: --step)")
    parser.add_argument("--budget-youtube", type=int, default=300)
    parser.add_argument("--budget-sms", type=int, default=400)
    parser.add_argument("--budget-semeval", type=int, default=700)
    parser.add_argument("--budget-multiclass", type=int, default=800)
    parser.add_argument("--at", default="50,100,150,200,300,400,500,700", help="budgets shown as columns")
    parser.add_argument(
        "--blas-threads", type=int, default=1, help="BLAS threads (0: the library's default); see above"
    )
    parser.add_argument(
        "--json", action="store_true", help="print the raw results as one JSON object instead"
    )
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if not WRENCH.is_dir():
        print(f"SKIPPED: {WRENCH} is absent (the WRENCH data lives in ../shared/data).")
        return
    names = [name.strip() for name in args.datasets.split(",") if name.strip()]
    unknown = sorted(set(names) - set(DATASETS))
    if unknown:
        raise SystemExit(f"unknown dataset(s): {', '.join(unknown)}")
    strategies = strategies_parse(args.strategies)
    at = [int(value) for value in args.at.split(",") if value.strip()]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="al-quality-") as scratch:
        setup_django(Path(scratch))
        with threadpool_limits(limits=args.blas_threads or None):
            results = [dataset_run(name, args, strategies) for name in names]
    total = time.perf_counter() - started
    if args.json:
        print(json.dumps({"seconds": round(total, 1), "results": results}))
        return
    print(f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.platform()}")
    print(
        f"default strategy: {DEFAULT_STRATEGY}; features: {args.features}; strategies: {', '.join(strategies)}"
    )
    for result in results:
        dataset_print(result, at)
    failed = [
        f"{r['dataset']} {key}" for r in results for key, check in r["checks"].items() if not check["passed"]
    ]
    print(
        f"\nall checks: {'PASS' if not failed else 'FAIL (' + '; '.join(failed) + ')'}; total {total:.0f} s"
    )


if __name__ == "__main__":
    main()

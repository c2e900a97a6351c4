"""Weak-supervision quality on real data: WRENCH youtube, sms and semeval, imported and run through the platform.

Run from the repository root:

    .venv/bin/python bench/ws_quality.py [--datasets youtube,sms,semeval] [--json]

For each dataset it creates a project in a throwaway SQLite database (the embedded default), imports the
WRENCH folder from ../shared/data as any user would (`import_items --format wrench`: the train and test
labels become evaluation-only, the valid split's labels the project's usable gold), runs
`run_labeling_functions` (which waits for the end model) and prints, on the test split: every aggregator the
run fitted, WRENCH's majority vote, the weak labels the platform delivers, the end model, and the published
figures beside them; then which aggregator and end model the run chose, on what evidence, and the times.
youtube and semeval are scored by accuracy, sms by F1 on the spam class (as WRENCH does).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import embedded_django_setup

ROOT = Path(__file__).resolve().parent.parent
WRENCH = ROOT.parent / "shared" / "data" / "wrench"
# Published test figures (../shared/data/README.md: the WRENCH tables, mean of 5 runs).
REFERENCE: dict[str, dict[str, Any]] = {
    "youtube": {
        "metric": "accuracy",
        "majority_vote": 84.00,
        "best_label_model": 84.00,
        "best_end_model": 93.36,
    },
    "sms": {"metric": "spam F1", "majority_vote": 23.97, "best_label_model": 23.97, "best_end_model": 91.91},
    "semeval": {
        "metric": "accuracy",
        "majority_vote": 77.33,
        "best_label_model": 77.33,
        "best_end_model": 85.73,
    },
}
AGGREGATORS = ["majority_vote", "weighted_majority_vote", "dawid_skene", "label_model", "supervised"]


def setup_django(scratch: Path) -> None:
    embedded_django_setup(scratch, migrate_database=True)


def measure(name: str) -> dict[str, Any]:
    from django.core.management import call_command

    folder = WRENCH / name
    names = json.loads((folder / "label.json").read_text())
    keys = [names[str(index)] for index in range(len(names))]
    call_command("create_project", name, labels=",".join(keys), stdout=io.StringIO())
    started = time.perf_counter()
    call_command("import_items", name, str(folder), format="wrench", stdout=io.StringIO())
    import_seconds = time.perf_counter() - started
    out = io.StringIO()
    started = time.perf_counter()
    call_command("run_labeling_functions", name, json=True, stdout=out, stderr=io.StringIO())
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    summary.update(name=name, import_s=import_seconds, run_s=time.perf_counter() - started)
    return summary


def figure(scores: dict[str, Any] | None, metric: str) -> str:
    if not scores:
        return "-"
    value = scores["accuracy"] if metric == "accuracy" else scores["f1"].get("spam", 0.0)
    return f"{100 * value:.2f}"


def value(scores: dict[str, Any] | None, metric: str) -> float:
    return float(figure(scores, metric)) if scores else float("nan")


def report(results: list[dict[str, Any]]) -> None:
    header = ["dataset", "metric", *AGGREGATORS, "WRENCH MV (ours)", "delivered", "end model",
              "published MV", "best published LM", "best published end model"]  # fmt: skip
    print("\nTest split:\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for result in results:
        reference, test = REFERENCE[result["name"]], result["splits"]["test"]
        metric = reference["metric"]
        aggregators = test.get("aggregators", {})
        chosen = result["aggregator"]["name"]
        cells = [f"**{figure(aggregators.get(a), metric)}**" if a == chosen else figure(aggregators.get(a), metric)
                 for a in AGGREGATORS]  # fmt: skip
        ours = [figure(test.get(source), metric) for source in ("majority_vote", "weak_label", "end_model")]
        published = [
            f"{reference[key]:.2f}" for key in ("majority_vote", "best_label_model", "best_end_model")
        ]
        print(f"| {result['name']} | {metric} | " + " | ".join([*cells, *ours, *published]) + " |")
    print(
        "\nChoices (held-out usable gold only: the valid split's labels; train and test labels only score):\n"
    )
    for result in results:
        aggregator, end = result["aggregator"], result.get("end_model") or {}
        decisions = []
        for key, where in (("fill", "uncovered"), ("override", "covered")):
            entry = end.get(key) or {}
            decisions.append(
                f"{where} answered by {entry.get('answered_by', 'aggregator')} (end model "
                f"{entry.get('end_model', '-')}, aggregator {entry.get('aggregator', '-')}, together "
                f"{entry.get('combined', '-')} on {entry.get('n_heldout', 0)} held-out items)"
            )
        print(f"- {result['name']}: aggregator {aggregator['name']} on {aggregator['selected_on']} "
              f"({aggregator['n_heldout']} items; {aggregator['metric']} {aggregator['scores']}; skipped "
              f"{list(aggregator.get('skipped', {})) or 'none'}); end model on {end.get('labels_from')} labels "
              f"({end.get('targets', 'soft')} targets), {end.get('features')} C={end.get('C')} on "
              f"{end.get('selected_on')}; " + "; ".join(decisions)
              + f"; warnings {[w['code'] for w in result.get('warnings', [])]}")  # fmt: skip
    print("\nTimes:\n")
    for result in results:
        end = result.get("end_model") or {}
        print(f"- {result['name']}: import {result['import_s']:.1f} s, run with end model {result['run_s']:.1f} s "
              f"(end model {end.get('seconds', '-')} s: {end.get('seconds_by_step', {})}; trained on "
              f"{end.get('n_train', '-')} items)")  # fmt: skip
    print("\nTargets (test split):\n")
    for result in results:
        reference, test = REFERENCE[result["name"]], result["splits"]["test"]
        metric = reference["metric"]
        delivered, end = value(test.get("weak_label"), metric), value(test.get("end_model"), metric)
        print(f"- {result['name']}: delivered {delivered:.2f} >= {reference['best_label_model']:.2f}: "
              f"{'met' if delivered >= reference['best_label_model'] else 'MISSED'}; end model {end:.2f} >= "
              f"{reference['best_end_model']:.2f}: "
              f"{'met' if end >= reference['best_end_model'] else 'MISSED'}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--datasets", default="youtube,sms,semeval")
    parser.add_argument("--json", action="store_true", help="also print every result as JSON")
    args = parser.parse_args()
    if not WRENCH.is_dir():
        print(f"SKIPPED: {WRENCH} is absent (it lives in ../shared/data).")
        return
    with tempfile.TemporaryDirectory(prefix="oversight-bench-ws-") as scratch:
        setup_django(Path(scratch))
        results = [measure(name) for name in args.datasets.split(",") if name]
    report(results)
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()

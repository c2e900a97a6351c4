"""The export benchmark's comparison with Label Studio: its children run under Label Studio's own Python (a
separate virtual environment, never this project's), started by bench/export.py as `export.py --child ls-build`
and `--child ls-export`: one builds a project of tasks with one annotation each, the other times its JSON export.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from corpus import LABELS
from harness import (
    BENCH_SECRET_KEY,
    child_run,
    database_url_for,
    peak_rss_mb,
    pg_database,
    pg_execute,
    report,
)

EXPORT_SCRIPT = Path(__file__).resolve().with_name("export.py")
# Label Studio lives in a throwaway virtual environment of its own, never in this project's .venv.
LABEL_STUDIO_VENV = "/tmp/ls-venv"  # noqa: S108 - a scratch venv the bench only reads from
LS_LABEL_CONFIG = (
    '<View><Text name="text" value="$text"/><Choices name="label" toName="text">'
    + "".join(f'<Choice value="{label}"/>' for label in LABELS)
    + "</Choices></View>"
)


# --- Label Studio (children run by Label Studio's own Python) ---------------------------------------------
def ls_env(args: argparse.Namespace, name: str, data_dir: Path) -> dict[str, str]:
    parts = urlsplit(args.pg_url)
    drop = {"REDIS_URL", "DATABASE_URL", "DJANGO_SETTINGS_MODULE", "PYTHONPATH", "SECRET_KEY"}
    env = {key: value for key, value in os.environ.items() if key not in drop}
    env.update(
        LABEL_STUDIO_BASE_DATA_DIR=str(data_dir), DJANGO_DB="default", POSTGRE_NAME=name,
        POSTGRE_USER=parts.username or "postgres", POSTGRE_PASSWORD=parts.password or "",
        POSTGRE_HOST=parts.hostname or "127.0.0.1", POSTGRE_PORT=str(parts.port or 5432),
        LATEST_VERSION_CHECK="false", DEBUG="false", LOG_LEVEL="WARNING", SECRET_KEY=BENCH_SECRET_KEY,
        TMPDIR=str(data_dir),
    )  # fmt: skip
    return env


def ls_setup() -> None:
    """Label Studio's own start-up (label_studio/server.py): its folder on sys.path, then its settings."""
    import label_studio

    sys.path.insert(0, os.path.dirname(label_studio.__file__))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "label_studio.core.settings.label_studio")
    import django

    django.setup()


def child_ls_build(spec: dict[str, Any]) -> None:
    ls_setup()
    from django.core.management import call_command
    from organizations.models import Organization
    from tasks.models import Annotation, Task
    from users.models import User

    from projects.models import Project

    call_command("migrate", "--no-color", verbosity=0)
    user = User.objects.create_user(email="bench@example.com", password=BENCH_SECRET_KEY)
    org = Organization.create_organization(created_by=user, title="Bench")
    user.active_organization = org
    user.save(update_fields=["active_organization"])
    project = Project.objects.create(
        title="Bench", created_by=user, organization=org, label_config=LS_LABEL_CONFIG
    )
    started = time.perf_counter()
    rows = []
    with open(spec["csv"], newline="", encoding="utf-8") as stream:
        for index, row in enumerate(csv.DictReader(stream)):
            if index >= spec["rows"]:
                break
            rows.append(row)
    batch = 10_000
    for start in range(0, len(rows), batch):
        part = rows[start : start + batch]
        tasks = Task.objects.bulk_create(
            Task(project=project, inner_id=start + offset + 1, is_labeled=True, total_annotations=1,
                 data={"text": row["text"], "id": row["id"], "source": row["source"], "lang": row["lang"]})
            for offset, row in enumerate(part)
        )  # fmt: skip
        Annotation.objects.bulk_create(
            Annotation(task=task, project=project, completed_by=user,
                       result=[{"from_name": "label", "to_name": "text", "type": "choices",
                                "value": {"choices": [row["label"]]}}])
            for task, row in zip(tasks, part, strict=True)
        )  # fmt: skip
    report({"project": project.pk, "tasks": Task.objects.filter(project=project).count(),
            "seconds": time.perf_counter() - started})  # fmt: skip


def child_ls_export(spec: dict[str, Any]) -> None:
    ls_setup()
    import label_studio
    from tasks.functions import export_project

    out = tempfile.mkdtemp(prefix="ls-export-")
    rss_before = peak_rss_mb()
    started = time.perf_counter()
    path = export_project(spec["project"], "JSON", out)
    seconds = time.perf_counter() - started
    peak = peak_rss_mb()
    size = os.path.getsize(path)
    with open(path, "rb") as stream:
        tasks = len(json.load(stream))
    report({"seconds": seconds, "tasks": tasks, "bytes": size, "peak_rss_mb": peak, "rss_before_mb": rss_before,
            "version": label_studio.__version__})  # fmt: skip


def label_studio_measure(
    args: argparse.Namespace, csv_path: Path, scratch: Path
) -> tuple[str, dict[str, Any]]:
    """Label Studio's JSON export of `--label-studio-items` tasks; ("", result), or (why not, {})."""
    python = args.label_studio_python
    if not python or args.label_studio_items <= 0:
        return "not asked for (--label-studio-python is empty or --label-studio-items is 0)", {}
    if not Path(python).is_file():
        return (f"no Python at {python}; make one with `python3.11 -m venv {LABEL_STUDIO_VENV} && "
                f"{LABEL_STUDIO_VENV}/bin/pip install label-studio` (about 1.5 min here)"), {}  # fmt: skip
    probe = subprocess.run([python, "-c", "import label_studio"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        return f"{python} cannot import label_studio: {probe.stderr.strip().splitlines()[-1:]}", {}
    data_dir = Path(tempfile.mkdtemp(prefix="label-studio-", dir=scratch))
    name = f"oversight_bench_ls_{os.getpid()}"
    print(f"Label Studio: migrating and building {args.label_studio_items:,} tasks ...", flush=True)
    with pg_database(args.pg_url, name):
        env = ls_env(args, name, data_dir)
        built = child_run(
            EXPORT_SCRIPT, "ls-build", {"csv": str(csv_path), "rows": args.label_studio_items}, env, python
        )
        pg_execute(database_url_for(args.pg_url, name), "VACUUM ANALYZE")
        pg_execute(args.pg_url, "CHECKPOINT")
        print(
            f"Label Studio: built {built['tasks']:,} tasks in {built['seconds']:.1f} s; exporting ...",
            flush=True,
        )
        result = child_run(EXPORT_SCRIPT, "ls-export", {"project": built["project"]}, env, python)
    if result["tasks"] != args.label_studio_items:
        return f"its export held {result['tasks']} tasks, not {args.label_studio_items}", {}
    return "", result

"""Project, Label, Membership, Item and ImportJob move here from labeling. State only: the tables keep their
names (db_table) and their rows; nothing in the database changes but the content types' app label.
"""

import django.db.models.deletion
import django.utils.timezone
from django.apps.registry import Apps
from django.conf import settings
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

MOVED = ["project", "label", "membership", "item", "importjob"]


def _move(apps: Apps, source: str, target: str) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        if not content_type.objects.filter(app_label=target, model=model).exists():
            content_type.objects.filter(app_label=source, model=model).update(app_label=target)


def content_types_move(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    """Permissions and admin history follow the model: its content type changes app label."""
    _move(apps, "labeling", "projects")


def content_types_move_back(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _move(apps, "projects", "labeling")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("labeling", "0007_import_job_attempts"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Project",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        ("name", models.CharField(max_length=200)),
                        ("slug", models.SlugField(max_length=100, unique=True)),
                        ("description", models.TextField(blank=True)),
                        (
                            "instructions",
                            models.TextField(
                                blank=True, help_text="Markdown, shown to analysts (sanitised)."
                            ),
                        ),
                        ("multi_label", models.BooleanField(default=False)),
                        (
                            "overlap",
                            models.PositiveSmallIntegerField(
                                default=1, help_text="Annotations wanted per item."
                            ),
                        ),
                        (
                            "lease_seconds",
                            models.PositiveIntegerField(
                                default=600,
                                help_text="How long an item handed to an analyst stays reserved for them.",
                            ),
                        ),
                        (
                            "gold_check_rate",
                            models.FloatField(
                                default=0.0,
                                help_text="Share of hand-outs that are gold checks (items with a known answer), 0 to 0.5.",
                            ),
                        ),
                        (
                            "gold_accuracy_threshold",
                            models.FloatField(
                                default=0.8,
                                help_text="An analyst whose accuracy on gold checks falls below this is flagged.",
                            ),
                        ),
                        (
                            "gold_min_checks",
                            models.PositiveSmallIntegerField(
                                default=10,
                                help_text="Gold checks an analyst must have answered before they can be flagged.",
                            ),
                        ),
                        (
                            "gold_auto_review",
                            models.BooleanField(
                                default=False,
                                help_text="Send every label of a flagged analyst to review, automatically.",
                            ),
                        ),
                        (
                            "review_audit_rate",
                            models.FloatField(
                                default=0.05,
                                help_text="Share of submitted items drawn into the review queue as a random audit.",
                            ),
                        ),
                        (
                            "review_confidence_threshold",
                            models.FloatField(
                                default=0.6,
                                help_text="Items whose label-model confidence is below this go to review.",
                            ),
                        ),
                        (
                            "analysts_see_suggestions",
                            models.BooleanField(
                                default=True,
                                help_text="Analysts see the active-learning model's suggestion while labeling, where active learning shows suggestions. Off: analysts label blind to every model.",
                            ),
                        ),
                        (
                            "created_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "labeling_project",
                        "ordering": ["name"],
                    },
                ),
                migrations.CreateModel(
                    name="Membership",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "role",
                            models.CharField(
                                choices=[
                                    ("owner", "Owner"),
                                    ("data_scientist", "Data scientist"),
                                    ("reviewer", "Reviewer"),
                                    ("analyst", "Analyst"),
                                ],
                                default="analyst",
                                max_length=20,
                            ),
                        ),
                        (
                            "review_all_labels",
                            models.BooleanField(
                                default=False,
                                help_text="Every label this member gives goes to the review queue (set by an owner, or automatically when their gold-check accuracy falls below the project's threshold).",
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="memberships",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "project",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="memberships",
                                to="projects.project",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "labeling_membership",
                        "ordering": ["project_id", "user__username"],
                    },
                ),
                migrations.CreateModel(
                    name="Label",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("key", models.SlugField(max_length=64)),
                        ("name", models.CharField(max_length=200)),
                        ("hotkey", models.CharField(blank=True, max_length=1)),
                        ("color", models.CharField(default="#6b7280", max_length=7)),
                        ("order", models.PositiveSmallIntegerField(default=0)),
                        (
                            "project",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="labels",
                                to="projects.project",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "labeling_label",
                        "ordering": ["project_id", "order", "id"],
                    },
                ),
                migrations.CreateModel(
                    name="Item",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("external_id", models.CharField(max_length=255)),
                        ("text", models.TextField()),
                        ("metadata", models.JSONField(blank=True, default=dict)),
                        ("content_hash", models.CharField(help_text="sha256 of the text", max_length=64)),
                        (
                            "split",
                            models.CharField(
                                blank=True,
                                choices=[
                                    ("", "None"),
                                    ("train", "Train"),
                                    ("valid", "Validation"),
                                    ("test", "Test"),
                                ],
                                default="",
                                max_length=8,
                            ),
                        ),
                        (
                            "priority",
                            models.FloatField(
                                default=0.0, help_text="Higher comes first in the queue (active learning)."
                            ),
                        ),
                        (
                            "remaining",
                            models.IntegerField(
                                default=1,
                                help_text="Annotations still wanted: the project's overlap minus the annotations so far.",
                            ),
                        ),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "project",
                            models.ForeignKey(
                                db_index=False,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="items",
                                to="projects.project",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "labeling_item",
                        "ordering": ["project_id", "id"],
                    },
                ),
                migrations.CreateModel(
                    name="ImportJob",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("pending", "Pending"),
                                    ("running", "Running"),
                                    ("succeeded", "Succeeded"),
                                    ("failed", "Failed"),
                                ],
                                default="pending",
                                max_length=10,
                            ),
                        ),
                        (
                            "format",
                            models.CharField(
                                choices=[
                                    ("csv", "CSV"),
                                    ("jsonl", "JSON Lines"),
                                    ("json", "JSON array"),
                                    ("parquet", "Parquet"),
                                    ("wrench", "WRENCH folder (or .zip)"),
                                ],
                                max_length=10,
                            ),
                        ),
                        ("original_name", models.CharField(blank=True, max_length=255)),
                        ("file", models.FileField(blank=True, upload_to="imports/%Y/%m/")),
                        (
                            "source_path",
                            models.CharField(
                                blank=True, help_text="A local path (CLI imports).", max_length=1024
                            ),
                        ),
                        ("options", models.JSONField(blank=True, default=dict)),
                        (
                            "on_conflict",
                            models.CharField(
                                choices=[
                                    ("skip", "Skip items whose external id is known"),
                                    ("update", "Update items whose external id is known"),
                                ],
                                default="skip",
                                max_length=10,
                            ),
                        ),
                        ("rows_total", models.PositiveIntegerField(default=0)),
                        ("items_created", models.PositiveIntegerField(default=0)),
                        ("items_updated", models.PositiveIntegerField(default=0)),
                        ("items_skipped", models.PositiveIntegerField(default=0)),
                        (
                            "annotations_imported",
                            models.PositiveIntegerField(default=0, help_text="Created or updated."),
                        ),
                        ("votes_imported", models.PositiveIntegerField(default=0)),
                        ("error", models.TextField(blank=True)),
                        ("error_line", models.PositiveIntegerField(blank=True, null=True)),
                        ("started_at", models.DateTimeField(blank=True, null=True)),
                        ("finished_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "attempts",
                            models.PositiveSmallIntegerField(
                                default=0, help_text="Runs started (a retry is one more)."
                            ),
                        ),
                        (
                            "heartbeat_at",
                            models.DateTimeField(
                                blank=True,
                                help_text="When the running attempt began; its live heartbeat is in the cache.",
                                null=True,
                            ),
                        ),
                        (
                            "created_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "project",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="import_jobs",
                                to="projects.project",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "labeling_importjob",
                        "ordering": ["-created_at"],
                    },
                ),
                migrations.AddConstraint(
                    model_name="project",
                    constraint=models.CheckConstraint(
                        condition=models.Q(("overlap__gte", 1)), name="project_overlap_gte_1"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="project",
                    constraint=models.CheckConstraint(
                        condition=models.Q(("lease_seconds__gte", 10)), name="project_lease_gte_10s"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="project",
                    constraint=models.CheckConstraint(
                        condition=models.Q(("gold_check_rate__gte", 0), ("gold_check_rate__lte", 0.5)),
                        name="project_gold_rate",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="project",
                    constraint=models.CheckConstraint(
                        condition=models.Q(("review_audit_rate__gte", 0), ("review_audit_rate__lte", 1)),
                        name="project_audit_rate",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="membership",
                    constraint=models.UniqueConstraint(fields=("project", "user"), name="membership_unique"),
                ),
                migrations.AddConstraint(
                    model_name="label",
                    constraint=models.UniqueConstraint(fields=("project", "key"), name="label_unique_key"),
                ),
                migrations.AddConstraint(
                    model_name="label",
                    constraint=models.UniqueConstraint(
                        condition=models.Q(("hotkey", ""), _negated=True),
                        fields=("project", "hotkey"),
                        name="label_unique_hotkey",
                    ),
                ),
                migrations.AddIndex(
                    model_name="item",
                    index=models.Index(fields=["project", "id"], name="item_project_id"),
                ),
                migrations.AddIndex(
                    model_name="item",
                    index=models.Index(fields=["project", "split"], name="item_project_split"),
                ),
                migrations.AddIndex(
                    model_name="item",
                    index=models.Index(fields=["project", "content_hash"], name="item_project_hash"),
                ),
                migrations.AddIndex(
                    model_name="item",
                    index=models.Index(
                        models.F("project"),
                        models.OrderBy(models.F("priority"), descending=True),
                        models.F("id"),
                        condition=models.Q(("remaining__gt", 0)),
                        name="item_queue",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="item",
                    constraint=models.UniqueConstraint(
                        fields=("project", "external_id"), name="item_unique_external_id"
                    ),
                ),
                migrations.AddIndex(
                    model_name="importjob",
                    index=models.Index(fields=["status"], name="importjob_status"),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_move, content_types_move_back, elidable=True),
    ]

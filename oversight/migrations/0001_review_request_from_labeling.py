"""ReviewRequest moves here from labeling. State only: the table (and its passed_by table) keep their names
and rows; nothing in the database changes but the content type's app label.
"""

import django.db.models.deletion
from django.apps.registry import Apps
from django.conf import settings
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

MOVED = ["reviewrequest"]


def _move(apps: Apps, source: str, target: str) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        if not content_type.objects.filter(app_label=target, model=model).exists():
            content_type.objects.filter(app_label=source, model=model).update(app_label=target)


def content_types_move(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    """Permissions and admin history follow the model: its content type changes app label."""
    _move(apps, "labeling", "oversight")


def content_types_move_back(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _move(apps, "oversight", "labeling")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("labeling", "0007_import_job_attempts"),
        ("projects", "0001_models_from_labeling"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ReviewRequest",
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
                            "reasons",
                            models.JSONField(
                                default=list, help_text="ReviewReason values, most important first."
                            ),
                        ),
                        (
                            "detail",
                            models.JSONField(
                                blank=True, default=dict, help_text="Per reason: what triggered it."
                            ),
                        ),
                        ("priority", models.PositiveSmallIntegerField(default=0)),
                        (
                            "status",
                            models.CharField(
                                choices=[("open", "Open"), ("resolved", "Resolved")],
                                default="open",
                                max_length=10,
                            ),
                        ),
                        ("claimed_until", models.DateTimeField(blank=True, null=True)),
                        ("resolved_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "claimed_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "item",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="review_requests",
                                to="projects.item",
                            ),
                        ),
                        (
                            "passed_by",
                            models.ManyToManyField(
                                blank=True,
                                db_table="labeling_reviewrequest_passed_by",
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "project",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="review_requests",
                                to="projects.project",
                            ),
                        ),
                        (
                            "resolved_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "labeling_reviewrequest",
                        "ordering": ["-priority", "id"],
                        "indexes": [
                            models.Index(
                                models.F("project"),
                                models.OrderBy(models.F("priority"), descending=True),
                                models.F("id"),
                                condition=models.Q(("status", "open")),
                                name="review_queue",
                            )
                        ],
                        "constraints": [
                            models.UniqueConstraint(
                                condition=models.Q(("status", "open")),
                                fields=("item",),
                                name="review_request_one_open_per_item",
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_move, content_types_move_back, elidable=True),
    ]

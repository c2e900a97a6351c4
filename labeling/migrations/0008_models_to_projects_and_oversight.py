"""The models that moved to projects and oversight leave labeling's state; the foreign keys of the models
that stay point at their new home. State only: no table, column or constraint changes.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("features", "0001_feature_block_from_active_learning"),
        ("oversight", "0001_review_request_from_labeling"),
        ("active_learning", "0002_feature_block_to_features"),
        ("datasets", "0003_project_from_projects"),
        ("labeling", "0007_import_job_attempts"),
        ("projects", "0001_models_from_labeling"),
        ("weak_supervision", "0004_models_from_projects"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="annotation",
                    name="import_job",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        to="projects.importjob",
                    ),
                ),
                migrations.RemoveField(
                    model_name="item",
                    name="project",
                ),
                migrations.RemoveField(
                    model_name="reviewrequest",
                    name="item",
                ),
                migrations.AlterField(
                    model_name="interactionevent",
                    name="item",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="events",
                        to="projects.item",
                    ),
                ),
                migrations.AlterField(
                    model_name="annotation",
                    name="item",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="annotations",
                        to="projects.item",
                    ),
                ),
                migrations.AlterField(
                    model_name="flag",
                    name="item",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="flags", to="projects.item"
                    ),
                ),
                migrations.AlterField(
                    model_name="rationale",
                    name="item",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="rationales",
                        to="projects.item",
                    ),
                ),
                migrations.AlterField(
                    model_name="assignment",
                    name="item",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="assignments",
                        to="projects.item",
                    ),
                ),
                migrations.AlterField(
                    model_name="goldlabel",
                    name="item",
                    field=models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE, related_name="gold", to="projects.item"
                    ),
                ),
                migrations.RemoveField(
                    model_name="label",
                    name="project",
                ),
                migrations.RemoveField(
                    model_name="membership",
                    name="project",
                ),
                migrations.RemoveField(
                    model_name="membership",
                    name="user",
                ),
                migrations.RemoveField(
                    model_name="project",
                    name="created_by",
                ),
                migrations.AlterField(
                    model_name="assignment",
                    name="project",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="assignments",
                        to="projects.project",
                    ),
                ),
                migrations.AlterField(
                    model_name="flag",
                    name="project",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="flags",
                        to="projects.project",
                    ),
                ),
                migrations.AlterField(
                    model_name="annotation",
                    name="project",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="annotations",
                        to="projects.project",
                    ),
                ),
                migrations.AlterField(
                    model_name="goldlabel",
                    name="project",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="gold_labels",
                        to="projects.project",
                    ),
                ),
                migrations.AlterField(
                    model_name="rationale",
                    name="project",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="rationales",
                        to="projects.project",
                    ),
                ),
                migrations.AlterField(
                    model_name="interactionevent",
                    name="project",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="events",
                        to="projects.project",
                    ),
                ),
                migrations.RemoveField(
                    model_name="reviewrequest",
                    name="project",
                ),
                migrations.RemoveField(
                    model_name="reviewrequest",
                    name="claimed_by",
                ),
                migrations.RemoveField(
                    model_name="reviewrequest",
                    name="passed_by",
                ),
                migrations.RemoveField(
                    model_name="reviewrequest",
                    name="resolved_by",
                ),
                migrations.DeleteModel(
                    name="ImportJob",
                ),
                migrations.DeleteModel(
                    name="Item",
                ),
                migrations.DeleteModel(
                    name="Label",
                ),
                migrations.DeleteModel(
                    name="Membership",
                ),
                migrations.DeleteModel(
                    name="Project",
                ),
                migrations.DeleteModel(
                    name="ReviewRequest",
                ),
            ],
            database_operations=[],
        ),
    ]

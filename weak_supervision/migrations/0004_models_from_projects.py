"""The foreign keys point at projects' models (the same tables). State only."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0001_models_from_labeling"),
        ("weak_supervision", "0003_chunk_analysis"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="externalvote",
                    name="item",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="external_votes",
                        to="projects.item",
                    ),
                ),
                migrations.AlterField(
                    model_name="externalvote",
                    name="label",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="projects.label"
                    ),
                ),
                migrations.AlterField(
                    model_name="labelingfunction",
                    name="project",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="labeling_functions",
                        to="projects.project",
                    ),
                ),
                migrations.AlterField(
                    model_name="labelmodelrun",
                    name="project",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="label_model_runs",
                        to="projects.project",
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]

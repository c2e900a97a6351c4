"""The foreign keys point at projects.Project (the same table). State only."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("datasets", "0002_schedule_filters"),
        ("projects", "0001_models_from_labeling"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="exportschedule",
                    name="project",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="export_schedules",
                        to="projects.project",
                    ),
                ),
                migrations.AlterField(
                    model_name="snapshot",
                    name="project",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="snapshots",
                        to="projects.project",
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]

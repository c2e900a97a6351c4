"""FeatureBlock leaves for the features app; the foreign keys point at projects.Project. State only."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("features", "0001_feature_block_from_active_learning"),
        ("active_learning", "0001_initial"),
        ("projects", "0001_models_from_labeling"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="learnermodel",
                    name="project",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="learner_models",
                        to="projects.project",
                    ),
                ),
                migrations.AlterField(
                    model_name="learnersettings",
                    name="project",
                    field=models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="learner_settings",
                        to="projects.project",
                    ),
                ),
                migrations.AlterField(
                    model_name="simulation",
                    name="project",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="al_simulations",
                        to="projects.project",
                    ),
                ),
                migrations.DeleteModel(
                    name="FeatureBlock",
                ),
            ],
            database_operations=[],
        ),
    ]

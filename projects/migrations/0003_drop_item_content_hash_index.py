"""Drops item_project_hash, the index of (project, content_hash): no query filters or orders items by their
text's hash, and keeping a 64-character key per item current cost every import a btree insert per row."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0002_item_suggestion"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="item", name="item_project_hash"),
    ]

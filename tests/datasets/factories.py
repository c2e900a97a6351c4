from __future__ import annotations

from projects.models import Item, Project
from tests.labeling.factories import AnnotationFactory
from tests.projects.factories import ItemFactory


def label_items(project: Project, labels: list[str]) -> list[Item]:
    """One item per label, which two annotators agree on (a gold label under every policy)."""
    items = []
    for label in labels:
        item = ItemFactory(project=project)
        AnnotationFactory.create_batch(2, item=item, labels=[label])
        items.append(item)
    return items

from __future__ import annotations

import uuid

import factory
from django.db.models import F

from labeling.choices import AnnotationSource, GoldSource
from labeling.models import Annotation, GoldLabel
from labeling.services.answer_summary import answer_summaries_refresh
from projects.models import Item
from tests.projects.factories import ItemFactory, UserFactory


class AnnotationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Annotation
        skip_postgeneration_save = True

    item = factory.SubFactory(ItemFactory)
    project = factory.LazyAttribute(lambda a: a.item.project)
    annotator = factory.SubFactory(UserFactory)
    labels = factory.LazyFunction(lambda: ["spam"])
    source = AnnotationSource.HUMAN
    client_uuid = factory.LazyFunction(uuid.uuid4)

    @factory.post_generation
    def fills_a_slot(self, create: bool, extracted: object, **kwargs: object) -> None:
        """Like the services, an annotation takes one of its item's open slots and counts in its item's
        answer summary."""
        if create:
            Item.objects.filter(pk=self.item_id).update(remaining=F("remaining") - 1)
            answer_summaries_refresh(project=self.project, item_ids=[self.item_id])


class GoldLabelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GoldLabel

    item = factory.SubFactory(ItemFactory)
    project = factory.LazyAttribute(lambda gold: gold.item.project)
    labels = factory.LazyFunction(lambda: ["spam"])
    source = GoldSource.KNOWN
    is_check = True

from __future__ import annotations

import hashlib

import factory
from django.contrib.auth import get_user_model

from projects.choices import ProjectKind, Role
from projects.models import Item, Label, Membership, Project


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("password123")


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Project {n}")
    slug = factory.Sequence(lambda n: f"project-{n}")
    instructions = "Label **spam** as spam."
    multi_label = False
    # A multi-label project is of kind multi (a database check holds the two together).
    kind = factory.LazyAttribute(
        lambda project: ProjectKind.MULTI if project.multi_label else ProjectKind.SINGLE
    )

    @factory.post_generation
    def labels(self, create: bool, extracted: list[str] | None, **kwargs: object) -> None:
        if not create:
            return
        for index, key in enumerate(extracted if extracted is not None else ["ham", "spam"]):
            Label.objects.create(project=self, key=key, name=key.title(), hotkey=str(index + 1), order=index)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    project = factory.SubFactory(ProjectFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.ANALYST


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Item

    project = factory.SubFactory(ProjectFactory)
    external_id = factory.Sequence(lambda n: f"item-{n}")
    text = factory.Sequence(lambda n: f"Item text number {n}")
    content_hash = factory.LazyAttribute(lambda item: hashlib.sha256(item.text.encode()).hexdigest())
    remaining = factory.LazyAttribute(lambda item: item.project.overlap)

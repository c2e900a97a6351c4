from django.db import models


class LabelingFunctionKind(models.TextChoices):
    EXTERNAL = "external", "External (votes imported or posted)"

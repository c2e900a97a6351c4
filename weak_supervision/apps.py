from django.apps import AppConfig


class WeakSupervisionConfig(AppConfig):
    name = "weak_supervision"
    verbose_name = "Weak supervision"

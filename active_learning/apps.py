from django.apps import AppConfig


class ActiveLearningConfig(AppConfig):
    name = "active_learning"
    verbose_name = "Active learning"

    def ready(self) -> None:
        from active_learning.receivers import receivers_register

        receivers_register()

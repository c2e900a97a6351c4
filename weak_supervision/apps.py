from django.apps import AppConfig


class WeakSupervisionConfig(AppConfig):
    name = "weak_supervision"
    verbose_name = "Weak supervision"

    def ready(self) -> None:
        from core.health import feature_check_register
        from weak_supervision.isolation import isolation_status

        # /healthz says whether Python LFs can run here, and if not why.
        feature_check_register("sandbox", isolation_status)
        from weak_supervision.schema import receivers_register

        receivers_register()

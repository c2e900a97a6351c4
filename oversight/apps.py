from django.apps import AppConfig


class OversightConfig(AppConfig):
    name = "oversight"
    verbose_name = "Oversight"

    def ready(self) -> None:
        from oversight.receivers import receivers_register

        receivers_register()
        from oversight.schema import receivers_register as schema_receivers_register

        schema_receivers_register()

from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "niangjia.imports"
    verbose_name = "名册采集"

    def ready(self) -> None:
        # Registers the background job handlers of the importer.
        from niangjia.imports import jobs  # noqa: F401

from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "niangjia.audit"
    verbose_name = "审计"

    def ready(self) -> None:
        from niangjia.audit import signals  # noqa: F401

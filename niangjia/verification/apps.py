from django.apps import AppConfig


class VerificationConfig(AppConfig):
    name = "niangjia.verification"
    verbose_name = "用人单位核查"

    def ready(self) -> None:
        from niangjia.verification import services

        services.register_org_hooks()

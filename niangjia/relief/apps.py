from django.apps import AppConfig


class ReliefConfig(AppConfig):
    name = "niangjia.relief"
    verbose_name = "困难职工帮扶"

    def ready(self) -> None:
        from niangjia.relief.services import hooks

        hooks.register_org_hooks()

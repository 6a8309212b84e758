from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "niangjia.members"
    verbose_name = "会员"

    def ready(self) -> None:
        from niangjia.members import services

        services.register_org_hooks()

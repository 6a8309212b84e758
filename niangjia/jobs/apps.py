from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "niangjia.jobs"
    verbose_name = "后台任务"

    def ready(self) -> None:
        from niangjia.jobs import registry, services

        services.register_org_hooks()
        registry.autodiscover()

from django.apps import AppConfig


class StatsConfig(AppConfig):
    name = "niangjia.stats"
    verbose_name = "统计"

    def ready(self) -> None:
        from niangjia.stats import sources_relief

        sources_relief.register()

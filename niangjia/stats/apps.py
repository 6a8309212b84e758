from django.apps import AppConfig


class StatsConfig(AppConfig):
    name = "niangjia.stats"
    verbose_name = "统计"

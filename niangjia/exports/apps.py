from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "niangjia.exports"
    verbose_name = "导出"

from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "niangjia.orgs"
    verbose_name = "组织"

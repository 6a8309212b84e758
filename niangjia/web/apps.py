from django.apps import AppConfig


class WebConfig(AppConfig):
    """Site-wide pages: home, health check, error pages."""

    name = "niangjia.web"
    verbose_name = "门户"

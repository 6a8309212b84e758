"""Minimal settings of the bare-insert reference server: one app, no middleware, no templates,
the same database (DATABASE_URL, persistent connections as in niangjia.settings)."""

import os

import dj_database_url

DEBUG = False
SECRET_KEY = os.environ.get("SECRET_KEY") or "bench-bare-insert-reference-only-not-secret"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["bench.bare"]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "bench.bare.urls"
DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
USE_TZ = True
TIME_ZONE = "Asia/Shanghai"
LOGGING = {"version": 1, "disable_existing_loggers": False}

"""Lean settings for the test suite: the real settings, with only speed-ups on top."""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "test-secret-key-that-is-long-enough-0123456789")
os.environ.setdefault("SECURE_COOKIES", "false")
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "1:dGVzdC1maWVsZC1lbmNyeXB0aW9uLWtleS0zMmJ5dGU=")
os.environ.setdefault("FIELD_HASH_KEY", "dGVzdC1maWVsZC1oYXNoLWtleS0tLS0tLTMyIGJ5dGU=")

from niangjia.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
SMS_BACKEND = "niangjia.utilities.sms.LocmemBackend"
JOBS_INLINE = True  # a queued job runs when its transaction commits (see niangjia/jobs)
JOIN_CACHE_SECONDS = 0  # tests change venues and employers at will; the cache has its own tests
# Static files come straight from the apps' directories, as under DEBUG: the suite never runs
# collectstatic, so there is no STATIC_ROOT for WhiteNoise to index at start-up.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
# Uploaded rosters of the tests go to a throwaway directory (TEST_IMPORT_DIR: one shared by the
# processes of a crash test, niangjia/imports/tests/test_crash.py).
IMPORT_DIR = Path(os.environ.get("TEST_IMPORT_DIR") or tempfile.mkdtemp(prefix="niangjia-imports-"))
# Stored exports of the tests go to a throwaway directory.
EXPORT_DIR = Path(tempfile.mkdtemp(prefix="niangjia-exports-"))
# The chunks of a commit in the test thread, inside its transaction (a crash test's worker
# processes write them as in production: TEST_IMPORT_COMMIT_WORKERS).
IMPORT_COMMIT_WORKERS = int(os.environ.get("TEST_IMPORT_COMMIT_WORKERS") or 1)

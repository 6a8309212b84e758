"""Settings come from the environment through typed readers that fail loudly."""

from __future__ import annotations

import importlib.util

import pytest
from django.core.exceptions import ImproperlyConfigured

from niangjia.utilities.env import Env

GOOD_KEY = "k" * 40
# Variables the test settings or the developer's shell may set; each test starts without them.
_SETTINGS_ENV = (
    "DEBUG",
    "SECRET_KEY",
    "SECRET_KEY_FILE",
    "DATABASE_URL",
    "ALLOWED_HOSTS",
    "SECURE_COOKIES",
    "REQUIRE_ADMIN_OTP",
    "SESSION_IDLE_MINUTES",
)


# --- The readers


@pytest.mark.parametrize("raw", ["1", "true", "YES", " on "])
def test_bool_true_values(raw):
    assert Env({"FLAG": raw}).bool("FLAG", False) is True


@pytest.mark.parametrize("raw", ["0", "false", "No", "off"])
def test_bool_false_values(raw):
    assert Env({"FLAG": raw}).bool("FLAG", True) is False


@pytest.mark.parametrize("raw", ["maybe", "2", "真"])
def test_bool_refuses_anything_else(raw):
    with pytest.raises(ImproperlyConfigured, match=r"FLAG=.* is not a boolean"):
        Env({"FLAG": raw}).bool("FLAG", False)


def test_missing_or_empty_values_take_the_default():
    env = Env({"EMPTY": ""})
    assert env.bool("EMPTY", True) is True
    assert env.int("MISSING", 7) == 7
    assert env.str("EMPTY", "fallback") == "fallback"
    assert env.list("MISSING", ["a"]) == ["a"]


def test_required_string_must_be_set():
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY must be set"):
        Env({}).str("SECRET_KEY")


def test_int_parses_and_checks_bounds():
    env = Env({"N": " 42 ", "LOW": "3", "HIGH": "900", "BAD": "4x"})
    assert env.int("N", 0, min_value=1, max_value=100) == 42
    with pytest.raises(ImproperlyConfigured, match="LOW=3 is below the minimum 10"):
        env.int("LOW", 50, min_value=10)
    with pytest.raises(ImproperlyConfigured, match="HIGH=900 is above the maximum 500"):
        env.int("HIGH", 50, max_value=500)
    with pytest.raises(ImproperlyConfigured, match="BAD='4x' is not an integer"):
        env.int("BAD", 1)


def test_list_splits_on_commas_and_drops_blanks():
    assert Env({"HOSTS": " a.example, ,b.example ,"}).list("HOSTS", []) == [
        "a.example",
        "b.example",
    ]


def test_choice_refuses_unknown_values():
    env = Env({"MODE": "fast"})
    with pytest.raises(ImproperlyConfigured, match="MODE='fast' must be one of"):
        env.choice("MODE", "safe", {"safe", "strict"})
    assert Env({}).choice("MODE", "safe", {"safe", "strict"}) == "safe"


def test_secret_is_read_from_the_file_named_by_name_file(tmp_path):
    secret = tmp_path / "secret_key"
    secret.write_text("from-a-file-0123456789\n", encoding="utf-8")
    env = Env({"SECRET_KEY_FILE": str(secret), "SECRET_KEY": "ignored"})
    assert env.str("SECRET_KEY") == "from-a-file-0123456789"


def test_unreadable_name_file_fails_loudly(tmp_path):
    env = Env({"SECRET_KEY_FILE": str(tmp_path / "missing")})
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY_FILE: cannot read"):
        env.str("SECRET_KEY")


def test_typed_readers_also_read_files(tmp_path):
    (tmp_path / "n").write_text("25\n", encoding="utf-8")
    assert Env({"LIMIT_FILE": str(tmp_path / "n")}).int("LIMIT", 5) == 25


# --- The settings module as a whole


@pytest.fixture
def load_settings(monkeypatch):
    """Run niangjia/settings.py afresh with the given environment; returns its names."""
    for name in _SETTINGS_ENV:
        monkeypatch.delenv(name, raising=False)

    def load(**environ: str) -> dict:
        for name, value in environ.items():
            monkeypatch.setenv(name, value)
        # A fresh module object from the same file; the imported one in sys.modules is untouched.
        spec = importlib.util.find_spec("niangjia.settings")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return vars(module)

    return load


def test_production_settings_need_a_secret_key(load_settings):
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY must be set"):
        load_settings()


def test_short_secret_key_is_refused(load_settings):
    with pytest.raises(ImproperlyConfigured, match="at least 32 characters"):
        load_settings(SECRET_KEY="short")


def test_debug_works_without_a_secret_key(load_settings):
    settings = load_settings(DEBUG="1")
    assert settings["DEBUG"] is True
    assert settings["SECRET_KEY"]


def test_bad_boolean_stops_the_settings(load_settings):
    with pytest.raises(ImproperlyConfigured, match="DEBUG='sometimes' is not a boolean"):
        load_settings(DEBUG="sometimes")


def test_out_of_range_number_stops_the_settings(load_settings):
    with pytest.raises(ImproperlyConfigured, match="SESSION_IDLE_MINUTES=0 is below the minimum 1"):
        load_settings(SECRET_KEY=GOOD_KEY, SESSION_IDLE_MINUTES="0")


def test_unknown_database_scheme_is_refused(load_settings):
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL must be a postgresql"):
        load_settings(SECRET_KEY=GOOD_KEY, DATABASE_URL="mysql://root@localhost/niangjia")


def test_postgresql_url_is_parsed(load_settings):
    settings = load_settings(
        SECRET_KEY=GOOD_KEY, DATABASE_URL="postgresql://app:pw@db.internal:5433/niangjia"
    )
    db = settings["DATABASES"]["default"]
    assert (db["ENGINE"], db["HOST"], db["PORT"], db["NAME"]) == (
        "django.db.backends.postgresql",
        "db.internal",
        5433,
        "niangjia",
    )


def test_secret_key_from_file(load_settings, tmp_path):
    (tmp_path / "key").write_text(GOOD_KEY + "\n", encoding="utf-8")
    settings = load_settings(SECRET_KEY_FILE=str(tmp_path / "key"))
    assert settings["SECRET_KEY"] == GOOD_KEY


def test_allowed_hosts_from_a_list(load_settings):
    settings = load_settings(SECRET_KEY=GOOD_KEY, ALLOWED_HOSTS="union.example.cn, 10.0.0.5")
    assert settings["ALLOWED_HOSTS"] == ["union.example.cn", "10.0.0.5"]


def test_production_defaults_are_safe(load_settings):
    settings = load_settings(SECRET_KEY=GOOD_KEY)
    assert settings["DEBUG"] is False
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["REQUIRE_ADMIN_OTP"] is True
    assert settings["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"

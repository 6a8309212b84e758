"""The README keeps up with the code: every setting and every dependency is explained."""

from __future__ import annotations

import re
import tomllib

from django.conf import settings

README = (settings.BASE_DIR / "README.md").read_text(encoding="utf-8")
SETTINGS_SOURCE = (settings.BASE_DIR / "niangjia" / "settings.py").read_text(encoding="utf-8")
PYPROJECT = tomllib.loads((settings.BASE_DIR / "pyproject.toml").read_text(encoding="utf-8"))


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_environment_variable_is_in_both_configuration_tables() -> None:
    names = set(re.findall(r"env\.\w+\(\s*\"([A-Z][A-Z0-9_]+)\"", SETTINGS_SOURCE))
    assert "DATABASE_URL" in names and "SECRET_KEY" in names
    missing = [n for n in sorted(names) if README.count(f"| `{n}` |") < 2]
    assert not missing, f"document in the Chinese and English tables of README.md: {missing}"


def test_every_dependency_is_explained() -> None:
    declared = list(PYPROJECT["project"]["dependencies"])
    declared += PYPROJECT["dependency-groups"]["dev"]
    text = _normalise(README)
    missing = []
    for requirement in declared:
        name = re.split(r"[\[<>=!~ ;]", requirement, maxsplit=1)[0]
        if _normalise(name) not in text:
            missing.append(name)
    assert not missing, f"explain in the design section of README.md: {missing}"


def test_make_run_serves_with_the_server_the_readme_names() -> None:
    makefile = (settings.BASE_DIR / "Makefile").read_text(encoding="utf-8")
    assert "$(VENV)/bin/granian --interface wsgi" in makefile
    assert "niangjia.wsgi:application" in makefile
    runtime = {_normalise(re.split(r"[<>=\[]", d)[0]) for d in PYPROJECT["project"]["dependencies"]}
    assert "granian" in runtime
    assert "gunicorn" not in runtime
    assert "**娘家用 granian（WSGI 接口）**" in README
    assert "**granian (WSGI interface)**" in README

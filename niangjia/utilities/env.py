"""Typed readers for settings taken from environment variables.

Every reader fails loudly (ImproperlyConfigured) on a value it cannot parse, so a
typo in production configuration stops the process instead of being ignored.
A secret may be given as ``NAME_FILE`` pointing to a file holding the value.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class Env:
    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ = os.environ if environ is None else environ

    def raw(self, name: str) -> str | None:
        file_name = self.environ.get(f"{name}_FILE")
        if file_name:
            try:
                with open(file_name, encoding="utf-8") as fh:
                    return fh.read().strip()
            except OSError as exc:
                raise ImproperlyConfigured(f"{name}_FILE: cannot read {file_name}: {exc}") from exc
        return self.environ.get(name)

    def str(self, name: str, default: str | None = None) -> str:
        value = self.raw(name)
        if value is None or value == "":
            if default is None:
                raise ImproperlyConfigured(f"{name} must be set")
            return default
        return value

    def bool(self, name: str, default: bool) -> bool:
        value = self.raw(name)
        if value is None or value == "":
            return default
        low = value.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use true/false)")

    def int(
        self, name: str, default: int, *, min_value: int | None = None, max_value: int | None = None
    ) -> int:
        value = self.raw(name)
        if value is None or value == "":
            return default
        try:
            result = int(value.strip())
        except ValueError as exc:
            raise ImproperlyConfigured(f"{name}={value!r} is not an integer") from exc
        if min_value is not None and result < min_value:
            raise ImproperlyConfigured(f"{name}={result} is below the minimum {min_value}")
        if max_value is not None and result > max_value:
            raise ImproperlyConfigured(f"{name}={result} is above the maximum {max_value}")
        return result

    def list(self, name: str, default: list[str]) -> list[str]:
        value = self.raw(name)
        if value is None or value.strip() == "":
            return list(default)
        return [item.strip() for item in value.split(",") if item.strip()]

    def choice(self, name: str, default: str, choices: set[str]) -> str:
        value = self.str(name, default)
        if value not in choices:
            raise ImproperlyConfigured(f"{name}={value!r} must be one of {sorted(choices)}")
        return value

from __future__ import annotations

from typing import Any

from django.contrib.auth.password_validation import (
    MinimumLengthValidator as BaseMinimumLengthValidator,
)
from django.core.exceptions import ValidationError


class CharacterClassValidator:
    """Requires characters from at least ``min_classes`` of: lower case, upper case, digits,
    other symbols."""

    def __init__(self, min_classes: int = 3) -> None:
        self.min_classes = min_classes

    def validate(self, password: str, user: Any = None) -> None:
        classes = sum(
            [
                any(c.islower() for c in password),
                any(c.isupper() for c in password),
                any(c.isdigit() for c in password),
                any(not c.isalnum() for c in password),
            ]
        )
        if classes < self.min_classes:
            raise ValidationError(
                "密码须包含小写字母、大写字母、数字、符号中的至少 %(n)d 类",
                code="password_classes",
                params={"n": self.min_classes},
            )

    def get_help_text(self) -> str:
        return f"密码须包含小写字母、大写字母、数字、符号中的至少 {self.min_classes} 类。"


class MinimumLengthValidator(BaseMinimumLengthValidator):
    """Django's length rule with its message in Chinese (Django's own zh-hans catalogue leaves
    the plural form of this message untranslated)."""

    def validate(self, password: str, user: Any = None) -> None:
        if len(password) < self.min_length:
            raise ValidationError(
                "密码太短，至少需要 %(min_length)d 个字符（当前 %(length)d 个）",
                code="password_too_short",
                params={"min_length": self.min_length, "length": len(password)},
            )

    def get_help_text(self) -> str:
        return f"密码至少需要 {self.min_length} 个字符。"

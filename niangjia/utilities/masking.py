"""How personal data is shown when it is not revealed."""

from __future__ import annotations


def mask_id_number(value: str) -> str:
    """``420102199001011234`` → ``4201**********1234``: the first and last four stay."""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(value: str) -> str:
    """``13812341234`` → ``138****1234``."""
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_name(value: str) -> str:
    """``张三丰`` → ``张**``: the family name only (compound surnames lose their second half)."""
    if not value:
        return ""
    return value[0] + "*" * max(len(value) - 1, 1)

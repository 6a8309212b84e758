from __future__ import annotations

import hashlib
import secrets
from functools import reduce
from operator import or_
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from niangjia.accounts.choices import ROLE_ACTIONS, SECOND_FACTOR_ROLES, Role
from niangjia.utilities.querysets import RestrictedQuerySet, scope_q


class UserQuerySet(models.QuerySet["User"]):
    def restrict(self, user: Any, action: str = "view") -> UserQuerySet:
        """Accounts within the subtrees where ``user`` may ``action``: those holding a role on
        a union there, and those holding no role at all that were created under a union there."""
        from niangjia.accounts.scope import paths_for

        paths = paths_for(user, action)
        if not paths:
            return self.none()
        holders = RoleAssignment.objects.filter(scope_q(RoleAssignment, paths)).values("user_id")
        created_here = reduce(or_, [Q(created_under__path__startswith=p) for p in paths])
        roleless = ~Exists(RoleAssignment.objects.filter(user=OuterRef("pk")))
        return self.filter(Q(pk__in=holders) | (created_here & roleless))


class UserManager(DjangoUserManager.from_queryset(UserQuerySet)):  # type: ignore[misc]
    use_in_migrations = True


class User(AbstractUser):
    """A person who signs in: a cadre (with roles on union nodes) or a worker (no roles)."""

    full_name = models.CharField("姓名", max_length=50, blank=True)
    created_under = models.ForeignKey(
        "orgs.Union",
        verbose_name="开户工会",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The union under which the account was opened; scopes accounts without roles.",
    )
    password_must_change = models.BooleanField(
        "须修改密码",
        default=False,
        help_text="Set when an administrator chose the password; cleared when the owner changes it.",
    )

    objects = UserManager()

    class Meta:
        verbose_name = "账号"
        verbose_name_plural = "账号"

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def display_name(self) -> str:
        return self.full_name or self.username

    def active_roles(self) -> list[RoleAssignment]:
        cached: list[RoleAssignment] | None = getattr(self, "_role_cache", None)
        if cached is None:
            cached = list(
                self.role_assignments.filter(union__status="active").select_related("union")
            )
            self._role_cache = cached
        return cached

    def forget_roles(self) -> None:
        self.__dict__.pop("_role_cache", None)
        if hasattr(self, "_role_cache"):
            del self._role_cache

    def needs_second_factor(self) -> bool:
        return any(a.role in SECOND_FACTOR_ROLES for a in self.active_roles())

    @property
    def is_cadre(self) -> bool:
        return bool(self.active_roles())


class RoleAssignmentQuerySet(RestrictedQuerySet["RoleAssignment"]):
    pass


class RoleAssignment(models.Model):
    user = models.ForeignKey(
        User, verbose_name="账号", on_delete=models.CASCADE, related_name="role_assignments"
    )
    union = models.ForeignKey(
        "orgs.Union", verbose_name="工会", on_delete=models.PROTECT, related_name="role_assignments"
    )
    role = models.CharField("角色", max_length=32, choices=Role.choices)
    granted_at = models.DateTimeField("授予时间", default=timezone.now)
    granted_by = models.ForeignKey(
        User,
        verbose_name="授予人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = RoleAssignmentQuerySet.as_manager()
    scope_path_lookups = ("union__path",)

    class Meta:
        verbose_name = "角色"
        verbose_name_plural = "角色"
        constraints = [
            models.UniqueConstraint(fields=["user", "union", "role"], name="uniq_role_per_union")
        ]

    def __str__(self) -> str:
        return f"{self.union} · {self.get_role_display()}"

    @property
    def actions(self) -> frozenset[str]:
        return ROLE_ACTIONS[self.role]


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiTokenQuerySet(RestrictedQuerySet["ApiToken"]):
    def find(self, raw: str) -> ApiToken | None:
        token = (
            self.filter(key_hash=_hash_token(raw), revoked_at__isnull=True)
            .select_related("user")
            .first()
        )
        if token is None or (token.expires_at and token.expires_at < timezone.now()):
            return None
        return token


class ApiToken(models.Model):
    """A token for an integration; it acts as its user, with that user's scope."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField("名称", max_length=100)
    prefix = models.CharField("前缀", max_length=8, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    expires_at = models.DateTimeField("过期时间", null=True, blank=True)
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = "接口令牌"
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "接口令牌"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and (
            self.expires_at is None or self.expires_at > timezone.now()
        )

    @classmethod
    def issue(cls, *, user: User, name: str, **kwargs: Any) -> tuple[ApiToken, str]:
        raw = "nj_" + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user, name=name, prefix=raw[:8], key_hash=_hash_token(raw), **kwargs
        )
        return token, raw

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from treebeard.mp_tree import MP_Node, MP_NodeManager, MP_NodeQuerySet

from niangjia.orgs.choices import (
    EmployerStatus,
    IndustrySection,
    OwnershipType,
    RegionLevel,
    UnionKind,
    UnionLevel,
    UnionStatus,
)
from niangjia.orgs.validators import validate_region_code, validate_union_uscc
from niangjia.utilities.querysets import RestrictedQuerySet


class Region(models.Model):
    """An administrative region of GB/T 2260 (province, prefecture, county; township later)."""

    code = models.CharField(
        "行政区划代码", max_length=9, unique=True, validators=[validate_region_code]
    )
    name = models.CharField("名称", max_length=64)
    level = models.CharField("级别", max_length=16, choices=RegionLevel.choices, db_index=True)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级区划",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    revision = models.CharField("代码版本", max_length=16)

    class Meta:
        verbose_name = "行政区划"
        verbose_name_plural = "行政区划"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    def ancestors(self) -> list[Region]:
        chain: list[Region] = []
        node = self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return list(reversed(chain))

    @property
    def full_name(self) -> str:
        names = [r.name for r in self.ancestors()] + [self.name]
        # Municipalities repeat their name at city level (北京市 北京市 东城区).
        deduped = [n for i, n in enumerate(names) if i == 0 or n != names[i - 1]]
        return "".join(deduped)

    def contains(self, other: Region) -> bool:
        node: Region | None = other
        while node is not None:
            if node.pk == self.pk:
                return True
            node = node.parent
        return False


class UnionQuerySet(MP_NodeQuerySet, RestrictedQuerySet["Union"]):
    def active(self) -> UnionQuerySet:
        return self.filter(status=UnionStatus.ACTIVE)


class UnionManager(MP_NodeManager):
    def get_queryset(self) -> UnionQuerySet:
        return UnionQuerySet(self.model, using=self._db).order_by("path")

    def restrict(self, user: Any, action: str = "view") -> UnionQuerySet:
        return self.get_queryset().restrict(user, action)


class Union(MP_Node):
    """A node of the union tree, stored as a materialised path (one indexed subtree lookup).

    A grassroots union may also belong to one industry union (``industry_union``): it is in the
    subtree of its regional parent by path, and in the industry union's by that second link.
    """

    steplen = 4
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    node_order_by: list[str] = []

    name = models.CharField("名称", max_length=120, db_index=True)
    uscc = models.CharField(
        "统一社会信用代码",
        max_length=18,
        null=True,
        blank=True,
        unique=True,
        validators=[validate_union_uscc],
    )
    level = models.CharField("层级", max_length=16, choices=UnionLevel.choices, db_index=True)
    kind = models.CharField("类型", max_length=16, choices=UnionKind.choices, db_index=True)
    region = models.ForeignKey(
        Region,
        verbose_name="所在行政区划",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="unions",
    )
    industry_union = models.ForeignKey(
        "self",
        verbose_name="所属产业工会",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="industry_members",
        limit_choices_to={"kind": UnionKind.INDUSTRY},
    )
    status = models.CharField(
        "状态",
        max_length=16,
        choices=UnionStatus.choices,
        default=UnionStatus.ACTIVE,
        db_index=True,
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name="并入工会",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_from",
    )
    established_on = models.DateField("成立日期", null=True, blank=True)
    closed_on = models.DateField("撤销/合并日期", null=True, blank=True)
    address = models.CharField("地址", max_length=200, blank=True)
    contact_phone = models.CharField("联系电话", max_length=30, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = UnionManager()
    # In the subtree of its regional parent, and of its industry union (second parent).
    scope_path_lookups = ("path", "industry_union__path")

    class Meta:
        verbose_name = "工会"
        verbose_name_plural = "工会"
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(level=UnionLevel.GRASSROOTS, depth=2),
                name="grassroots_not_under_national",
            ),
            models.UniqueConstraint(
                fields=["region"],
                condition=models.Q(kind=UnionKind.FEDERATION, status=UnionStatus.ACTIVE),
                name="one_active_federation_per_region",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == UnionStatus.ACTIVE

    def subtree(self) -> UnionQuerySet:
        """This union and everything under it by path: one indexed prefix lookup."""
        return Union.objects.filter(path__startswith=self.path)

    def counted_subtree(self) -> UnionQuerySet:
        """Every union counted under this one: its path subtree plus, for an industry union,
        the grassroots unions linked to it or its industry sub-unions. Each union once."""
        return Union.objects.filter(
            models.Q(path__startswith=self.path)
            | models.Q(industry_union__path__startswith=self.path)
        )


class EmployerQuerySet(RestrictedQuerySet["Employer"]):
    pass


class Employer(models.Model):
    """A workplace (用人单位). Kept in the registry of one union (``owner``), usually the
    federation of its area; covered by a grassroots union once organised."""

    name = models.CharField("单位名称", max_length=200, db_index=True)
    uscc = models.CharField(
        "统一社会信用代码",
        max_length=18,
        null=True,
        blank=True,
        unique=True,
    )
    uscc_override = models.BooleanField("校验位例外（历史代码）", default=False)
    uscc_override_reason = models.CharField("例外原因", max_length=200, blank=True)
    region = models.ForeignKey(
        Region, verbose_name="所在行政区划", on_delete=models.PROTECT, related_name="employers"
    )
    industry_section = models.CharField(
        "行业门类（GB/T 4754）", max_length=1, choices=IndustrySection.choices
    )
    ownership = models.CharField("经济类型", max_length=16, choices=OwnershipType.choices)
    headcount = models.PositiveIntegerField("职工人数", default=0)
    status = models.CharField(
        "登记状态",
        max_length=16,
        choices=EmployerStatus.choices,
        default=EmployerStatus.ACTIVE,
        db_index=True,
    )
    owner = models.ForeignKey(
        Union,
        verbose_name="管理工会",
        on_delete=models.PROTECT,
        related_name="registered_employers",
    )
    covering_union = models.ForeignKey(
        Union,
        verbose_name="所属基层工会",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="covered_employers",
    )
    address = models.CharField("地址", max_length=200, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = EmployerQuerySet.as_manager()
    scope_path_lookups = ("owner__path", "covering_union__path")

    class Meta:
        verbose_name = "用人单位"
        verbose_name_plural = "用人单位"
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(uscc_override=False) | ~models.Q(uscc_override_reason=""),
                name="uscc_override_needs_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_organised(self) -> bool:
        return self.covering_union_id is not None

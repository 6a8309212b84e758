"""The stored figures of the statistics engine.

``StatValue`` holds every figure the pages and the API read: one row per (node, measure, one
dimension value, period), the total over the node's counted subtree (``Union.counted_subtree``:
its path subtree and, for an industry union, the grassroots unions linked to it). Reads are a
few rows of its primary key, at the national root as at a grassroots union.

``StatOwnValue`` holds what each union contributes by itself to the stock measures (its own
members, applications, employers …). The folder (``niangjia.stats.fold``) recounts a union's
own rows when something about it changed and adds the difference to every node it counts
under; ``FoldState`` remembers how far the folder has read the append-only sources.

Neither table has a foreign-key constraint to the union tree: a union's rows outlive its
deletion until the folder has taken its contribution back out of its ancestors.
"""

from __future__ import annotations

from django.db import models

from niangjia.utilities.querysets import RestrictedQuerySet


class StatValueQuerySet(RestrictedQuerySet["StatValue"]):
    pass


class StatValue(models.Model):
    """One figure. ``dims`` is ``""`` for the total or ``dimension=value`` for one cut;
    ``period`` is ``""`` for the current value of a stock or ``YYYY-MM`` for a month of a flow.
    Values are integers (people, units; money in fen)."""

    # Key order: a node's measure, then its periods (the current value "" first, then months),
    # then the cuts — a node's figures for a run of months are one range of the index.
    pk = models.CompositePrimaryKey("node", "measure", "period", "dims")
    node = models.ForeignKey(
        "orgs.Union",
        verbose_name="工会",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # the primary key begins with it
        related_name="+",
    )
    measure = models.CharField("度量", max_length=40)
    dims = models.CharField("维度", max_length=80, blank=True)
    period = models.CharField("期间", max_length=7, blank=True)
    value = models.BigIntegerField("数值", default=0)

    objects = StatValueQuerySet.as_manager()
    scope_path_lookups = ("node__path",)

    class Meta:
        verbose_name = "统计数据"
        verbose_name_plural = "统计数据"

    def __str__(self) -> str:
        return f"{self.node_id} {self.measure}[{self.dims}] {self.period or '当前'} = {self.value}"


class StatOwnValue(models.Model):
    """What one union contributes by itself to a stock measure (not its subtree). Working rows
    of the folder, never read on behalf of a user; the union is named by id only (its rows
    must outlive its deletion until the folder has taken them back out)."""

    pk = models.CompositePrimaryKey("union_id", "measure", "dims", "period")
    union_id = models.BigIntegerField("工会编号")
    measure = models.CharField("度量", max_length=40)
    dims = models.CharField("维度", max_length=80, blank=True)
    period = models.CharField("期间", max_length=7, blank=True)
    value = models.BigIntegerField("数值", default=0)

    class Meta:
        verbose_name = "本级统计数据"
        verbose_name_plural = "本级统计数据"

    def __str__(self) -> str:
        return f"{self.union_id} {self.measure}[{self.dims}] {self.period or '当前'} = {self.value}"


class FoldState(models.Model):
    """How far the folder has read the sources (one row, ``name="main"``).

    On PostgreSQL ``snapshot`` is the ``pg_snapshot`` of the last fold: every source row whose
    writing transaction was visible in it has been folded. On SQLite (one writer at a time,
    so ids are handed out in commit order) the highest id folded of each source is kept
    instead (``last_ids``, by source name).
    """

    name = models.CharField(max_length=20, primary_key=True)
    snapshot = models.TextField(blank=True)
    last_ids = models.JSONField(default=dict, blank=True)
    config = models.CharField("配置", max_length=200, blank=True)
    rebuilt_at = models.DateTimeField(null=True, blank=True)
    folded_at = models.DateTimeField(null=True, blank=True)
    folds = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "统计汇总进度"
        verbose_name_plural = "统计汇总进度"

    def __str__(self) -> str:
        return f"{self.name} {self.folded_at}"

"""The stored figures are keyed (node, measure, period, dims): a node's months of one measure
are one range of the primary key. The figures are derived data: the table is made anew and
the next fold recounts everything (the folder's configuration version changes with it)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("orgs", "0002_load_regions_and_root"),
        ("stats", "0003_relief_sources"),
    ]

    operations = [
        migrations.DeleteModel(name="StatValue"),
        migrations.CreateModel(
            name="StatValue",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "node",
                        "measure",
                        "period",
                        "dims",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("measure", models.CharField(max_length=40, verbose_name="度量")),
                ("dims", models.CharField(blank=True, max_length=80, verbose_name="维度")),
                ("period", models.CharField(blank=True, max_length=7, verbose_name="期间")),
                ("value", models.BigIntegerField(default=0, verbose_name="数值")),
                (
                    "node",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="orgs.union",
                        verbose_name="工会",
                    ),
                ),
            ],
            options={"verbose_name": "统计数据", "verbose_name_plural": "统计数据"},
        ),
    ]

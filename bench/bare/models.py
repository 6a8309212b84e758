from django.db import models

from bench.bare import TABLE


class BareRow(models.Model):
    """One row per request; the table is created with ``bench.bare.CREATE_SQL``."""

    name = models.CharField(max_length=50)
    code = models.CharField(max_length=18)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        managed = False
        db_table = TABLE

    def __str__(self) -> str:
        return self.name

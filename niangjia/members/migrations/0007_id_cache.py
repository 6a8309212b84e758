"""PostgreSQL: the ids of members and of their history rows are handed out a thousand at a time
to each connection. A roster import writes a million members in two connections at once; with
one id at a time both take turns at the sequence and at the last page of every index that
grows by id, and spend more time waiting than writing. Ids stay unique and each connection's
rising; they are no longer dense across connections (nothing relies on that)."""

from django.db import migrations

from niangjia.utilities.migration_ops import id_cache_on_postgresql


class Migration(migrations.Migration):
    dependencies = [("members", "0006_member_partial_indexes")]

    operations = [id_cache_on_postgresql(("members_member", "members_memberevent"), 1000)]

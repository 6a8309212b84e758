"""PostgreSQL: staged rows and problem rows take their ids a thousand at a time per connection,
so that the dry run's two checking processes do not take turns at the sequence (see
members 0007)."""

from django.db import migrations

from niangjia.utilities.migration_ops import id_cache_on_postgresql


class Migration(migrations.Migration):
    dependencies = [("imports", "0002_alter_importrun_checkpoint_importchunk")]

    operations = [id_cache_on_postgresql(("imports_stagedmember", "imports_importproblem"), 1000)]

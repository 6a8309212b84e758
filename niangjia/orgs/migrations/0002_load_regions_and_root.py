from django.db import migrations


def load(apps, schema_editor):
    from niangjia.orgs.regions import load_regions

    Region = apps.get_model("orgs", "Region")
    load_regions(Region)
    Union = apps.get_model("orgs", "Union")
    if not Union.objects.filter(depth=1).exists():
        Union.objects.create(
            path="0001", depth=1, numchild=0, name="中华全国总工会", level="national",
            kind="federation", status="active",
        )


class Migration(migrations.Migration):
    dependencies = [("orgs", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]

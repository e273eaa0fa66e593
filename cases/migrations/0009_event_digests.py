"""Every case event carries the hash chain's two digests; the events written before get theirs here.

The fill runs before the database refuses updates to the trail (0010). It walks the cases in batches and
each case's events in id order, the chain's one order, and links them with the writer's own function.
"""

from django.db import migrations, models

from cases.audit_chain import chain_each_case

CASES_PER_BATCH = 500


def fill_digests(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    CaseEvent = apps.get_model("cases", "CaseEvent")
    last_case = 0
    while True:
        # Batches of cases by id, each read whole: no cursor stays open on the table while it is updated.
        batch = list(Case._base_manager.filter(pk__gt=last_case).order_by("pk").values_list("pk", flat=True)
                     [:CASES_PER_BATCH])
        if not batch:
            return
        last_case = batch[-1]
        events = list(CaseEvent._base_manager.filter(case_id__in=batch).order_by("case_id", "id"))
        chain_each_case(events, {})
        CaseEvent._base_manager.bulk_update(events, ["digest", "previous_digest"], batch_size=1000)


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0008_description_length"),
    ]

    operations = [
        migrations.AddField(
            model_name="caseevent",
            name="digest",
            field=models.CharField(blank=True, editable=False, max_length=64, verbose_name="digest"),
        ),
        migrations.AddField(
            model_name="caseevent",
            name="previous_digest",
            field=models.CharField(blank=True, editable=False, max_length=64, verbose_name="previous digest"),
        ),
        migrations.RunPython(fill_digests, migrations.RunPython.noop),
    ]

from django.db import migrations, models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual

LIMIT = 20_000


def refuse_longer_descriptions(apps, schema_editor):
    """The constraint would fail on a longer description already stored; name the cases instead of cutting
    what an applicant wrote, so that an admin moves the surplus into an attachment first."""
    Case = apps.get_model("cases", "Case")
    longer = list(Case._base_manager.annotate(chars=Length("description")).filter(chars__gt=LIMIT)
                  .values_list("reference", flat=True)[:50])
    if longer:
        raise RuntimeError(
            f"These cases' descriptions are longer than {LIMIT} characters; shorten them (keep the full text as "
            f"an attachment) and migrate again: {', '.join(longer)}")


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0007_clerical_corrections"),
    ]

    operations = [
        migrations.RunPython(refuse_longer_descriptions, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="case",
            constraint=models.CheckConstraint(condition=LessThanOrEqual(Length("description"), LIMIT),
                                              name="case_description_length"),
        ),
    ]

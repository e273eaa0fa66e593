from django.db import migrations, models

from core.text import words

SEARCHED = ("reference", "title", "applicant_name", "description")
BATCH = 2000


def fill(apps, schema_editor):
    """Every existing case gets its search text, a batch at a time: the same normaliser as new cases', so an
    old case is found exactly as a new one is."""
    Case = apps.get_model("cases", "Case")
    db = schema_editor.connection.alias
    last = 0
    while True:
        rows = list(Case._default_manager.using(db).filter(pk__gt=last).order_by("pk").only("pk", *SEARCHED)[:BATCH])
        if not rows:
            return
        for case in rows:
            case.search_text = " ".join(words(" ".join(getattr(case, name) or "" for name in SEARCHED)))
        Case._default_manager.using(db).bulk_update(rows, ["search_text"])
        last = rows[-1].pk


def words_index(apps, schema_editor):
    """On PostgreSQL, a full-text index of the search text's words ('simple': no stemming, the text is already
    lower case and bare), which answers a search of several words, or their beginnings, without reading the
    table (cases.models.WordsMatch uses the same expression)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE INDEX IF NOT EXISTS case_search_words ON cases_case "
                          "USING gin (to_tsvector('simple'::regconfig, search_text))")


def drop_words_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS case_search_words")


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0016_handoff_kinds"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="search_text",
            field=models.TextField(blank=True, db_default="", default="", editable=False, verbose_name="search text"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
        migrations.RunPython(words_index, drop_words_index),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["receiving_unit", "-received_at", "-id"], name="case_received_order"),
        ),
    ]

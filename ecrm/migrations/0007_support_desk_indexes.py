"""An index for the support desk's typo-tolerant name search: pg_trgm's ``%>`` (word
similarity) on ``first_name || ' ' || last_name``, the expression ``ecrm.selectors``
filters on. Without it every misspelt name compared itself with every profile (150-250 ms
at 100,000 customers, bench/support.py). PostgreSQL only, like 0002."""

from django.db import migrations

NAME = "ecrm_profile_full_name_trgm"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {NAME} ON ecrm_profile "
        "USING gin ((first_name || ' ' || last_name) gin_trgm_ops)")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")


class Migration(migrations.Migration):
    dependencies = [("ecrm", "0006_privacy_permissions")]
    operations = [migrations.RunPython(forwards, backwards)]

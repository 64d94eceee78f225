"""pg_trgm for the support desk: typo-tolerant names, and indexes that make "contains"
searches on e-mail and names fast. PostgreSQL only; elsewhere the desk searches without them."""

from django.db import migrations

INDEXES = {
    "ecrm_profile_email_trgm": "email",
    "ecrm_profile_first_name_trgm": "first_name",
    "ecrm_profile_last_name_trgm": "last_name",
    "ecrm_profile_phone_trgm": "phone",
}


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON ecrm_profile USING gin (upper({column}) gin_trgm_ops)")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("ecrm", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]

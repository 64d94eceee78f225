from django.db import migrations, models

from tracking.sessions import device_of

BATCH = 2000


def backfill_devices(apps, schema_editor):
    """Each existing session's device, from the first of its events with a user agent."""
    Event, Session = apps.get_model("tracking", "Event"), apps.get_model("tracking", "Session")
    events = Event.objects.exclude(session_id="").exclude(context__userAgent=None).order_by("session_id", "timestamp")
    if schema_editor.connection.vendor == "postgresql":
        events = events.distinct("session_id")
    seen, pending = set(), {}
    for session_id, agent in events.values_list("session_id", "context__userAgent").iterator(chunk_size=BATCH):
        if session_id in seen:
            continue
        seen.add(session_id)
        device = device_of(str(agent or ""))
        if device:
            pending[session_id] = device
        if len(pending) >= BATCH:
            _save(Session, pending)
    _save(Session, pending)


def _save(Session, pending: dict) -> None:
    sessions = list(Session.objects.filter(key__in=pending).only("pk", "key"))
    for session in sessions:
        session.device = pending[session.key]
    Session.objects.bulk_update(sessions, ["device"], batch_size=BATCH)
    pending.clear()


class Migration(migrations.Migration):

    dependencies = [
        ('tracking', '0004_event_indexes_for_queries_used'),
    ]

    operations = [
        migrations.AddField(
            model_name='session',
            name='device',
            field=models.CharField(blank=True, help_text='desktop, mobile or tablet, from the first user agent seen', max_length=10),
        ),
        migrations.RunPython(backfill_devices, migrations.RunPython.noop),
    ]

"""``manage.py tracking_consume``: store events from the Redis stream until stopped."""

import os
import signal
import socket

from django.core.management.base import BaseCommand, CommandError

from tracking.consumer import consume_once, ensure_group, heap_freeze
from tracking.defaults import setting


class Command(BaseCommand):
    help = "Move tracked events from the Redis stream into the database (run one or more)."

    def add_arguments(self, parser):
        parser.add_argument("--name", default=f"{socket.gethostname()}-{os.getpid()}",
                            help="consumer name within the group (default: host-pid)")
        parser.add_argument("--stream", help="the Redis stream (default: TRACKING_STREAM)")
        parser.add_argument("--shards", help="comma-separated shard numbers this consumer handles "
                                             "(default: all; give each consumer different ones)")
        parser.add_argument("--batch", type=int, help="entries per read (default: TRACKING_CONSUMER_BATCH)")
        parser.add_argument("--claim-idle-ms", type=int,
                            help="take over entries another consumer left unacknowledged this long "
                                 "(default: TRACKING_CLAIM_IDLE_MS)")
        parser.add_argument("--until-idle", action="store_true",
                            help="stop when the stream has nothing new (for scripts and tests)")

    def handle(self, *args, name, until_idle, stream, batch, claim_idle_ms, shards, **options):
        if batch is not None and batch < 1:
            raise CommandError("--batch must be at least 1.")
        shards = _shards(shards)
        stopping = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        ensure_group(stream, shards)
        which = "all shards" if shards is None else "shards " + ", ".join(map(str, shards))
        self.stdout.write(f"Consuming tracked events as {name!r} from {which}.")
        heap_freeze()
        total = 0
        try:
            while not stopping:
                handled = consume_once(name, block_ms=200 if until_idle else 1000, stream=stream,
                                       count=batch, claim_idle_ms=claim_idle_ms, shards=shards)
                total += handled
                if until_idle and not handled:
                    break
        except KeyboardInterrupt:
            pass
        self.stdout.write(f"Stopped after {total} entries.")


def _shards(value: str | None) -> list[int] | None:
    if value is None:
        return None
    available = setting("TRACKING_STREAM_SHARDS")
    try:
        shards = sorted({int(part) for part in value.split(",") if part.strip()})
    except ValueError:
        raise CommandError(f"--shards must be comma-separated numbers, not {value!r}.") from None
    if not shards or shards[0] < 0 or shards[-1] >= available:
        raise CommandError(f"--shards must be numbers from 0 to {available - 1} "
                           f"(TRACKING_STREAM_SHARDS is {available}).")
    return shards

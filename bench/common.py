"""Helpers the benchmarks share: bulk loading with PostgreSQL's COPY, and percentiles."""

from __future__ import annotations


def copy_rows(table: str, columns: list[str], rows) -> None:
    """Load ``rows`` (tuples in ``columns`` order) into ``table`` with ``COPY … FROM STDIN``."""
    from django.db import connection

    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def percentile(values: list[float], fraction: float) -> float:
    """The value at ``fraction`` (0–1) of the sorted values, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]

"""The bench's result: one JSON file with a fixed set of keys, and a table for people."""

import json
import os
import platform
import resource

from django.conf import settings
from django.db import connection

STAGES = ("embed", "rank", "plan", "render", "send")


def peak_rss_mb():
    """Peak resident memory of this process so far (Linux reports ru_maxrss in KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def database_description():
    if connection.vendor == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            return f"PostgreSQL {cursor.fetchone()[0].split()[0]}"
    return connection.display_name


def machine():
    return {"cores": os.cpu_count(), "python": platform.python_version(), "database": database_description()}


def stage(seconds, count, cpu_seconds, floor_per_second):
    """A stage's figures: wall seconds, items per second, CPU ms per item and the floor's rate."""
    return {
        "seconds": round(seconds, 3),
        "per_second": round(count / seconds, 1) if seconds > 0 else None,
        "cpu_ms_per_item": round(1000 * cpu_seconds / count, 3) if count else None,
        "floor_per_second": round(floor_per_second, 1),
    }


def result(subscribers, papers, stages, end_to_end_seconds, end_to_end_measured, speedup_vs_naive, machine_info):
    """Exactly the keys other tools read; nothing else goes into latest.json."""
    return {
        "subscribers": subscribers,
        "papers": papers,
        "database": machine_info["database"],
        "stages": {name: stages[name] for name in STAGES},
        "end_to_end_seconds": round(end_to_end_seconds, 1),
        "end_to_end_measured": end_to_end_measured,
        "peak_rss_mb": peak_rss_mb(),
        "speedup_vs_naive": {name: speedup_vs_naive[name] for name in ("rank", "render")},
        "machine": machine_info,
    }


def output_path():
    return settings.VAR_DIR / "bench" / "latest.json"


def write(data, path=None):
    path = path or output_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


UNITS = {"embed": "papers/s", "rank": "subscribers/s", "plan": "rows/s", "render": "digests/s", "send": "digests/s"}


def stage_line(name, values):
    """Said as soon as a stage is done, so a long run that dies later still leaves its numbers."""
    return (
        f"  {name}: {values['seconds']:.2f} s, {values['per_second'] or 0:,.1f} {UNITS[name]}, "
        f"{values['cpu_ms_per_item'] or 0:.3f} ms CPU each, floor {values['floor_per_second']:,.1f}"
    )


def table(data, notes, naive_rates):
    """The human-readable summary: one line per stage with what exactly was timed."""
    lines = [
        f"Benchmark: {data['subscribers']:,} subscribers x {data['papers']:,} papers "
        f"({data['machine']['cores']} cores, Python {data['machine']['python']}, {data['database']})",
        "",
        f"{'stage':<8} {'seconds':>9} {'rate':>11} {'unit':<14} {'CPU ms/it':>9} {'floor':>11} {'x floor':>7} "
        f"{'naive':>9}  what was timed",
        f"{'-' * 8} {'-' * 9} {'-' * 11} {'-' * 14} {'-' * 9} {'-' * 11} {'-' * 7} {'-' * 9}  {'-' * 40}",
    ]
    for name in STAGES:
        values = data["stages"][name]
        naive = naive_rates.get(name)
        rate, floor = values["per_second"] or 0, values["floor_per_second"]
        lines.append(
            f"{name:<8} {values['seconds']:>9.2f} {rate:>11,.1f} {UNITS[name]:<14} {values['cpu_ms_per_item']:>9.3f} "
            f"{floor:>11,.1f} {(floor / rate if rate else 0):>7.1f} {(f'{naive:,.1f}' if naive else '-'):>9}  "
            f"{notes.get(name, '')}"
        )
    speedups = data["speedup_vs_naive"]
    measured = "measured" if data["end_to_end_measured"] else "NOT measured: sum of the stages"
    lines += [
        "",
        f"end to end      {data['end_to_end_seconds']:>9.1f} s   ({measured}) {notes.get('end_to_end', '')}",
        f"peak RSS        {data['peak_rss_mb']:>9.1f} MB (this process; the workers' are their own)",
        f"speed-up vs naive: rank {speedups['rank']}x (loading included on both sides), render {speedups['render']}x",
        "x floor: how many times faster the stage's floor (bench/floor.py, same run) went than the stage",
    ]
    return "\n".join(lines)

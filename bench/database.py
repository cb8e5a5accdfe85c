"""The benchmark's own throwaway database, so a bench run never touches a user's data.

The default connection is swapped, for this thread, for a fresh one whose database is
created and migrated just for the run and dropped afterwards: a SQLite file under
`VAR_DIR/bench/` in the embedded setup, or `<name>_bench` beside the configured PostgreSQL
database. Every service the bench calls (ingest, planning, sending) uses the default
connection as in production, so it writes into the throwaway database without knowing.
The user's connection object is put back untouched, open or not.
"""

import copy
from contextlib import contextmanager

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections


def bench_database_name(settings_dict):
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return str(settings.VAR_DIR / "bench" / "bench.sqlite3")
    return f"{settings_dict['NAME']}_bench"


@contextmanager
def throwaway_database(keep=False):
    """Run the body against a freshly migrated database of its own; yields its name."""
    user_connection = connections[DEFAULT_DB_ALIAS]
    user_settings = copy.deepcopy(user_connection.settings_dict)
    bench_settings = copy.deepcopy(user_settings)
    bench_settings["TEST"] = {**bench_settings.get("TEST", {}), "NAME": bench_database_name(user_settings)}
    if bench_settings["ENGINE"].endswith("sqlite3"):
        (settings.VAR_DIR / "bench").mkdir(parents=True, exist_ok=True)
    bench_connection = connections.create_connection(DEFAULT_DB_ALIAS)
    bench_connection.settings_dict = bench_settings
    connections[DEFAULT_DB_ALIAS] = bench_connection
    try:
        name = bench_connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        try:
            yield name
        finally:
            if keep:
                bench_connection.close()
            else:
                bench_connection.creation.destroy_test_db(user_settings["NAME"], verbosity=0)
    finally:
        connections[DEFAULT_DB_ALIAS] = user_connection
        settings.DATABASES[DEFAULT_DB_ALIAS]["NAME"] = user_settings["NAME"]

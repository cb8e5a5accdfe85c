"""An operator mistypes a command: one line says which argument is wrong and how, never a
traceback; and piping a command into `head` ends quietly."""

import subprocess
import sys

import pytest
from django.core.management import ManagementUtility

from tests import services
from tests.factories import make_subscriber
from tests.services import BASE_DIR, worker_environment

pytestmark = pytest.mark.django_db

MISTAKES = [
    (["recommend", "--interest", "diffusion", "--since", "yesterday"], "'yesterday' is not a date like 2026-08-07"),
    (["recommend", "--interest", "diffusion", "--top", "0"], "argument --top: 0 is below the smallest allowed, 1"),
    (["recommend", "--interest", "diffusion", "--top", "ten"], "argument --top: 'ten' is not a whole number"),
    (["recommend", "--top", "3"], "the following arguments are required: --interest"),
    (["recommend", "--interest", "  "], "--interest needs some text"),
    (["send_digests", "--date", "2026-02-30"], "argument --date: '2026-02-30' is not a date like 2026-08-07"),
    (["send_digests", "--dryrun"], "unrecognized arguments: --dryrun"),
    (["preview_digest"], "the following arguments are required: email"),
    (["preview_digest", "nobody@example.org"], "No subscriber with the address 'nobody@example.org'"),
    (["preview_digest", "ada@example.org", "--html", "/no/such/folder/d.html"], "--html /no/such/folder/d.html"),
    (["ingest", "--kind", "pdf", "paper.pdf"], "argument --kind: invalid choice: 'pdf'"),
    (["ingest"], "the following arguments are required: SOURCE"),
    (["embed", "everything"], "unrecognized arguments: everything"),
    (["evaluate_ranking", "no-such-set.json"], "no-such-set.json"),
    (["bench", "--subscribers", "0"], "argument --subscribers: 0 is below the smallest allowed, 1"),
    (["bench", "--papers", "1e3"], "argument --papers: '1e3' is not a whole number"),
    (["setup_schedule", "--reset=now"], "argument --reset: ignored explicit argument 'now'"),
    (["status", "--verbose"], "unrecognized arguments: --verbose"),
    (["resolve_seed_papers", "ada@example.org"], "unrecognized arguments: ada@example.org"),
]


@pytest.mark.parametrize("argv, message", MISTAKES, ids=[" ".join(argv) for argv, _ in MISTAKES])
def test_a_bad_argument_is_one_line_naming_it(argv, message, capsys, fake_model):
    make_subscriber("ada@example.org", interests=[])

    with pytest.raises(SystemExit) as exit:
        ManagementUtility(["manage.py", *argv]).execute()

    err = capsys.readouterr().err
    assert exit.value.code != 0
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert message in err


@pytest.mark.django_db(transaction=True)
def test_a_command_piped_into_a_reader_that_stops_early_ends_without_a_traceback(postgres):
    env = worker_environment("redis://127.0.0.1:1/0", "", DATABASE_URL=services.test_database_url())
    command = subprocess.Popen(
        [sys.executable, "manage.py", "setup_schedule"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    command.stdout.close()  # like `| head`, gone before the first line

    _, err = command.communicate(timeout=120)

    assert b"Traceback" not in err and b"BrokenPipeError" not in err, err.decode()
    assert command.returncode == 1


def test_every_command_of_the_project_answers_this_way():
    from django.core.management import get_commands, load_command_class

    from config.commands import BaseCommand

    project = {"config", "papers", "subscriptions", "digest", "bench", "evaluation"}
    ours = {name: app for name, app in get_commands().items() if app in project}
    assert {"recommend", "preview_digest", "send_digests", "ingest", "bench"} <= set(ours)
    assert [name for name, app in ours.items() if not isinstance(load_command_class(app, name), BaseCommand)] == []

"""Step 2 of 3: every subscriber gets its mailbox key; rows that are one mailbox are merged or reported.

Before the key, `Victim@example.com.` or `victim@ｅxample.com` made a second row for one mailbox.
Of such a group the row kept is the established one (confirmed or otherwise not pending, then
the oldest). Another row still pending was never confirmed by the mailbox's owner, so it is
removed, and said so. Two rows that both went past pending are real history (digests, feedback,
a bounce): the migration stops and names them, so that an operator decides in the admin which
one stays, instead of the migration throwing one away.
"""

from collections import defaultdict

from django.db import migrations

from subscriptions.addresses import mailbox_key, tidy

PENDING = "pending"


def established_first(subscriber):
    return (subscriber.status == PENDING, subscriber.confirmed_at is None, subscriber.created_at, subscriber.pk)


def fill_mailbox(apps, schema_editor):
    Subscriber = apps.get_model("subscriptions", "Subscriber")
    groups = defaultdict(list)
    for subscriber in Subscriber.objects.order_by("pk"):
        groups[mailbox_key(subscriber.email)].append(subscriber)
    conflicts = []
    for key, rows in groups.items():
        keeper, *others = sorted(rows, key=established_first)
        unconfirmed = [row for row in others if row.status == PENDING]
        if len(unconfirmed) < len(others):
            conflicts.append(f"{key}: " + ", ".join(f"#{row.pk} {row.email} ({row.status})" for row in rows))
            continue
        for row in unconfirmed:
            print(f"\n  {key}: removed #{row.pk} {row.email}, an unconfirmed duplicate of #{keeper.pk} {keeper.email}")
            row.delete()
        keeper.email, keeper.mailbox = tidy(keeper.email), key
        keeper.save(update_fields=["email", "mailbox"])
    if conflicts:
        raise RuntimeError(
            "Several confirmed subscriptions share one mailbox; delete or change all but one of each "
            "in the admin, then migrate again:\n  " + "\n  ".join(conflicts)
        )


class Migration(migrations.Migration):
    dependencies = [("subscriptions", "0004_subscriber_mailbox")]

    operations = [migrations.RunPython(fill_mailbox, migrations.RunPython.noop)]

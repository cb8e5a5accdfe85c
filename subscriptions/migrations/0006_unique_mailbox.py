from django.db import migrations, models

import subscriptions.addresses


class Migration(migrations.Migration):
    """Step 3 of 3: one subscription per mailbox, in place of one per lower-cased address."""

    dependencies = [("subscriptions", "0005_fill_mailbox")]

    operations = [
        migrations.RemoveConstraint(model_name="subscriber", name="unique_subscriber_email_ci"),
        migrations.AlterField(
            model_name="subscriber",
            name="mailbox",
            field=models.CharField(editable=False, max_length=254, unique=True),
        ),
        migrations.AlterField(
            model_name="subscriber",
            name="email",
            field=models.CharField(
                help_text="The address we mail",
                max_length=254,
                validators=[subscriptions.addresses.validate_mailbox],
            ),
        ),
    ]

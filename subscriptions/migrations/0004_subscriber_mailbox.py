from django.db import migrations, models


class Migration(migrations.Migration):
    """Step 1 of 3: the mailbox key, empty until 0005 fills it."""

    dependencies = [("subscriptions", "0003_preview_matches")]

    operations = [
        migrations.AddField(
            model_name="subscriber",
            name="mailbox",
            field=models.CharField(default="", editable=False, max_length=254),
            preserve_default=False,
        ),
    ]

from django.db import migrations


def backfill_title_key(apps, schema_editor):
    """Papers stored before title_key existed get it, so listings without ids still find them."""
    from papers.models import title_digest

    Paper = apps.get_model("papers", "Paper")
    batch = []
    for paper in Paper.objects.filter(title_key="").only("id", "title").iterator(chunk_size=2000):
        paper.title_key = title_digest(paper.title)
        batch.append(paper)
        if len(batch) == 2000:
            Paper.objects.bulk_update(batch, ["title_key"])
            batch = []
    Paper.objects.bulk_update(batch, ["title_key"])


class Migration(migrations.Migration):
    dependencies = [("papers", "0002_paper_title_key")]

    operations = [migrations.RunPython(backfill_title_key, migrations.RunPython.noop)]

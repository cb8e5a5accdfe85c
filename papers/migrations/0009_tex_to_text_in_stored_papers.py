"""Papers stored before ingest turned TeX into text ("In\\`es", "``soft prompts''", "--") get the
same cleaning now, so the emails and pages of an existing install read as new ingests do."""

from django.db import migrations
from django.db.models import Q

from papers.models import title_digest
from papers.parsers.tex import tex_to_text

MARKS = ("\\", "``", "''", "`", "--")


def clean_stored_papers(apps, schema_editor):
    Paper = apps.get_model("papers", "Paper")
    marked = Q()
    for mark in MARKS:
        marked |= Q(title__contains=mark) | Q(abstract__contains=mark) | Q(authors__icontains=mark)
    keys = set(Paper.objects.values_list("key", flat=True))
    for paper in Paper.objects.filter(marked).iterator():
        title, abstract = tex_to_text(paper.title), tex_to_text(paper.abstract)
        authors = [tex_to_text(author) for author in paper.authors]
        if (title, abstract, authors) == (paper.title, paper.abstract, paper.authors):
            continue
        paper.title, paper.abstract, paper.authors = title, abstract, authors
        paper.title_key = title_digest(title)
        if paper.key.startswith("title:"):
            key = f"title:{paper.title_key}"
            if key not in keys:  # another paper already has this title: this one keeps its old key
                keys.discard(paper.key)
                paper.key = key
                keys.add(key)
        paper.save(update_fields=["title", "abstract", "authors", "title_key", "key"])


class Migration(migrations.Migration):
    dependencies = [("papers", "0008_source_previews")]

    operations = [migrations.RunPython(clean_stored_papers, migrations.RunPython.noop)]

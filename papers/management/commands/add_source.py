"""`manage.py add_source PRESET [ARGUMENT ...]`: put a real source on the daily schedule by name.

    add_source hf-daily
    add_source arxiv cs.CL cs.LG
    add_source biorxiv genomics
    add_source --list

A preset that stands for several sources (two bioRxiv subjects) adds each; a source that is
already there is said so and left as it is. `--location URL` adds any other page or feed.
"""

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from config.commands import BaseCommand
from papers.models import Source, normalise_location
from papers.sources import PRESETS, NewSource, PresetError, preset_sources


class Command(BaseCommand):
    help = "Add a source to the daily schedule from a preset (see --list), or any URL with --location."

    def add_arguments(self, parser):
        parser.add_argument("preset", nargs="?", help="preset name: " + ", ".join(PRESETS))
        parser.add_argument("arguments", nargs="*", metavar="ARGUMENT", help="the preset's categories or query")
        parser.add_argument(
            "--list", action="store_true", dest="show_list", help="show the presets, with an example of each"
        )
        parser.add_argument("--location", help="add this URL or file instead of a preset ({date} for dated URLs)")
        parser.add_argument("--name", help="the source's name (default: the preset's, or the location)")
        parser.add_argument(
            "--kind",
            choices=[kind for kind in Source.Kind.values if kind != Source.Kind.AUTO],
            help="parser for --location (default: detected from the content)",
        )

    def handle(self, *args, preset, arguments, show_list, location, name, kind, **options):
        if show_list:
            self.list_presets()
            return
        if location:
            if preset:
                raise CommandError("Give a preset or --location, not both")
            wanted = [NewSource(name or location[:200], kind or Source.Kind.AUTO, location)]
        elif not preset:
            raise CommandError("Name a preset (add_source --list shows them) or give --location URL")
        else:
            try:
                wanted = preset_sources(preset, arguments)
            except PresetError as error:
                raise CommandError(str(error)) from None
            if name and len(wanted) == 1:
                wanted = [NewSource(name, wanted[0].kind, wanted[0].location)]
        for new in wanted:
            self.add(new)

    def add(self, new):
        source = Source(name=new.name, kind=new.kind, location=new.location)
        existing = Source.objects.filter(location=normalise_location(new.location)).first()
        if existing:
            if not existing.enabled:
                existing.enabled = True
                existing.save(update_fields=["enabled"])
                self.stdout.write(f"{existing.name}: already known, now on the daily schedule")
            else:
                self.stdout.write(f"{existing.name}: already on the daily schedule")
            return
        try:
            source.full_clean()
        except ValidationError as error:
            problems = "; ".join(message for messages in error.message_dict.values() for message in messages)
            raise CommandError(f"{new.name}: {problems}") from None
        source.save()
        dated = " (one list per day; missed days are fetched on the next run)" if source.is_dated else ""
        self.stdout.write(f"Added {source.name}: {source.location}{dated}")

    def list_presets(self):
        for preset in PRESETS.values():
            usage = f"{preset.name} {preset.usage}".strip()
            self.stdout.write(f"{usage:<38} {preset.title}")
            self.stdout.write(f"{'':<38} e.g. manage.py add_source {preset.example}")

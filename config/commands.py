"""The base of every project command: a bad argument or input is one line, never a traceback.

Django prints argparse's whole usage before an argument error, lets a CommandError raised in
an argument's `type=` function (parsing happens before its handler) escape as a traceback,
and a closed pipe (`manage.py preview_digest ada@example.org | head`) ends in a
BrokenPipeError traceback. Commands built on this class instead print one line naming the
argument and what is wrong, exit non-zero, and stop quietly when their reader goes away.
`--traceback` still shows the full stack.
"""

import argparse
import os
import sys
from typing import Any

from django.core.management import base


def parsed(parse, example):
    """An argparse `type=` that turns the parser's ValueError into a message showing a good value."""

    def convert(text: str) -> Any:
        try:
            return parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {example}") from None

    convert.__name__ = getattr(parse, "__name__", "value")
    return convert


def at_least(minimum: int):
    """An argparse `type=` for a whole number not below `minimum`."""

    def number(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is below the smallest allowed, {minimum}")
        return value

    return number


class BaseCommand(base.BaseCommand):
    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> base.CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        # argparse prints the whole usage before an error; the one line after it says what is
        # wrong, and `--help` shows the usage for whoever wants it.
        parser.print_usage = lambda file=None: None  # type: ignore[method-assign]
        return parser

    def run_from_argv(self, argv: list[str]) -> None:
        try:
            try:
                super().run_from_argv(argv)
            finally:
                sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        except BrokenPipeError:
            # The reader (head, less) has all it wanted. Point stdout at /dev/null so the
            # interpreter's final flush does not complain either.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(1)
        except ValueError as error:
            if "--traceback" in argv:
                raise
            self.stderr.write(f"Error: {error}")
            sys.exit(1)

"""'More like this' / 'less like this' from a digest: feedback stored as liked / disliked papers.

A paper is either liked or disliked by a subscriber, never both: the latest click wins. The
unique constraint on Interest (subscriber, kind, paper) makes a repeated click a no-op, so a
double click or a mail client that opens the link twice changes nothing.
"""

from django.db import IntegrityError, transaction

from subscriptions.models import Interest

CHOICES = {"more": Interest.Kind.LIKED, "less": Interest.Kind.DISLIKED}
OPPOSITE = {Interest.Kind.LIKED: Interest.Kind.DISLIKED, Interest.Kind.DISLIKED: Interest.Kind.LIKED}


class UnknownChoice(ValueError):
    pass


def kind_for(choice):
    try:
        return CHOICES[choice]
    except KeyError:
        raise UnknownChoice(f"feedback choice must be 'more' or 'less', not {choice!r}") from None


def record(subscriber, paper, choice):
    """Store the choice; returns True when something changed (False for a repeated click)."""
    kind = kind_for(choice)
    with transaction.atomic():
        switched = Interest.objects.filter(subscriber=subscriber, paper=paper, kind=OPPOSITE[kind]).delete()[0]
        try:
            with transaction.atomic():
                Interest.objects.create(subscriber=subscriber, paper=paper, kind=kind)
        except IntegrityError:  # already recorded: a repeated click
            return bool(switched)
    return True


def undo(subscriber, paper, choice):
    """Forget the choice again; returns True when there was something to forget."""
    return Interest.objects.filter(subscriber=subscriber, paper=paper, kind=kind_for(choice)).delete()[0] > 0

"""How subscriptions asks the apps above it for what only they can compute, without importing them.

`matches_wanted` is sent by the manage page for "papers of the last week that would have
been picked" (a taste of the next digest). digest, which ranks, answers it; each receiver
returns a list of matches (objects with .paper, .score, .similarity, .matched).
"""

from django.dispatch import Signal

matches_wanted = Signal()

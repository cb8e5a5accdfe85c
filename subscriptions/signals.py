"""How subscriptions tells the apps above it what happened, without importing them.

`interests_changed(subscriber_id=...)` is sent once a change of a subscriber's interests has
committed (sign-up, the manage form, a "more / less like this" click, the admin). digest
answers by queuing a worker that embeds the new interests and ranks the manage page's preview.
"""

from django.dispatch import Signal

interests_changed = Signal()

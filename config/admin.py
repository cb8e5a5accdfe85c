"""Admin pieces shared by the apps."""

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

from config import ratelimit
from config.clients import client_ip


class ReadOnlyInline(admin.TabularInline):
    """Rows written by the pipeline (appearances, digest items, delivery events): shown, never edited.

    Subclasses name `fields`; every one of them is read-only.
    """

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False


class ThrottledLoginForm(AdminAuthenticationForm):
    """The admin sign-in, with failures counted per account name and client address.

    After ADMIN_LOGIN_FAILURE_RATE failures (say 10/h) that pair is refused, the right password
    included, until the window passes: guessing a password takes years instead of minutes, and
    the message says why, instead of another "wrong password" that invites more guessing.
    """

    locked_message = "Too many failed sign-ins for this account from your address. Please try again in an hour or so."

    def clean(self):
        rate = settings.ADMIN_LOGIN_FAILURE_RATE
        identity = f"{(self.cleaned_data.get('username') or '').strip().lower()}|{client_ip(self.request)}"
        if ratelimit.exhausted("admin-login", identity, rate):
            raise ValidationError(self.locked_message, code="locked")
        try:
            return super().clean()
        except ValidationError:
            ratelimit.allow("admin-login", identity, rate)
            raise

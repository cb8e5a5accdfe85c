"""The ESP tracking webhook, mounted under /anymail/ by config.urls: only ANYMAIL_ESP's answers."""

from digest.webhooks import tracking_urls

app_name = "anymail"
urlpatterns = tracking_urls()

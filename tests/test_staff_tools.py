"""A staff member answers readers from the admin: finds them by what they read, sees what was
sent to them and how it looked, mails a lost manage link, resends a digest that never
arrived (once, however often they click), and sees today at a glance."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from digest.models import DeliveryEvent, Digest, DigestItem
from papers.models import IngestRun, Source
from subscriptions.models import Subscriber
from tests.factories import make_digest, make_papers, make_subscriber

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    client.force_login(User.objects.create_superuser("staff", "staff@example.org", "pw"))
    return client


@pytest.fixture
def ada_got_a_digest():
    ada = make_subscriber("ada@example.org", interests=["diffusion models for images"], confirmed_at=timezone.now())
    papers = make_papers(2)
    digest = make_digest(ada, papers, status=Digest.Status.SENT, sent_at=timezone.now(), message_id="m-1")
    return ada, digest, papers


def action(client, model, name, *objects):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    return client.post(url, {"action": name, "_selected_action": [o.pk for o in objects]}, follow=True)


def test_subscribers_are_found_by_the_words_of_their_interests(staff):
    make_subscriber("ada@example.org", interests=["Diffusion models for images", "protein folding"])
    make_subscriber("bob@example.org", interests=["quantum error correction"])

    response = staff.get(reverse("admin:subscriptions_subscriber_changelist"), {"q": "diffusion"})

    assert [s.email for s in response.context["cl"].result_list] == ["ada@example.org"]


def test_the_subscriber_page_lists_their_digests_and_each_sent_one_opens_as_its_email(staff, ada_got_a_digest):
    ada, digest, papers = ada_got_a_digest
    make_digest(ada, issue_date=timezone.now().date() + timedelta(days=1))  # planned, not out yet

    page = staff.get(reverse("admin:subscriptions_subscriber_change", args=[ada.pk])).content.decode()

    assert "Digest history" in page and "not sent yet" in page
    email_url = reverse("admin:digest_digest_email", args=[digest.pk])
    assert f'href="{email_url}"' in page

    response = staff.get(email_url)
    shown = unescape(response.content.decode())
    assert response.status_code == 200
    assert "To ada@example.org: Your papers for " in shown
    assert all(paper.title in shown for paper in papers)
    assert "sandbox" in shown and "'unsafe-inline'" in response["Content-Security-Policy"]
    assert Digest.objects.get(pk=digest.pk).status == Digest.Status.SENT and not mail.outbox


def test_a_digest_item_says_which_paper_in_whose_digest():
    ada = make_subscriber("ada@example.org")
    (paper,) = make_papers(1)
    digest = make_digest(ada, [paper], issue_date="2026-08-07")

    assert str(DigestItem.objects.get(digest=digest)) == (
        "#1 Contrastive sentence embeddings, part 1 (in ada@example.org · 2026-08-07)"
    )


def test_staff_mail_a_lost_manage_link_to_confirmed_readers_only(staff):
    ada = make_subscriber("ada@example.org")
    pending = make_subscriber("new@example.org", status=Subscriber.Status.PENDING)

    response = action(staff, Subscriber, "send_manage_link", ada, pending)

    assert [message.to for message in mail.outbox] == [["ada@example.org"]]
    assert "/manage/" in mail.outbox[0].body
    page = response.content.decode()
    assert "Sent 1 manage link(s)." in page and "Skipped 1 unconfirmed or suppressed" in page


def test_a_resent_digest_is_a_new_row_sent_once_however_often_staff_click(
    staff, ada_got_a_digest, django_capture_on_commit_callbacks
):
    ada, digest, papers = ada_got_a_digest
    digest.items.filter(rank=2).update(matched_kind="liked", because_of=papers[0])  # "like <title>" in its why

    with django_capture_on_commit_callbacks(execute=False) as queued:
        action(staff, Digest, "resend", digest)
        second = action(staff, Digest, "resend", digest)  # clicked again before the first went out
    for send in queued:
        send()

    resend = Digest.objects.get(resend_of=digest)
    assert resend.status == Digest.Status.SENT and resend.issue_date == digest.issue_date
    fields = ("paper_id", "rank", "score", "matched", "matched_kind", "similarity", "word_match", "because_of_id")
    assert list(resend.items.order_by("rank").values_list(*fields)) == list(
        digest.items.order_by("rank").values_list(*fields)
    )
    assert [message.to for message in mail.outbox] == [["ada@example.org"]]
    assert papers[0].title in mail.outbox[0].body
    assert "1 already have a resend on its way: not sent twice." in second.content.decode()
    assert Digest.objects.get(pk=digest.pk).status == Digest.Status.SENT

    with django_capture_on_commit_callbacks(execute=True):
        action(staff, Digest, "resend", resend)  # a resend of the resend repeats the original
    assert Digest.objects.filter(resend_of=digest).count() == 2 and len(mail.outbox) == 2


def test_only_sent_or_failed_digests_of_active_readers_are_resent(staff, django_capture_on_commit_callbacks):
    ada = make_subscriber("ada@example.org")
    paused = make_subscriber("paused@example.org", status=Subscriber.Status.PAUSED)
    planned = make_digest(ada)
    sent_to_paused = make_digest(paused, status=Digest.Status.SENT)

    with django_capture_on_commit_callbacks(execute=True):
        response = action(staff, Digest, "resend", planned, sent_to_paused)

    assert not Digest.objects.filter(resend_of__isnull=False).exists() and not mail.outbox
    assert "Skipped 2: only sent or failed digests of active subscribers are resent." in response.content.decode()


def test_today_shows_what_went_out_and_wrong_each_linked_to_its_list(staff, ada_got_a_digest):
    ada, sent, _ = ada_got_a_digest
    bob = make_subscriber("bob@example.org")
    make_digest(bob, status=Digest.Status.FAILED, last_error="550 user unknown")
    make_subscriber("new@example.org", status=Subscriber.Status.PENDING)
    gone = make_subscriber("gone@example.org", status=Subscriber.Status.BOUNCED)
    DeliveryEvent.objects.create(event_id="e1", event_type="bounced", recipient=gone.email, subscriber=gone)
    source = Source.objects.create(name="HF daily papers", location="https://huggingface.co/api/daily_papers")
    IngestRun.objects.create(source=source, status=IngestRun.Status.FAILED, message="HTTP 503 from huggingface.co")

    assert "Today at a glance" in staff.get(reverse("admin:index")).content.decode()
    page = unescape(staff.get(reverse("admin:digest_today")).content.decode())

    def figure(label):
        return re.search(rf'<a href="([^"]+)">{label}</a></th>\s*<td><a href="[^"]+">(\d+)</a>', page).groups()

    sent_url, sent_count = figure("Sent today")
    failed_url, failed_count = figure("Failed")
    pending_url, pending_count = figure("Pending confirmation")
    assert (sent_count, failed_count, pending_count) == ("1", "1", "1")
    assert re.search(r"Bounced</a></th>\s*<td><a [^>]+>1</a> \(1 today\)", page)
    assert "HF daily papers" in page and "HTTP 503 from huggingface.co" in page

    assert [d.subscriber.email for d in staff.get(sent_url).context["cl"].result_list] == ["ada@example.org"]
    assert [d.last_error for d in staff.get(failed_url).context["cl"].result_list] == ["550 user unknown"]
    assert [s.email for s in staff.get(pending_url).context["cl"].result_list] == ["new@example.org"]
    runs_url = re.search(r'<a href="([^"]+)">HF daily papers</a>', page).group(1)
    assert [r.message for r in staff.get(runs_url).context["cl"].result_list] == ["HTTP 503 from huggingface.co"]

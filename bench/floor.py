"""Floors: the least work each stage could do on this machine, measured in the same run.

A floor is not the production path; it is what a stage would cost with everything but its
essential work stripped away, so the table can say how far from the machine's limit each
stage is (the ratio column). Each floor does the same amount of work as its stage:

- embed: the model's encode on the papers' texts, nothing read or written.
- rank: one float32 matrix product of every subscriber's interests with the candidates and
  a top-k per subscriber, no profiles, no word match, no rules.
- plan: the same number of rows written by COPY (PostgreSQL) or executemany (SQLite) into a
  temporary table, no ranking.
- render: each distinct paper's HTML and text fragment built once per run with plain string
  formatting, per reader only the why-line and signed links (the HMAC key derived once), and
  the MIME bytes assembled directly.
- send: the floor's ready bytes handed to smtplib over one session per process.
"""

import base64
import html
import multiprocessing
import smtplib
import time
from email.utils import formatdate, make_msgid

import numpy as np
from django.conf import settings
from django.db import connection, connections

from digest.render import issue_label, shorten, teaser, why
from papers import embeddings
from papers.links import http_url
from subscriptions import signing


def embed(texts):
    """Seconds for the model alone to encode `texts`."""
    started = time.perf_counter()
    embeddings.encode(texts)
    return time.perf_counter() - started


def bf16_overlap(texts, queries, k=10):
    """Top-k overlap of bf16 weights against float32 on the same texts and queries (1.0: the same
    papers come first), with the papers/s of each: the check that bf16 may embed for real."""
    import torch
    from sentence_transformers import SentenceTransformer

    results = {}
    for dtype in (torch.float32, torch.bfloat16):
        model = SentenceTransformer(settings.EMBEDDING_MODEL, device="cpu").to(dtype)
        started = time.perf_counter()
        papers = model.encode(texts, normalize_embeddings=True, convert_to_numpy=True).astype(np.float32)
        rate = len(texts) / (time.perf_counter() - started)
        asked = model.encode(queries, normalize_embeddings=True, convert_to_numpy=True).astype(np.float32)
        results[dtype] = (np.argsort(-(asked @ papers.T), axis=1)[:, :k], rate)
    (full, full_rate), (half, half_rate) = results[torch.float32], results[torch.bfloat16]
    overlap = np.mean([len(set(a) & set(b)) / k for a, b in zip(full, half)])
    return float(overlap), full_rate, half_rate


def rank(interest_rows, candidate_vectors, k=10, chunk=2000):
    """Seconds for one product per chunk of interest rows and a top-k per row."""
    rng = np.random.default_rng(1)
    dim = candidate_vectors.shape[1]
    started = time.perf_counter()
    for start in range(0, interest_rows, chunk):
        rows = rng.standard_normal((min(chunk, interest_rows - start), dim), dtype=np.float32)
        scores = rows @ candidate_vectors.T
        np.argpartition(-scores, min(k, scores.shape[1] - 1), axis=1)[:, :k]
    return time.perf_counter() - started


def plan(rows):
    """Seconds to write `rows` digest-item-shaped rows in bulk, without ranking."""
    data = [(n // 10 + 1, n % 1000 + 1, n % 10 + 1, 0.5, "an interest", "text", 0.5, 0.0) for n in range(rows)]
    columns = (
        "digest_id bigint, paper_id bigint, rank int, score float8, matched text, kind text, sim float8, wm float8"
    )
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE bench_floor_rows ({columns})")
        started = time.perf_counter()
        if connection.vendor == "postgresql":
            with cursor.cursor.copy("COPY bench_floor_rows FROM STDIN") as copy:
                for row in data:
                    copy.write_row(row)
        else:
            cursor.executemany("INSERT INTO bench_floor_rows VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", data)
        seconds = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_floor_rows")
    return seconds


HTML_ITEM = (
    '<tr><td class="item" style="padding: 16px 0;border-bottom: 1px solid #e6e8eb;">'
    '<p class="item-title" style="font-size: 17px;line-height: 1.35;font-weight: 600;margin: 0 0 4px 0;">{title}</p>'
    '<p class="authors" style="color: #59636e;font-size: 13px;margin: 0 0 6px 0;">{authors}</p>'
    '<p class="why" style="display: inline-block;background: #eef4ff;color: #0b57d0;font-size: 12px;">Why: \x00why</p>'
    '<p class="teaser" style="margin: 0 0 8px 0;font-size: 14px;">{teaser}</p>'
    '<p class="links" style="font-size: 13px;">{links}<span class="feedback">'
    '<a href="\x00more" style="color: #59636e;">More like this</a> · '
    '<a href="\x00less" style="color: #59636e;">Less like this</a></span></p></td></tr>'
)
TEXT_ITEM = (
    "{title}\n   {authors}\n   Why: \x00why\n   {teaser}\n{links}"
    "   More like this: \x00more\n   Less like this: \x00less\n"
)


def _fragments(paper):
    abs_url, pdf_url = http_url(paper.abs_url), http_url(paper.pdf_url)
    title = html.escape(paper.title)
    links = " · ".join(
        f'<a href="{html.escape(url)}" style="color: #0b57d0;">{label}</a>'
        for label, url in (("Abstract", abs_url), ("PDF", pdf_url))
        if url
    )
    text_links = "".join(f"   {label}: {url}\n" for label, url in (("Abstract", abs_url), ("PDF", pdf_url)) if url)
    short_teaser = teaser(paper.abstract)
    return (
        HTML_ITEM.format(
            title=f'<a href="{html.escape(abs_url)}">{title}</a>' if abs_url else title,
            authors=html.escape(paper.short_authors),
            teaser=html.escape(short_teaser),
            links=links,
        ),
        TEXT_ITEM.format(title=paper.title, authors=paper.short_authors, teaser=short_teaser, links=text_links),
    )


def _fill(fragment, why_line, more, less):
    return fragment.replace("\x00why", why_line).replace("\x00more", more).replace("\x00less", less)


def _mime(sender, to, subject, text, body_html):
    boundary = make_msgid("b")[1:-1]
    head = (
        f"From: {sender}\r\nTo: {to}\r\nSubject: =?utf-8?b?{base64.b64encode(subject.encode()).decode()}?=\r\n"
        f"Date: {formatdate()}\r\nMessage-ID: {make_msgid('digest')}\r\nMIME-Version: 1.0\r\n"
        f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'
    )
    parts = [head.encode()]
    for kind, body in (("plain", text), ("html", body_html)):
        parts.append(
            f"--{boundary}\r\nContent-Type: text/{kind}; charset=utf-8\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n".encode()
        )
        parts.append(base64.encodebytes(body.encode()).replace(b"\n", b"\r\n"))
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts)


def render(digests):
    """(seconds, [(recipient, message bytes)]) for `digests` (with subscriber and items loaded)."""
    site = settings.SITE_URL
    fragments = {}
    messages = []
    started = time.perf_counter()
    for digest in digests:
        subscriber = digest.subscriber
        html_parts, text_parts = [], []
        items = list(digest.items.all())
        for number, item in enumerate(items, start=1):
            paper = item.paper
            if paper.pk not in fragments:
                fragments[paper.pk] = _fragments(paper)
            html_item, text_item = fragments[paper.pk]
            why_line = why(item.matched, item.matched_kind)
            more = f"{site}/f/{signing.make_token('feedback', subscriber, p=paper.pk, c='more')}/"
            less = f"{site}/f/{signing.make_token('feedback', subscriber, p=paper.pk, c='less')}/"
            html_parts.append(_fill(html_item, html.escape(why_line), html.escape(more), html.escape(less)))
            text_parts.append(f"{number}. " + _fill(text_item, why_line, more, less))
        manage = f"{site}/m/{signing.make_token('manage', subscriber)}/"
        unsubscribe = f"{site}/u/{signing.make_token('unsubscribe', subscriber)}/"
        label = issue_label(digest.issue_date)
        footer = f"Manage your interests: {manage}\nUnsubscribe: {unsubscribe}\n"
        subject = f"Your papers for {label} — " + (shorten(items[0].paper.title, 80) if items else "nothing matched")
        text = f"Your papers for {label}\n" + "\n".join(text_parts) + footer
        body_html = f"<html><body><h1>Your papers for {label}</h1><table>{''.join(html_parts)}</table>{footer}</body>"
        messages.append(
            (subscriber.email, _mime(settings.DEFAULT_FROM_EMAIL, subscriber.email, subject, text, body_html))
        )
    return time.perf_counter() - started, messages


def _send_share(port, messages, sender):
    smtp = smtplib.SMTP("127.0.0.1", port)
    try:
        for recipient, data in messages:
            smtp.sendmail(sender, [recipient], data)
    finally:
        smtp.quit()


def send(port, messages, processes):
    """Seconds for `processes` forked processes to hand the ready bytes to the sink, one session each."""
    context = multiprocessing.get_context("fork")
    connections.close_all()
    shares = [messages[index::processes] for index in range(processes) if messages[index::processes]]
    started = time.perf_counter()
    senders = [context.Process(target=_send_share, args=(port, share, "bench@localhost")) for share in shares]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    return time.perf_counter() - started

"""`{% load links %}` then `{{ url|http_url }}`: a link rendered on a page is checked again (papers.links)."""

from django import template

from papers import links

register = template.Library()
register.filter("http_url", links.http_url)

"""Absolute addresses of the worker pages, as printed in QR codes.

``settings.PUBLIC_BASE_URL`` (e.g. ``https://rh.example.org``) when set, so a poster printed
from an office intranet still points at the public site; otherwise the host of the request.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from niangjia.members.models import CeremonyVenue
from niangjia.orgs.models import Union


def absolute(request: HttpRequest, path: str) -> str:
    base = settings.PUBLIC_BASE_URL
    return f"{base}{path}" if base else request.build_absolute_uri(path)


def union_join_url(request: HttpRequest, union: Union) -> str:
    return absolute(request, reverse("join:union", args=[union.pk]))


def venue_join_url(request: HttpRequest, venue: CeremonyVenue) -> str:
    return absolute(request, reverse("join:venue", args=[venue.token]))


def card_verify_url(request: HttpRequest, token: str) -> str:
    return absolute(request, reverse("join:card_verify", args=[token]))

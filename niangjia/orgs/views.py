"""Placeholder views: replaced by the full cadre pages."""

from django.http import HttpRequest, HttpResponse


def union_tree(request: HttpRequest) -> HttpResponse:
    return HttpResponse("")


def union_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return HttpResponse("")


def employer_list(request: HttpRequest) -> HttpResponse:
    return HttpResponse("")

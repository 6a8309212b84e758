from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from niangjia.orgs.choices import EmployerStatus, UnionLevel, UnionStatus
from niangjia.orgs.models import Employer, Union


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The cadre's start page: one card per union node they hold a role on."""
    cards = []
    for assignment in request.user.active_roles():
        union = assignment.union
        unions = Union.objects.filter(path__startswith=union.path, status=UnionStatus.ACTIVE)
        employers = Employer.objects.filter(
            owner__path__startswith=union.path, status=EmployerStatus.ACTIVE
        )
        employer_count = employers.count()
        organised = employers.filter(covering_union__isnull=False).count()
        cards.append(
            {
                "assignment": assignment,
                "union": union,
                "unions": unions.count() - 1,
                "grassroots": unions.filter(level=UnionLevel.GRASSROOTS).count(),
                "employers": employer_count,
                "organised": organised,
                "formation_rate": (organised / employer_count * 100) if employer_count else None,
            }
        )
    return render(request, "web/home.html", {"cards": cards})

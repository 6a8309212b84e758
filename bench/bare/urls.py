import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from bench.bare.models import BareRow


@csrf_exempt
@require_POST
def insert(request: HttpRequest) -> HttpResponse:
    """Validate ``{"name": …, "code": …}`` and insert one row."""
    try:
        data = json.loads(request.body)
    except ValueError:
        return JsonResponse({"error": "请求体不是 JSON"}, status=400)
    name = data.get("name") if isinstance(data, dict) else None
    code = data.get("code") if isinstance(data, dict) else None
    if not isinstance(name, str) or not 0 < len(name) <= 50:
        return JsonResponse({"error": "name：应为 1 至 50 个字"}, status=400)
    if not isinstance(code, str) or len(code) != 18 or not code[:17].isdigit():
        return JsonResponse({"error": "code：应为 18 位证件号码"}, status=400)
    row = BareRow.objects.create(name=name, code=code)
    return JsonResponse({"id": row.pk}, status=201)


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


urlpatterns = [path("insert", insert), path("healthz", healthz)]

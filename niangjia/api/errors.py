"""Every error the API answers, in Chinese and in one shape.

422 bodies look like django-ninja's own: ``{"detail": [{"loc": [...], "msg": ..., "type": ...}]}``
whether the input failed the schema (pydantic) or a service rule (Django ValidationError);
``msg`` names the field and the reason. 401/403/404 bodies are ``{"detail": "..."}``; every 403
also leaves a 越权拒绝 audit row.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, get_args

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationErrorContext
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import BaseModel

from niangjia.audit import context
from niangjia.audit.services import audit_permission_denied

logger = logging.getLogger(__name__)

# The body parameter of every operation is called ``payload``; it is left out of ``loc``.
BODY_PARAM = "payload"

UNAUTHENTICATED = "请先登录，或在请求头 Authorization 中提供有效的接口令牌（Bearer）"
NOT_FOUND = "请求的对象不存在或不在您的管辖范围内"
FORBIDDEN = "您没有执行此操作的权限"

BODY_LABEL = "请求体"


def schema_labels(schema: type[BaseModel]) -> dict[str, str]:
    """Field name -> the Chinese ``title`` given to it in ``schema``."""
    return {name: info.title for name, info in schema.model_fields.items() if info.title}


def _model_in(annotation: Any) -> type[BaseModel] | None:
    try:
        if issubclass(annotation, BaseModel):
            return annotation
    except TypeError:  # not a class: Optional[...], list[...], Annotated[...]
        pass
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _title(model: type[BaseModel], loc: tuple[Any, ...]) -> str | None:
    """The title of the field that ``loc`` (a pydantic location) points to inside ``model``."""
    current: type[BaseModel] | None = model
    title = None
    for part in loc:
        if current is None or not isinstance(part, str):
            continue
        info = current.model_fields.get(part)
        if info is None:
            return title
        title = info.title
        current = _model_in(info.annotation)
    return title


# --- Schema (pydantic) errors


def _choices(ctx: dict[str, Any]) -> str:
    return str(ctx.get("expected", "")).replace("'", "").replace(" or ", ", ")


_PYDANTIC_MESSAGES: dict[str, Any] = {
    "missing": lambda ctx: "必须填写",
    "string_too_short": lambda ctx: (
        "不能为空" if ctx.get("min_length") == 1 else f"不能少于 {ctx.get('min_length')} 个字符"
    ),
    "string_too_long": lambda ctx: f"不能超过 {ctx.get('max_length')} 个字符",
    # Length bounds on an optional text (``Text | None``) or on a list.
    "too_short": lambda ctx: (
        f"至少要有 {ctx.get('min_length')} 项"
        if ctx.get("field_type") == "List"
        else f"不能少于 {ctx.get('min_length')} 个字符"
    ),
    "too_long": lambda ctx: (
        f"不能超过 {ctx.get('max_length')} 项"
        if ctx.get("field_type") == "List"
        else f"不能超过 {ctx.get('max_length')} 个字符"
    ),
    "string_type": lambda ctx: "应为文本",
    "string_pattern_mismatch": lambda ctx: "格式不正确",
    "int_parsing": lambda ctx: "应为整数",
    "int_type": lambda ctx: "应为整数",
    "int_from_float": lambda ctx: "应为整数",
    "float_parsing": lambda ctx: "应为数字",
    "float_type": lambda ctx: "应为数字",
    "bool_parsing": lambda ctx: "应为 true 或 false",
    "bool_type": lambda ctx: "应为 true 或 false",
    "greater_than_equal": lambda ctx: f"不能小于 {ctx.get('ge')}",
    "greater_than": lambda ctx: f"应大于 {ctx.get('gt')}",
    "less_than_equal": lambda ctx: f"不能大于 {ctx.get('le')}",
    "less_than": lambda ctx: f"应小于 {ctx.get('lt')}",
    "enum": lambda ctx: f"取值无效，可选值：{_choices(ctx)}",
    "literal_error": lambda ctx: f"取值无效，可选值：{_choices(ctx)}",
    "date_parsing": lambda ctx: "应为日期，格式为 YYYY-MM-DD",
    "date_type": lambda ctx: "应为日期，格式为 YYYY-MM-DD",
    "date_from_datetime_parsing": lambda ctx: "应为日期，格式为 YYYY-MM-DD",
    "date_from_datetime_inexact": lambda ctx: "应为日期，不带时间",
    "datetime_parsing": lambda ctx: "应为日期时间",
    "datetime_type": lambda ctx: "应为日期时间",
    "model_type": lambda ctx: "应为 JSON 对象",
    "model_attributes_type": lambda ctx: "应为 JSON 对象",
    "dict_type": lambda ctx: "应为 JSON 对象",
    "list_type": lambda ctx: "应为列表",
    "extra_forbidden": lambda ctx: "不是可识别的字段，请删去",
    "json_invalid": lambda ctx: "不是有效的 JSON",
    "value_error": lambda ctx: str(ctx.get("error", "取值无效")),
}


def _clean_loc(loc: Iterable[Any]) -> list[str | int]:
    parts = [p if isinstance(p, int) else str(p) for p in loc]
    if len(parts) >= 2 and parts[0] == "body" and parts[1] == BODY_PARAM:
        del parts[1]
    return parts


def _message(loc: list[str | int], name: str | None, reason: str) -> str:
    """``reason`` with the field's label in front (unless it already starts with it)."""
    if len(loc) < 2:
        name = BODY_LABEL if loc and loc[0] == "body" else "参数"
    if not name or reason.startswith(name):
        return reason
    return f"{name}：{reason}"


def translate_pydantic(
    error_contexts: Iterable[ValidationErrorContext[Any]],
) -> list[dict[str, Any]]:
    """Schema failures of one request -> 422 items with Chinese messages."""
    items = []
    for error_context in error_contexts:
        model = error_context.model
        flattened: dict[Any, Any] = getattr(model, "__ninja_flatten_map_reverse__", {})
        source = getattr(model, "__ninja_param_source__", "body")
        for error in error_context.pydantic_validation_error.errors(include_url=False):
            raw_loc = tuple(error["loc"])
            loc = _clean_loc((source, *flattened.get(raw_loc, raw_loc)))
            kind = str(error.get("type", "invalid"))
            make = _PYDANTIC_MESSAGES.get(kind)
            reason = make(error.get("ctx") or {}) if make else "取值无效"
            reason = reason.removeprefix("Value error, ")
            fields = [p for p in loc[1:] if isinstance(p, str)]
            name = _title(model, raw_loc) or (fields[-1] if fields else None)
            items.append({"loc": loc, "msg": _message(loc, name, reason), "type": kind})
    return items


def translate_django(
    exc: DjangoValidationError, source: str, labels: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """A service's ValidationError -> 422 items located in ``source``."""
    labels = labels or {}
    items = []
    if hasattr(exc, "error_dict"):
        pairs = [(field, error) for field, errs in exc.error_dict.items() for error in errs]
    else:
        pairs = [(NON_FIELD_ERRORS, error) for error in exc.error_list]
    for field, error in pairs:
        loc: list[str | int] = [source] if field == NON_FIELD_ERRORS else [source, field]
        reason = " ".join(error.messages)
        message = reason if len(loc) < 2 else _message(loc, labels.get(field), reason)
        items.append({"loc": loc, "msg": message, "type": error.code or "invalid"})
    return items


@contextmanager
def labelled(schema: type[BaseModel] | None = None, source: str = "body") -> Iterator[None]:
    """Turn a service's ValidationError into a 422 whose messages use ``schema``'s labels;
    ``source`` is where the offending input came from ("body", "query" or "path")."""
    try:
        yield
    except DjangoValidationError as exc:
        labels = schema_labels(schema) if schema is not None else {}
        raise NinjaValidationError(translate_django(exc, source, labels)) from exc


# --- Handlers


def _detail(request: HttpRequest, api: NinjaAPI, message: str, status: int) -> HttpResponse:
    return api.create_response(request, {"detail": message}, status=status)


def install_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(NinjaValidationError)
    def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        return api.create_response(request, {"detail": exc.errors}, status=422)

    @api.exception_handler(DjangoValidationError)
    def _service_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        source = "query" if request.method in ("GET", "HEAD") else "body"
        return api.create_response(request, {"detail": translate_django(exc, source)}, status=422)

    @api.exception_handler(AuthenticationError)
    def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        message = exc.message if exc.message != "Unauthorized" else UNAUTHENTICATED
        response = _detail(request, api, message, 401)
        response["WWW-Authenticate"] = 'Bearer realm="niangjia"'
        return response

    @api.exception_handler(PermissionDenied)
    def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        message = str(exc) or FORBIDDEN
        audit_permission_denied(request, exc)
        return _detail(request, api, message, 403)

    @api.exception_handler(Http404)
    def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return _detail(request, api, str(exc) or NOT_FOUND, 404)

    @api.exception_handler(HttpError)
    def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        message = exc.message
        if exc.status_code == 400:
            message = "请求体无法解析，请发送 UTF-8 编码的 JSON"
        return _detail(request, api, message, exc.status_code)

    @api.exception_handler(Exception)
    def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("API error on %s %s", request.method, request.path, exc_info=exc)
        request_id = context.current().request_id
        return _detail(request, api, f"服务器内部错误，请联系管理员（请求编号 {request_id}）", 500)

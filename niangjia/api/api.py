"""The API object: title, authentication, Chinese errors and the domains' routers."""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI, Swagger
from ninja.errors import ValidationError, ValidationErrorContext
from ninja.operation import Operation

from niangjia.api import me
from niangjia.api.auth import API_AUTH
from niangjia.api.errors import install_handlers, translate_pydantic
from niangjia.imports import api as imports
from niangjia.jobs import api as jobs
from niangjia.members.api import applications, ceremonies, members, transfers
from niangjia.orgs.api import employers, regions, unions
from niangjia.relief.api import endpoints as relief
from niangjia.stats.api import stats
from niangjia.verification.api import endpoints as verification

DESCRIPTION = """娘家工会平台的 REST 接口。

认证：在请求头中携带 `Authorization: Bearer <接口令牌>`；浏览器中也可沿用登录会话
（修改类请求须带 `X-CSRFToken`）。每个账号只能看到自己任职工会及其下级的数据：
超出管辖范围的对象返回 404，范围内但无权执行的操作返回 403。
"""


class NiangjiaAPI(NinjaAPI):
    def validation_error_from_error_contexts(
        self, error_contexts: list[ValidationErrorContext[Any]]
    ) -> ValidationError:
        return ValidationError(translate_pydantic(error_contexts))

    def get_openapi_operation_id(self, operation: Operation) -> str:
        return operation.view_func.__name__


api = NiangjiaAPI(
    title="娘家工会平台 API",
    version="1",
    description=DESCRIPTION,
    auth=API_AUTH,
    # Swagger UI from the files shipped with django-ninja (static/ninja/): nothing from a CDN;
    # no validator badge, which would be fetched from swagger.io.
    docs=Swagger(settings={"validatorUrl": None}),
    urls_namespace="api",
)
install_handlers(api)
api.add_router("", me.router)
api.add_router("/regions", regions.router)
api.add_router("/unions", unions.router)
api.add_router("/employers", employers.router)
api.add_router("/unions", applications.union_router)
api.add_router("/members", members.router)
api.add_router("/applications", applications.router)
api.add_router("/transfers", transfers.router)
api.add_router("/ceremonies", ceremonies.router)
api.add_router("/verification", verification.router)
api.add_router("/jobs", jobs.router)
api.add_router("/imports", imports.router)
api.add_router("/stats", stats.router)
api.add_router("/relief", relief.router)

from django.urls import include, path

urlpatterns = [
    # First: a mass joining ceremony posts thousands of joins a minute to /j/v/…, and Django
    # tries the patterns in order. No other prefix below starts with "j/" (the site's own
    # pages are only "" and "healthz"), so the order changes no address's view.
    path("j/", include("niangjia.members.urls_public")),
    path("", include("niangjia.web.urls")),
    path("accounts/", include("niangjia.accounts.urls")),
    path("orgs/", include("niangjia.orgs.urls")),
    path("members/", include("niangjia.members.urls")),
    path("relief/", include("niangjia.relief.urls")),
    path("verification/", include("niangjia.verification.urls")),
    path("imports/", include("niangjia.imports.urls")),
    path("audit/", include("niangjia.audit.urls")),
    path("jobs/", include("niangjia.jobs.urls")),
    path("exports/", include("niangjia.exports.urls")),
    path("stats/", include("niangjia.stats.urls")),
    path("api/v1/", include("niangjia.api.urls")),
    path("r/", include("niangjia.relief.urls_public")),
]

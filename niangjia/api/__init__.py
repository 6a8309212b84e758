"""The REST API /api/v1/: one django-ninja API assembled from the domains' routers."""

"""The API explorer at `/docs`: Swagger UI (vendored under static/swagger-ui, no CDN) listing every
service's OpenAPI document as the gateway serves it (`/openapi/<service>.json`)."""
from __future__ import annotations

from flask import Blueprint, Response

from mall_shared.config import SERVICES

blueprint = Blueprint("docs", __name__, static_folder="static", static_url_path="/docs/static")

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>mall API</title>
  <link rel="stylesheet" href="/docs/static/swagger-ui/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/static/swagger-ui/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/static/swagger-ui/swagger-ui-bundle.js"></script>
  <script src="/docs/static/swagger-ui/swagger-ui-standalone-preset.js"></script>
  <script src="/docs/static/docs.js"></script>
</body>
</html>
"""


@blueprint.get("/docs")
def page():
    return Response(PAGE, content_type="text/html; charset=utf-8")


@blueprint.get("/docs/swagger-config.json")
def swagger_config():
    """Swagger UI's configUrl: one entry per service, the first shown first."""
    return {"urls": [{"name": s, "url": f"/openapi/{s}.json"} for s in SERVICES], "urls.primaryName": SERVICES[0]}

"""The settings API. Routes are declared in template.yaml; the rules live in the hubqbo layer."""

from hubqbo.observability import HTTP_API, lambda_entry
from hubqbo.web.http import new_http_app

app = new_http_app("settings")


@lambda_entry(correlation_id_path=HTTP_API)
def lambda_handler(event, context):
    return app.resolve(event, context)

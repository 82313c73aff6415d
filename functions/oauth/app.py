"""The oauth API. Routes are declared in template.yaml; they live in `hubqbo.web.oauth`."""

from hubqbo.coldstart import loading

with loading():  # first: the cycle collector stays paused while the function's modules load (coldstart.py)
    from hubqbo.observability import HTTP_API, lambda_entry
    from hubqbo.web import oauth
    from hubqbo.web.http import new_http_app

    app = new_http_app("oauth", oauth.router)


@lambda_entry(correlation_id_path=HTTP_API)
def lambda_handler(event, context):
    return app.resolve(event, context)

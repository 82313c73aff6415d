"""The invoices API: the app card, the create-invoice wizard and "Add existing invoice".

Routes are declared in template.yaml; they live in `hubqbo.web.invoices` and, for the workflow action
that creates an invoice, `hubqbo.web.workflows`.
"""

from hubqbo.coldstart import loading

with loading():  # first: the cycle collector stays paused while the function's modules load (coldstart.py)
    from hubqbo.observability import HTTP_API, lambda_entry
    from hubqbo.web import invoices, workflows
    from hubqbo.web.http import new_http_app

    app = new_http_app("invoices", invoices.router, workflows.router)


@lambda_entry(correlation_id_path=HTTP_API)
def lambda_handler(event, context):
    invoices.IDEMPOTENCY_CONFIG.register_lambda_context(context)
    return app.resolve(event, context)

"""The invoices API: the app card, the create-invoice wizard and "Add existing invoice".

Routes are declared in template.yaml; the routes' code, the rules and the pages live in the hubqbo
layer (`hubqbo.web.invoices`, `hubqbo.services.invoicing`).
"""

from hubqbo.observability import HTTP_API, lambda_entry
from hubqbo.services.invoicing import FieldProblems
from hubqbo.web import invoices
from hubqbo.web.http import new_http_app

app = new_http_app("invoices")
app.include_router(invoices.router)
app.exception_handler(FieldProblems)(invoices.field_problems_response)


@lambda_entry(correlation_id_path=HTTP_API)
def lambda_handler(event, context):
    invoices.IDEMPOTENCY_CONFIG.register_lambda_context(context)
    return app.resolve(event, context)

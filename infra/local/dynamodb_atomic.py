"""moto's DynamoDB made atomic per request, as DynamoDB is.

DynamoDB's PutItem, GetItem, UpdateItem and DeleteItem are each atomic, a condition expression included
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithItems.html, "Conditional
writes"), and TransactWriteItems is all or nothing. moto 5 evaluates a condition on the item and then
updates it with nothing held in between, so two threads can both pass `used < :limit` and both write
(the shared rate budget saw 112 calls in a window whose bucket refuses the 111th). One lock over each
request gives the product the store it runs against in AWS; the in-process mock and the local stack's
moto server share the same backend class, so both get it.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb.models import DynamoDBBackend

# Every item operation the API offers; batch calls reach the backend one item at a time (DynamoDB does
# not make a batch atomic either), transactions as a whole.
ITEM_OPERATIONS = (
    "put_item",
    "get_item",
    "update_item",
    "delete_item",
    "query",
    "scan",
    "transact_write_items",
    "execute_statement",
    "execute_transaction",
    "batch_execute_statement",
)
_LOCK = threading.RLock()  # re-entrant: a transaction calls put_item, update_item and delete_item
_MARK = "__hubqbo_atomic__"


def _atomic(operation: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(operation)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return operation(*args, **kwargs)

    setattr(locked, _MARK, True)
    return locked


def make_dynamodb_requests_atomic() -> None:
    """Serialise moto's DynamoDB item operations (once per process; calling again changes nothing)."""
    for name in ITEM_OPERATIONS:
        operation = getattr(DynamoDBBackend, name)
        if not getattr(operation, _MARK, False):
            setattr(DynamoDBBackend, name, _atomic(operation))

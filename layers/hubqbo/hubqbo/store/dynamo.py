"""Conditional writes to DynamoDB, read the same way by every store.

A refused condition is an answer, not a fault: stores either report it (a claim not taken, a lease
held: `False`/`None`) or raise one of the typed errors below, which callers catch by name. They are
not `ValueError`s, so a pydantic ValidationError can never read as "changed meanwhile".
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import ClientError

CONDITION_FAILED = "ConditionalCheckFailedException"
# A transaction is cancelled as a whole when one of its conditions fails (the invoice-link twins).
TRANSACTION_CANCELED = "TransactionCanceledException"


class ConditionFailed(Exception):
    """A conditional write found the item other than its condition expected."""


class VersionConflict(ConditionFailed):
    """The item was saved by someone else since it was read (optimistic locking on `version`)."""


class AlreadyRunning(ConditionFailed):
    """Another run holds the item (a backfill that has not finished)."""


def condition_failed(exc: ClientError, *, in_transaction: bool = False) -> bool:
    """True when DynamoDB refused a write because its condition did not hold."""
    code = exc.response.get("Error", {}).get("Code")
    return code == CONDITION_FAILED or (in_transaction and code == TRANSACTION_CANCELED)


@contextmanager
def refused_as(error: ConditionFailed) -> Iterator[None]:
    """Raise `error` when the write inside is refused by its condition (anything else propagates)."""
    try:
        yield
    except ClientError as exc:
        if condition_failed(exc):
            raise error from None
        raise

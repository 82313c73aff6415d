"""`itertools.batched` (Python 3.12) for the 3.11 the project still supports (`requires-python`)."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TypeVar

T = TypeVar("T")

if sys.version_info >= (3, 12):
    from itertools import batched
else:

    def batched(iterable: Iterable[T], n: int) -> Iterator[tuple[T, ...]]:
        """Tuples of `n` items (the last one shorter), as `itertools.batched` gives them."""
        if n < 1:
            raise ValueError("n must be at least one")
        it = iter(iterable)
        while chunk := tuple(islice(it, n)):
            yield chunk


__all__ = ["batched"]

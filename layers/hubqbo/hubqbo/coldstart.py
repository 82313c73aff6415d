"""A function's modules load with the cycle collector paused, and are frozen once loaded.

Importing a function builds some 10^5 objects that live as long as the process (modules, classes, pydantic
schemas, the resolver's routes). The cyclic collector, counting allocations, walks all of them again in
every full collection it starts while they load, 35-65 ms of each function's import on the 2-core bench
machine (`test_function_import_time`, docs/pipeline.md), for no garbage: modules are not freed.
`gc.freeze()` then moves them to the permanent generation, so that no later collection (a warm
invocation's) walks them either (https://docs.python.org/3/library/gc.html#gc.freeze). Collections of
what an invocation allocates work as before.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def loading() -> Iterator[None]:
    """Pause the cycle collector around a handler module's imports; freeze what they built, then resume."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
        gc.freeze()
    finally:
        if was_enabled:
            gc.enable()

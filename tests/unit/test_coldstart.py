"""The collector pause around a function's import: resumed afterwards whatever happens, never turned on
by us when it was off."""

import gc

import pytest

from hubqbo.coldstart import loading


@pytest.fixture(autouse=True)
def collector_as_found():
    was = gc.isenabled()
    yield
    gc.unfreeze()  # the test session's objects go back to the collector
    if was:
        gc.enable()
    else:
        gc.disable()


def test_the_collector_is_paused_inside_and_runs_again_after_with_the_import_frozen():
    gc.enable()
    with loading():
        assert not gc.isenabled()
        built = [[n] for n in range(1000)]
    assert gc.isenabled()
    assert gc.get_freeze_count() >= len(built)


def test_a_failing_import_still_resumes_the_collector():
    gc.enable()
    with pytest.raises(ImportError), loading():
        raise ImportError("a module of the function is missing")
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off():
    gc.disable()
    with loading():
        pass
    assert not gc.isenabled()

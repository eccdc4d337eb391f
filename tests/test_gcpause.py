"""flashcards.gcpause: one pause of the cyclic collector shared by every builder and thread."""

from __future__ import annotations

import gc

from flashcards.gcpause import paused


def test_a_collector_that_was_off_stays_off():
    """The app keeps the collector off until its first frame: a worker's pause must not turn it on."""
    gc.disable()
    try:
        with paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_nested_pauses_end_with_the_outermost_and_freeze_what_lives():
    frozen = gc.get_freeze_count()
    with paused():
        with paused():
            kept = [[i] for i in range(2000)]
        assert not gc.isenabled()
    assert gc.isenabled() and gc.get_freeze_count() >= frozen + 2000
    assert len(kept) == 2000

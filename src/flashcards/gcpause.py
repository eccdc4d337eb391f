"""Pausing Python's cyclic garbage collector while big, cycle-free structures are built.

An import's draft, an export's rows or 100,000 list rows are hundreds of thousands of small live
objects without cycles: every automatic collection meanwhile would walk them all again (a third of
the time of a big CSV parse), and one pass over them after the pause still costs 100-230 ms. A pass
also runs in whichever thread allocates, holding the GIL: the app's window waited that long.

:func:`paused` therefore turns the collector off for the whole process while any thread is in a
pause, and when the last one ends, moves what is alive then out of the collector's sight
(``gc.freeze``) instead of walking it: reference counting still frees those objects when they are
dropped. (Cyclic garbage made during a pause is not collected; none is made by these builders.)
"""

from __future__ import annotations

import gc
import threading
from contextlib import contextmanager

_lock = threading.Lock()
_pausers = 0
_was_enabled = False


@contextmanager
def paused():
    """The cyclic collector off while the block runs (nested and concurrent pauses count: it comes
    back, as it was before the first one, when the last ends)."""
    global _pausers, _was_enabled
    with _lock:
        if _pausers == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pausers += 1
    try:
        yield
    finally:
        with _lock:
            _pausers -= 1
            if _pausers == 0 and _was_enabled:
                gc.freeze()
                gc.enable()

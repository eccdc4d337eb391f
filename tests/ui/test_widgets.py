"""Small UI helpers: interval labels, the fast row lookup of the browser's list."""

from __future__ import annotations

import random

from kivy.uix.recycleboxlayout import RecycleBoxLayout

from flashcards.ui.widgets import FastRecycleBoxLayout, fmt_interval


def test_interval_labels():
    assert [fmt_interval(s) for s in (0, 59, 60, 600, 3600 * 3, 86400, 86400 * 4, 86400 * 45, 86400 * 400)] == [
        "<1m", "<1m", "1m", "10m", "3h", "1d", "4d", "1.5mo", "1.1y"]


def test_fast_row_lookup_matches_kivys_linear_scan():
    rng = random.Random(7)
    for orientation in ("vertical", "horizontal"):
        for n in (1, 2, 3, 50, 1000):
            positions = sorted(rng.sample(range(0, n * 100), n))
            slow, fast = RecycleBoxLayout(orientation=orientation), FastRecycleBoxLayout(orientation=orientation)
            slow._rv_positions = fast._rv_positions = positions
            probes = [positions[0], positions[-1], positions[-1] + 5, *(rng.uniform(positions[0], positions[-1] + 10)
                                                                         for _ in range(200)),
                      *(p for p in positions)]
            for v in probes:
                assert fast.get_view_index_at((v, v)) == slow.get_view_index_at((v, v)), (orientation, n, v)

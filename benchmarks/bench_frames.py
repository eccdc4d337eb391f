"""Frame times of the desktop app with 100,000 cards: does long work ever freeze the window?

The issue's target: no frame longer than 50 ms while studying, browsing or importing. Each scenario
runs in a fresh process with a real Kivy window (offscreen, SDL + Mesa, 1280x800, as the tests),
on a copy of a 100,000-card collection (built once through the core's own TSV import, cached under
the temp dir), and records the wall time of every turn of Kivy's event loop (``EventLoop.idle()``:
clock, input, layout, drawing, and the frame-rate cap's sleep) while the scenario runs:

* ``bare``:   a bare Kivy window (one Label) redrawn every frame: the floor of this machine's
  software GL and of Kivy's 60 fps cap, measured the same way;
* ``study``:  study 50 cards by keyboard (Space reveals, ``3`` answers, ~100 ms between keys);
* ``browse_open``: open Browse, which lists all 100,000 cards (search on a worker thread);
* ``browse_scroll``: scroll the list through 2,000 rows at a fling speed (default 8,000 px/s, the
  position follows the clock, so a slow frame jumps further as a real fling would);
* ``search``: a text search over the 100,000 cards (10,000 hits), then back to all of them;
* ``import``: import a 20,000-note TSV through the import screen (plan, then apply on its worker).

Prints ONE JSON line on stdout (per scenario: max, p99, p95, median frame ms, frames over 50 ms,
frames, the scenario's wall time; with ``--runs`` > 1 each run's figures and the spread); progress
on stderr. Usage: ``python benchmarks/bench_frames.py [--runs 2] [--scenarios study,browse_scroll]``.
The import scenario also reports its two phases (opening the screen and planning; writing).
Each scenario reports ``gl_backlog_ms``: what the GL driver still had to draw when it ended (about
0 when every frame is finished before the flip; see ``gl_backlog_ms``).
Diagnosis: ``BENCH_FRAMES_SLOW=FILE`` profiles every recorded frame (cProfile, main thread) and
writes the profiles and the garbage collector's passes of the frames over 50 ms (or
``BENCH_FRAMES_SLOW_MS``) to FILE; the profiler slows every frame, so figures go without it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ("bare", "study", "browse_open", "browse_scroll", "search", "import")
LIMIT_MS = 50.0
WORDS = ["память", "слово", "книга", "вода", "город", "друг", "время", "рука", "дело", "жизнь"]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    if not s:
        return 0.0
    return s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))]


def write_tsv(path: Path, n: int, start: int = 0, deck: str = "Bench") -> None:
    """Notes like bench_core's: HTML, Cyrillic, an emoji, tags (word ``город`` in a tenth of them)."""
    with path.open("w", encoding="utf-8") as f:
        f.write(f"#separator:tab\n#html:true\n#deck:{deck}\n#tags column:3\n")
        for i in range(start, start + n):
            w = WORDS[i % len(WORDS)]
            f.write(f"<b>{w}</b> {i} — что это? 🙂\tответ {i}: {w[::-1]}\ttag{i % 50} bench::level{i % 7}\n")


# ------------------------------------------------------------------------------------------ parent


def build_template(cards: int) -> Path:
    """A data dir with ``cards`` notes in deck Bench (new cards/day raised so 50 can be studied).

    Cached per schema version: a collection of an older schema is migrated when a scenario opens
    it (index builds over 100,000 cards) and leaves a WAL of ~900 pages whose checkpoint then lands
    in a measured frame, a cost a user pays once per upgrade, not per run."""
    sys.path.insert(0, str(ROOT / "src"))
    from flashcards import importing
    from flashcards.collection import Collection
    from flashcards.db import SCHEMA_VERSION

    target = Path(tempfile.gettempdir()) / f"flashcards-bench-frames-{cards}-schema{SCHEMA_VERSION}"
    if (target / ".complete").exists():
        return target

    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    log(f"building a {cards:,}-card collection in {target} ...")
    tsv = Path(tempfile.mkdtemp()) / "cards.tsv"
    write_tsv(tsv, cards)
    col = Collection.open(target / "data")
    try:
        importing.import_file(col, tsv, backup=False)
        did = col.deck_id("Bench")
        opts = col.deck_options(did)
        opts.new_per_day = 1000
        col.set_deck_options(did, opts)
    finally:
        col.close()
    shutil.rmtree(tsv.parent)
    write_tsv(target / "import-20k.tsv", 20_000, start=10_000_000, deck="Imported")
    (target / ".complete").write_text("ok")
    return target


def run_child(scenario: str, template: Path, args) -> dict:
    work = Path(tempfile.mkdtemp(prefix="flashcards-bench-frames-"))
    try:
        if scenario != "bare":
            shutil.copytree(template / "data", work / "data")
        env = dict(os.environ)
        env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
        cmd = [sys.executable, __file__, "--child", scenario, "--data", str(work / "data"),
               "--import-file", str(template / "import-20k.tsv"), "--scroll-rows", str(args.scroll_rows),
               "--fling", str(args.fling), "--study-cards", str(args.study_cards)]
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
        if out.returncode != 0 or not out.stdout.strip():
            raise SystemExit(f"{scenario} child failed ({out.returncode}):\n{out.stderr[-4000:]}")
        return json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(work, ignore_errors=True)


def summarise(frames_ms: list[float]) -> dict:
    return {"max": round(max(frames_ms), 1), "p99": round(pct(frames_ms, 0.99), 1),
            "p95": round(pct(frames_ms, 0.95), 1), "median": round(statistics.median(frames_ms), 1),
            "over_50ms": sum(1 for f in frames_ms if f > LIMIT_MS), "frames": len(frames_ms)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--cards", type=int, default=100_000)
    ap.add_argument("--scenarios", default=",".join(SCENARIOS))
    ap.add_argument("--scroll-rows", type=int, default=2000)
    ap.add_argument("--fling", type=float, default=8000.0, help="scroll speed, px per second")
    ap.add_argument("--study-cards", type=int, default=50)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    ap.add_argument("--import-file", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args)
    scenarios = [s for s in args.scenarios.split(",") if s]
    unknown = set(scenarios) - set(SCENARIOS)
    if unknown:
        raise SystemExit(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    template = build_template(args.cards)
    load = os.getloadavg()
    results: dict[str, dict] = {}
    for scenario in scenarios:
        runs = []
        for i in range(args.runs):
            r = run_child(scenario, template, args)
            s = summarise(r["frames_ms"])
            s["wall_s"] = round(r["wall_s"], 2)
            s.update(r.get("extra", {}))
            runs.append(s)
            log(f"{scenario} run {i + 1}/{args.runs}: max {s['max']} ms, p99 {s['p99']}, p95 {s['p95']}, "
                f"median {s['median']}, over 50 ms {s['over_50ms']}/{s['frames']}, {s['wall_s']} s")
        out = {k: statistics.median(r[k] for r in runs) for k in ("max", "p99", "p95", "median", "over_50ms")}
        out["runs"] = runs
        results[scenario] = out
    print(json.dumps({"benchmark": "frames", "cards": args.cards, "limit_ms": LIMIT_MS, "runs": args.runs,
                      "loadavg_before": [round(x, 2) for x in load],
                      "loadavg_after": [round(x, 2) for x in os.getloadavg()], "scenarios": results},
                     ensure_ascii=False))
    return 0


# ------------------------------------------------------------------------------------------ child


def child(args) -> int:
    os.environ["KIVY_NO_ARGS"] = "1"
    os.environ["KIVY_NO_CONSOLELOG"] = "1"
    os.environ["KIVY_NO_FILELOG"] = "1"
    os.environ["KIVY_USE_DEFAULTCONFIG"] = "1"
    os.environ["KIVY_HOME"] = tempfile.mkdtemp(prefix="kivy-bench-")
    os.environ.setdefault("KIVY_METRICS_DENSITY", "1")
    os.environ.setdefault("KIVY_DPI", "96")
    if args.child == "bare":
        frames, wall, extra = child_bare()
    else:
        frames, wall, extra = child_app(args)
    print(json.dumps({"frames_ms": [round(f * 1000, 2) for f in frames], "wall_s": wall, "extra": extra}))
    return 0


class Loop:
    """Turns Kivy's event loop by hand (as ``runTouchApp`` does) and times every turn."""

    def __init__(self):
        from kivy.base import EventLoop

        self.loop = EventLoop
        self.frames: list[float] = []
        self.recording = False
        self._last: float | None = None
        # BENCH_FRAMES_SLOW=FILE: each recorded frame runs under its own cProfile; the profiles of
        # frames over the limit (or BENCH_FRAMES_SLOW_MS) are written to FILE, with the garbage
        # collector's passes in them (a diagnosis: the profiler slows every frame).
        self.slow_out = os.environ.get("BENCH_FRAMES_SLOW")
        self.slow_ms = float(os.environ.get("BENCH_FRAMES_SLOW_MS") or LIMIT_MS)  # which frames to keep
        self._prof = None
        self.slow: list[tuple[int, float, object, list]] = []
        self._gc_events: list[tuple[int, float]] = []  # (generation, seconds) in the current frame
        if self.slow_out:
            import gc

            started = {}

            def on_gc(phase, info):
                if phase == "start":
                    started["t"] = time.perf_counter()
                elif "t" in started:
                    self._gc_events.append((info["generation"], time.perf_counter() - started.pop("t")))

            gc.callbacks.append(on_gc)

    def turn(self) -> None:
        # A frame is the time from one turn's start to the next one's: what the scenario does between
        # turns (a key press and the work it starts) belongs to the frame it delays.
        if self._prof is not None:
            self._prof.disable()
        t = time.perf_counter()
        if self.recording and self._last is not None:
            self.frames.append(t - self._last)
            if self._prof is not None and self.frames[-1] * 1000 > self.slow_ms:
                self.slow.append((len(self.frames) - 1, self.frames[-1], self._prof, self._gc_events))
        self._last = t if self.recording else None
        self._prof = None
        self._gc_events = []
        if self.recording and self.slow_out:
            import cProfile

            self._prof = cProfile.Profile()
            self._prof.enable()
        self.loop.idle()

    def start(self) -> float:
        """Start recording: a frame starts now, so the scenario's first action counts in it."""
        self.recording = True
        self._last = time.perf_counter()
        if self.slow_out:
            import cProfile

            self._prof = cProfile.Profile()
            self._prof.enable()
        return self._last

    def write_slow(self) -> None:
        """The slow frames' profiles as text (top functions by own and by cumulative time)."""
        if self._prof is not None:
            self._prof.disable()
            self._prof = None
        if not self.slow_out:
            return
        import gc
        import io
        import pstats

        with open(self.slow_out, "w") as out:
            out.write(f"objects tracked per generation at the end: {[len(gc.get_objects(g)) for g in range(3)]}, "
                      f"frozen {gc.get_freeze_count()}, thresholds {gc.get_threshold()}\n")
            for index, secs, prof, gcs in self.slow:
                buf = io.StringIO()
                st = pstats.Stats(prof, stream=buf)
                st.sort_stats("tottime").print_stats(12)
                st.sort_stats("cumulative").print_stats(25)
                gc_text = ", ".join(f"gen{g} {d * 1000:.1f} ms" for g, d in gcs) or "none"
                out.write(f"===== frame {index}: {secs * 1000:.1f} ms; gc: {gc_text}\n{buf.getvalue()}\n")

    def until(self, predicate, timeout: float = 120.0) -> None:
        end = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > end:
                raise SystemExit("timed out waiting for the app")
            self.turn()

    def turns(self, n: int) -> None:
        for _ in range(n):
            self.turn()


def child_bare():
    from kivy.config import Config

    Config.set("graphics", "width", "1280")
    Config.set("graphics", "height", "800")
    from kivy.base import EventLoop
    from kivy.core.window import Window
    from kivy.uix.label import Label

    root = Label(text="hello")
    Window.add_widget(root)
    EventLoop.start()
    loop = Loop()
    loop.turns(30)
    t0 = loop.start()
    for i in range(300):
        root.text = "hello" if i % 2 else "hello."  # a new texture and a full redraw every frame
        loop.turn()
    wall = time.perf_counter() - t0
    return loop.frames, wall, {"gl_backlog_ms": gl_backlog_ms()}


def gl_backlog_ms() -> float:
    """How long the GL driver still needs for frames already handed in (``glFinish``), in ms.

    Frame times only count what the driver did before returning: Mesa's llvmpipe behind an
    offscreen window queued frames it had not drawn (one frame then paid for ~930 of them, 8-46 s).
    The app finishes every frame under a software renderer (``widgets.finish_every_frame``), so this
    is about 0; a large figure means the frame times above leave work out.
    """
    from kivy.graphics.opengl import glFinish

    start = time.perf_counter()
    glFinish()
    return round((time.perf_counter() - start) * 1000, 1)


def child_app(args):
    from flashcards.ui.app import configure_kivy

    configure_kivy((1280, 800))
    from kivy.base import EventLoop
    from kivy.core.window import Window

    from flashcards.collection import Collection
    from flashcards.ui.app import FlashcardsApp

    col = Collection.open(Path(args.data))
    app = FlashcardsApp(col)
    app._run_prepare()
    EventLoop.start()
    app.dispatch("on_start")
    loop = Loop()
    warm_end = time.monotonic() + 1.5  # first screen, then the study screen's warm-up steps
    loop.until(lambda: time.monotonic() > warm_end)

    def key(k: int, text: str | None = None) -> None:
        Window.dispatch("on_key_down", k, 0, text, [])
        if text is not None:
            Window.dispatch("on_textinput", text)
        Window.dispatch("on_key_up", k, 0)

    extra: dict = {}
    scenario = args.child
    browse = None
    if scenario in ("browse_scroll", "search"):
        app.show("browse")
        browse = app.root.get_screen("browse")
        loop.until(lambda: browse.wait_idle() and browse.ids.rv.children and browse.ids.rv.children[0].children)
        loop.turns(30)
    profiler = None
    if os.environ.get("BENCH_FRAMES_PROFILE"):  # a cProfile of the recorded part, to this file
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    t0 = loop.start()
    if scenario == "study":
        key(ord("s"), "s")
        loop.turns(6)
        study = app.root.get_screen("study")
        answered = 0
        while answered < args.study_cards:
            if study.card is None:
                raise SystemExit(f"the queue ran out after {answered} cards")
            key(32, " ")
            loop.turns(6)
            key(ord("3"), "3")
            loop.turns(6)
            answered += 1
        extra["answered"] = answered
    elif scenario == "browse_open":
        app.show("browse")
        browse = app.root.get_screen("browse")
        loop.until(lambda: browse.wait_idle() and browse.ids.rv.children and browse.ids.rv.children[0].children)
        loop.turns(10)
        extra["rows"] = len(browse.rows)
    elif scenario == "browse_scroll":
        rv = browse.ids.rv
        n = len(browse.rows)
        row_h = rv.layout_manager.default_size[1]
        span = n * row_h - rv.height
        distance = args.scroll_rows * row_h
        start = time.perf_counter()
        moved = 0.0
        while moved < distance:
            moved = min(distance, (time.perf_counter() - start) * args.fling)
            rv.scroll_y = 1 - moved / span
            loop.turn()
        loop.turns(10)
        extra.update(rows_scrolled=args.scroll_rows, fling_px_s=args.fling, rows=n)
    elif scenario == "search":
        box = browse.ids.search
        timings = []
        for text in ("город", ""):
            s = time.perf_counter()
            box.text = text
            browse.search()
            loop.until(browse.wait_idle)
            loop.turns(3)
            timings.append(round(time.perf_counter() - s, 2))
            extra[f"hits_{text or 'all'}"] = len(browse.rows)
        extra["search_s"] = timings
    elif scenario == "import":
        screen_ = app.screen("import")
        app.show("import", path=args.import_file)
        s = time.perf_counter()
        loop.until(lambda: screen_.stage in ("planned", "error"))
        extra["plan_s"] = round(time.perf_counter() - s, 2)
        if screen_.stage == "error":
            raise SystemExit(f"import failed: {screen_.error_text}")
        planned_at = len(loop.frames)
        s = time.perf_counter()
        screen_.start_import()
        loop.until(lambda: screen_.stage in ("done", "error"))
        extra["apply_s"] = round(time.perf_counter() - s, 2)
        if screen_.stage == "error":
            raise SystemExit(f"import failed: {screen_.error_text}")
        loop.turns(10)
        # The same figures for each phase: opening the screen and planning (the first frames
        # build the screen and list a folder), then writing.
        extra["phase_open_and_plan"] = summarise([f * 1000 for f in loop.frames[:planned_at]])
        extra["phase_apply"] = summarise([f * 1000 for f in loop.frames[planned_at:]])
    wall = time.perf_counter() - t0
    extra["gl_backlog_ms"] = gl_backlog_ms()
    loop.recording = False
    loop.write_slow()
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(os.environ["BENCH_FRAMES_PROFILE"])
    app.dispatch("on_stop")
    col.close()
    return loop.frames, wall, extra


if __name__ == "__main__":
    raise SystemExit(main())

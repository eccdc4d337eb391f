"""``python -m flashcards.import_job``: the import as a child process (the desktop app's way)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from flashcards.collection import Collection

SRC = Path(__file__).resolve().parents[1] / "src"


def start(data: Path, path: Path) -> subprocess.Popen:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.Popen([sys.executable, "-m", "flashcards.import_job", str(data), str(path)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)


def messages(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def tsv(tmp_path: Path, rows: int) -> Path:
    p = tmp_path / "words.tsv"
    p.write_text("#separator:tab\n#deck:Words\n" + "".join(f"word {i}\tmeaning {i}\n" for i in range(rows)),
                 encoding="utf-8")
    return p


def notes(data: Path) -> int:
    with Collection.open(data) as col:
        return col._sql("SELECT COUNT(*) FROM note").fetchone()[0]


def test_plan_then_apply_with_progress(tmp_path):
    data = tmp_path / "data"
    Collection.open(data).close()
    job = start(data, tsv(tmp_path, 300))
    first = json.loads(job.stdout.readline())
    assert first["planned"]["new"] == 300 and first["planned"]["decks"] == ["Words"]
    assert notes(data) == 0  # planned only
    out, err = job.communicate("apply\n", timeout=60)
    assert job.returncode == 0, err
    rest = messages(out)
    assert rest[-1]["done"].endswith("words.tsv: 300 new, 0 updated, 0 unchanged, 0 skipped")
    assert rest[-1]["path"].endswith("words.tsv")
    assert rest[-2]["progress"][0] == rest[-2]["progress"][1]
    assert "kivy" not in err.lower()
    assert notes(data) == 300
    assert len(list((data / "backups").glob("*.db"))) == 1  # a backup before the import


def test_anything_but_apply_cancels_and_writes_nothing(tmp_path):
    data = tmp_path / "data"
    Collection.open(data).close()
    job = start(data, tsv(tmp_path, 5))
    out, err = job.communicate("no\n", timeout=60)
    assert job.returncode == 0, err
    assert [list(m) for m in messages(out)] == [["planned"]]
    assert notes(data) == 0 and not (data / "backups").exists()


def test_a_bad_file_is_an_error_in_words(tmp_path):
    data = tmp_path / "data"
    bad = tmp_path / "bad.apkg"
    bad.write_bytes(b"not a zip")
    out, err = start(data, bad).communicate("", timeout=60)
    [msg] = messages(out)
    assert "bad.apkg" in msg["error"] and "Traceback" not in err
    assert notes(data) == 0


def test_usage(tmp_path):
    from flashcards import import_job

    assert import_job.main(["only-one"]) == 2


def test_done_comes_after_the_job_has_closed_its_collection(tmp_path):
    # Closing checkpoints the write-ahead log (the disk work after a big import): the window is
    # told "done" only once that is over, so it does not redraw while the job still runs.
    data = tmp_path / "data"
    Collection.open(data).close()
    job = start(data, tsv(tmp_path, 2000))
    assert "planned" in json.loads(job.stdout.readline())
    job.stdin.write("apply\n")
    job.stdin.flush()
    wal = data / "collection.db-wal"
    for line in job.stdout:
        msg = json.loads(line)
        if "progress" in msg:
            continue
        assert "done" in msg, msg
        assert not wal.exists() or wal.stat().st_size == 0  # checkpointed and closed already
        break
    job.communicate(timeout=60)
    assert job.returncode == 0 and notes(data) == 2000

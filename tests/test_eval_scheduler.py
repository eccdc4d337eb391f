"""The scheduler benchmark's metrics and models against small hand-computed cases
(``flashcards.optimizer``'s metric functions and ``benchmarks/eval_scheduler.py``)."""

from __future__ import annotations

import importlib.util
import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flashcards import optimizer

ROOT = Path(__file__).resolve().parent.parent
START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("eval_scheduler", ROOT / "benchmarks" / "eval_scheduler.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------------ metrics


def test_log_loss_hand_case():
    assert optimizer.log_loss([0.9, 0.2], [1, 0]) == pytest.approx(-(math.log(0.9) + math.log(0.8)) / 2, rel=1e-15)
    assert optimizer.log_loss([1.0], [0]) == -math.log(1 - (1 - 1e-15))  # clipped, not infinite
    with pytest.raises(ValueError):
        optimizer.log_loss([], [])


def test_auc_hand_cases():
    assert optimizer.auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == 0.75
    assert optimizer.auc([0.2, 0.9], [0, 1]) == 1.0
    assert optimizer.auc([0.9, 0.2], [0, 1]) == 0.0
    assert optimizer.auc([0.5, 0.5, 0.5], [0, 1, 1]) == 0.5  # ties count half
    # one tie across labels: pairs (neg 0.3 vs pos 0.3) = 0.5, (neg 0.3 vs pos 0.7) = 1 -> 0.75
    assert optimizer.auc([0.3, 0.3, 0.7], [0, 1, 1]) == 0.75
    assert math.isnan(optimizer.auc([0.4, 0.6], [1, 1]))


def test_rmse_bin_hand_cases():
    assert optimizer.rmse_bin(1, 1, 0) == (2.48, 2, 0)
    assert optimizer.rmse_bin(3, 1, 0) == (2.48, 2, 0)      # ln 3 / ln 3.62 < 1
    assert optimizer.rmse_bin(4, 2, 1) == (8.98, 4, 2)      # 2.48*3.62 = 8.9776; 1.99*1.89 = 3.76; 1.65
    assert optimizer.rmse_bin(14, 4, 2) == (32.5, 7, 3)     # 2.48*3.62^2 = 32.499; 1.99*1.89^2 = 7.11; 2.85
    with pytest.raises(ValueError):
        optimizer.rmse_bin(0, 1, 0)


def test_rmse_bins_hand_case():
    # bin a: p 0.9, 0.7 vs y 1, 1 -> (0.8 - 1)^2 * 2 = 0.08; bin b: p 0.5 vs y 0 -> 0.25
    value = optimizer.rmse_bins(["a", "a", "b"], [0.9, 0.7, 0.5], [1, 1, 0])
    assert value == pytest.approx(math.sqrt((0.08 + 0.25) / 3), rel=1e-12)


def test_evaluate_predictions_uses_bins_of_each_row():
    reviews = [(1, START, 3), (1, START + 2 * DAY, 1), (1, START + 3 * DAY, 3), (2, START, 3), (2, START + DAY, 3)]
    preds = optimizer.predict(reviews, optimizer.DEFAULT_PARAMETERS)
    ev = optimizer.evaluate_predictions(preds, [0.5, 0.5, 0.5])
    assert ev.n == 3
    assert ev.log_loss == pytest.approx(math.log(2))
    # bins: card 1's Again after 2 d (2.48, i=2 -> 4, L=0) and card 2's Good after 1 d (2.48, 4, 0) share
    # a bin (mean p 0.5 = mean y 0.5); card 1's Good after 1 d (2.48, i=3 -> 4, L=1 -> 2) has its own
    assert [optimizer.rmse_bin(p.elapsed_days, p.review_number, p.lapses) for p in preds] == [
        (2.48, 4, 0), (2.48, 4, 2), (2.48, 4, 0)]
    assert ev.rmse_bins == pytest.approx(math.sqrt((2 * 0.0 + 0.25) / 3))
    assert ev.to_dict() == {"LogLoss": 0.6931, "RMSE(bins)": 0.2887, "AUC": 0.5, "n": 3}


# ------------------------------------------------------------------ the benchmark's parts


def test_fold_bounds(bench):
    assert bench.fold_bounds(20) == [(3, 6), (6, 9), (9, 12), (12, 15), (15, 20)]
    with pytest.raises(SystemExit):
        bench.fold_bounds(5)


def test_sm2_hand_case(bench):
    h3 = timedelta(hours=3)
    t = [START, START + timedelta(hours=2), START + DAY + h3, START + 7 * DAY + h3, START + 25 * DAY + h3,
         START + 26 * DAY + h3, START + 27 * DAY + h3]
    ratings = [3, 3, 3, 3, 1, 3, 3]
    history = {"c": list(zip(t, ratings, strict=True))}
    p = bench.sm2_predictions(history)
    # review 1: same day -> ignored (and review 2 counts whole days from it: 1 day 1 hour);
    # review 2: interval 1, elapsed 1; review 3: interval 6, elapsed 6; review 4: interval 6 * 2.5 = 15
    # (EF stays 2.5 on q=4), elapsed 18; review 5 (after the Again: interval 1); review 6: the success
    # after the Again got 6 days, elapsed 1
    assert ("c", 0) not in p and ("c", 1) not in p
    assert p[("c", 2)] == pytest.approx(0.9)
    assert p[("c", 3)] == pytest.approx(0.9)
    assert p[("c", 4)] == pytest.approx(0.9 ** (18 / 15))
    assert p[("c", 5)] == pytest.approx(0.9)
    assert p[("c", 6)] == pytest.approx(0.9 ** (1 / 6))


def test_sm2_ef_falls_after_lapses(bench):
    # Again (q=0): EF 2.5 - 0.8 = 1.7; Again: 0.9, floored at 1.3; then Good: 6 days, then 6 * 1.3 = 7.8,
    # then 7.8 * 1.3 = 10.14
    days = [0, 1, 2, 3, 9, 17]
    ratings = [1, 1, 3, 3, 3, 3]
    history = {"c": [(START + d * DAY, r) for d, r in zip(days, ratings, strict=True)]}
    p = bench.sm2_predictions(history)
    assert p[("c", 1)] == pytest.approx(0.9)
    assert p[("c", 2)] == pytest.approx(0.9)
    assert p[("c", 3)] == pytest.approx(0.9 ** (1 / 6))
    assert p[("c", 4)] == pytest.approx(0.9 ** (6 / 7.8))
    assert p[("c", 5)] == pytest.approx(0.9 ** (8 / 10.14))


def test_read_revlog_and_bad_rows(bench, tmp_path):
    good = tmp_path / "r.csv"
    good.write_text("card_id,review_rating,review_time,review_duration\n"
                    "7,3,2024-03-29T20:32:32.250000+00:00,25060\n", encoding="utf-8")
    assert bench.read_revlog(good) == [("7", datetime(2024, 3, 29, 20, 32, 32, 250000, tzinfo=UTC), 3)]
    bad = tmp_path / "bad.csv"
    bad.write_text("card_id,review_rating,review_time\n7,3,2024-03-29T20:32:32\n", encoding="utf-8")
    with pytest.raises(SystemExit, match=r"bad.csv:2: naive time"):
        bench.read_revlog(bad)
    missing = tmp_path / "m.csv"
    missing.write_text("card_id,rating\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="missing column"):
        bench.read_revlog(missing)


def test_run_on_a_synthetic_log_prints_one_json_line(bench, tmp_path, capsys):
    from test_optimizer import TRUE, synthetic_history

    rows = synthetic_history(TRUE, 300, seed=12)
    path = tmp_path / "log.csv"
    lines = ["card_id,review_rating,review_time,review_duration"]
    lines += [f"{c},{r},{t.isoformat()},1000" for c, t, r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert bench.main([str(path)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    result = json.loads(out[0])
    assert result["n_reviews"] == 2400 and result["n_cards"] == 300
    k = result["n_scored"] // 6
    assert result["n_evaluated"] == result["n_scored"] - k
    for model in ("FSRS-6 fitted", "FSRS-6 defaults", "SM-2"):
        assert set(result[model]) == {"LogLoss", "RMSE(bins)", "AUC", "n"}
        assert result[model]["n"] == result["n_evaluated"]
    # the learner follows FSRS with TRUE parameters: the per-fold fits beat the defaults, FSRS beats SM-2
    assert result["FSRS-6 fitted"]["LogLoss"] < result["FSRS-6 defaults"]["LogLoss"] < result["SM-2"]["LogLoss"]
    assert len(result["fitted_parameters_all"]) == 21

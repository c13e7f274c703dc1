"""The final model's verdict against chance: thresholds, metrics.json, the CLI's exit code."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from searchcore.cli.app import main
from searchcore.training.final import FinalConfig, FinalResult, _load_data, train_final
from searchcore.training.verdict import (
    at_chance_message,
    chance_level,
    chance_verdict,
    suggested_budget_seconds,
    validation_verdict,
)

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "cifar10_tiny_png.zip"
NB201_ARCH = {"space": "nb201", "edges": ["nor_conv_3x3", "nor_conv_3x3", "skip_connect",
                                          "avg_pool_3x3", "nor_conv_1x1", "nor_conv_3x3"]}
BALANCED = list(range(10)) * 100  # 1000 validation images of 10 classes


def test_chance_is_uniform_or_the_majority_share() -> None:
    assert chance_level(BALANCED, 10) == pytest.approx(0.1)
    assert chance_level([0] * 70 + [1] * 30, 2) == pytest.approx(0.7)
    assert chance_level([0, 1, 2, 3] * 5, 5) == pytest.approx(0.25)  # a class missing from the split
    assert chance_level([], 5) == pytest.approx(0.2)


def test_a_large_balanced_split_needs_five_points_above_chance() -> None:
    # se = sqrt(0.1 * 0.9 / 1000) = 0.0095: two of them are less than the 5-point floor
    verdict = chance_verdict(0.149, BALANCED, 10)
    assert verdict["threshold"] == pytest.approx(0.15)
    assert verdict["above_chance"] is False and verdict["valid_images"] == 1000
    assert chance_verdict(0.15, BALANCED, 10)["above_chance"] is True
    assert chance_verdict(0.15, BALANCED, 10)["reason"] is None


def test_a_small_split_needs_two_standard_errors() -> None:
    labels = list(range(10)) * 10  # 100 images: se = 0.03, two of them 0.06
    assert chance_verdict(0.155, labels, 10)["threshold"] == pytest.approx(0.16)
    assert chance_verdict(0.155, labels, 10)["above_chance"] is False
    assert chance_verdict(0.17, labels, 10)["above_chance"] is True
    majority = [0] * 70 + [1] * 30  # chance 0.7, se 0.0458
    assert chance_verdict(0.78, majority, 2)["above_chance"] is False
    assert chance_verdict(0.80, majority, 2)["above_chance"] is True


def test_a_very_imbalanced_split_caps_the_threshold_midway_to_one() -> None:
    labels = [0] * 97 + [1] * 3  # chance 0.97: 0.97 + 0.05 would be out of reach
    assert chance_verdict(0.99, labels, 2)["threshold"] == pytest.approx(0.985)
    assert chance_verdict(0.99, labels, 2)["above_chance"] is True
    assert chance_verdict(0.98, labels, 2)["above_chance"] is False


def test_the_reason_and_the_message_name_accuracy_chance_and_a_budget() -> None:
    verdict = chance_verdict(0.12, BALANCED, 10)
    assert verdict["reason"] == "The final model is at chance level on validation (12.0 % vs chance 10.0 %)"
    assert at_chance_message(verdict, 210.0) == (
        "The final model is at chance level on validation (12.0 % vs chance 10.0 %): the search learned "
        "nothing useful. Try a budget of at least 10 minutes.")


@pytest.mark.parametrize(("total", "suggested"), [(0, 600), (210, 600), (300, 600), (301, 660),
                                                  (400, 840), (600, 1200), (3600, 7200)])
def test_the_suggested_budget_doubles_the_run_in_whole_minutes_at_least_ten(total: float,
                                                                           suggested: int) -> None:
    assert suggested_budget_seconds(total) == suggested


def test_validation_verdict_reads_the_loaded_split() -> None:
    import torch

    data = SimpleNamespace(valid=SimpleNamespace(labels=torch.tensor(BALANCED)),
                           task=lambda: SimpleNamespace(num_classes=10))
    assert validation_verdict(0.5, data) == chance_verdict(0.5, BALANCED, 10)
    assert validation_verdict(None, data) is None  # no validation accuracy: nothing to judge
    empty = SimpleNamespace(valid=SimpleNamespace(labels=torch.tensor([])), task=data.task)
    assert validation_verdict(0.5, empty) is None


def test_train_final_records_the_verdict_in_metrics_json(tmp_path: Path) -> None:
    config = FinalConfig(arch=NB201_ARCH, data=str(FIXTURE), epochs=1, image_size=16, channels=4,
                         cells_per_stage=1, batch_size=16)
    result = train_final(config, tmp_path)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    labels = _load_data(config).valid.labels.tolist()
    assert metrics["verdict"] == chance_verdict(metrics["best_valid_accuracy"], labels, 10)
    assert result.metrics["verdict"] == metrics["verdict"]


def _fake_result(out: Path, accuracy: float) -> FinalResult:
    metrics = {"test_accuracy": accuracy, "verdict": chance_verdict(accuracy, BALANCED, 10)}
    return FinalResult(status="succeeded", out_dir=str(out), test_accuracy=accuracy,
                       best_valid_accuracy=accuracy, best_epoch=1, epochs_run=1, elapsed_seconds=120.0,
                       last_seq=3, metrics=metrics)


@pytest.mark.parametrize(("accuracy", "code"), [(0.11, 1), (0.6, 0)])
def test_cli_train_prints_the_verdict_and_fails_at_chance(tmp_path: Path, monkeypatch: Any, capsys: Any,
                                                          accuracy: float, code: int) -> None:
    monkeypatch.setattr("searchcore.training.final.train_final",
                        lambda config, out, sink=None: _fake_result(Path(out), accuracy))
    result_json = tmp_path / "result.json"
    result_json.write_text(json.dumps({"space": "nb201", "best": {"architecture": NB201_ARCH},
                                       "elapsed_seconds": 180.0, "config": {}}))
    argv = ["train", "--arch", str(result_json), "--data", str(FIXTURE), "--epochs", "1",
            "--out", str(tmp_path / "final")]
    assert main(argv) == code
    out = capsys.readouterr().out
    if code:  # 180 s of search + 120 s of training, doubled: 10 minutes
        assert "at chance level on validation (11.0 % vs chance 10.0 %)" in out
        assert "Try a budget of at least 10 minutes." in out and "training failed" in out
    else:
        assert "above chance" in out and "training succeeded" in out


def test_the_suggestion_is_the_planners_minimum_when_that_is_larger(tmp_path) -> None:
    import json

    from searchcore.planning.apply import PLAN_NAME, planned_minimum_seconds

    search, final = tmp_path / "search", tmp_path / "final"
    search.mkdir()
    final.mkdir()
    assert planned_minimum_seconds(search, final) is None  # nothing planned: the rule of thumb alone
    (search / PLAN_NAME).write_text(json.dumps({"minimum_budget_seconds": 700.0}))
    plan_event = {"seq": 1, "type": "plan", "time": 0.0, "payload": {
        "phase": "final", "message": "m", "meaningful": False, "epochs": 3.0, "minimum_budget_seconds": 500.0,
        "details": {}}}
    (final / "events.jsonl").write_text(json.dumps(plan_event) + "\n")
    assert planned_minimum_seconds(search, final) == 1200.0
    verdict = chance_verdict(0.12, BALANCED, 10)
    assert at_chance_message(verdict, 210.0, 1200.0).endswith("Try a budget of at least 20 minutes.")
    assert at_chance_message(verdict, 210.0, 30.0).endswith("at least 10 minutes.")  # the rule is larger

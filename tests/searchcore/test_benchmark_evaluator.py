"""The ``benchmark`` evaluator: NAS-Bench-201 table lookup on the committed full table."""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from searchcore.compat import combination_errors
from searchcore.config import SearchConfig
from searchcore.controllers import create_controller
from searchcore.evaluators import EvaluatorContext, create_evaluator, evaluator_schema
from searchcore.evaluators.benchmark import BenchmarkEvaluator, load_table
from searchcore.search import SearchSetupError, run_search
from searchcore.spaces import create_space
from searchcore.spaces.nb201 import NB201Arch

TABLE = Path(__file__).resolve().parents[1] / "fixtures" / "nb201_cifar10.csv"
BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|"
NONE = NB201Arch(("none",) * 6).arch_str


def _evaluator(data: object = TABLE, options: dict | None = None,
               **space_options: object) -> BenchmarkEvaluator:
    space = create_space("nb201", **space_options)
    context = EvaluatorContext(space=space, device=torch.device("cpu"), seed=0, data=str(data))
    return create_evaluator("benchmark", context=context, **(options or {}))


def _csv(path: Path, header: str, *rows: str) -> Path:
    path.write_text("\n".join((header, *rows)) + "\n")
    return path


def test_looks_up_the_best_cell_in_percent() -> None:
    evaluator = _evaluator()
    assert not evaluator.trains_weights
    assert evaluator.train_epoch(lambda: None).steps == 0
    assert evaluator.reward(NB201Arch.from_arch_str(BEST)) == pytest.approx(94.3733)
    assert max(load_table(TABLE).values()) == pytest.approx(94.3733)
    assert load_table(TABLE) is evaluator.table  # read once, cached by path
    worst = NB201Arch(("none",) * 6)
    assert evaluator.reward(worst) == pytest.approx(min(load_table(TABLE).values()))
    assert evaluator.reward(evaluator.context.space.arch_to_json(worst)) == evaluator.reward(worst)


def test_ops_subset_space_still_looks_up() -> None:
    evaluator = _evaluator(ops=("skip_connect", "nor_conv_3x3"))
    space = evaluator.context.space
    arch = space.from_decisions([1, 1, 1, 0, 1, 1])  # all 3x3 but a skip on 3<-0
    expected = load_table(TABLE)[arch.arch_str]
    assert evaluator.reward(arch) == expected and expected > 94.0


def test_counts_distinct_architectures_and_round_trips() -> None:
    evaluator = _evaluator()
    a, b = NB201Arch.from_arch_str(BEST), NB201Arch(("skip_connect",) * 6)
    for arch in (a, b, a, a):
        evaluator.reward(arch)
    assert evaluator.distinct_evaluated == 2
    other = _evaluator()
    other.load_state_dict(evaluator.state_dict())
    other.reward(a)
    assert other.distinct_evaluated == 2


def test_clear_errors(tmp_path: Path) -> None:
    # the space is judged from the declared ``spaces`` (the loop asks before building anything)
    assert BenchmarkEvaluator.spaces == frozenset({"nb201"})
    assert combination_errors("enas-micro", "benchmark") == {
        "evaluator": ["the benchmark evaluator works only with the nb201 space(s)"]}
    with pytest.raises(ValueError, match="does not exist"):
        _evaluator(tmp_path / "missing.csv")
    no_arch = _csv(tmp_path / "no_arch.csv", "cell,accuracy", f"{NONE},10.0")
    with pytest.raises(ValueError, match="needs a column 'arch'; its columns: 'cell', 'accuracy'"):
        _evaluator(no_arch)
    bad = tmp_path / "bad.csv"
    bad.write_text("arch,cifar10_test_acc_200ep\n|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,n/a\n")
    with pytest.raises(ValueError, match="line 2"):
        _evaluator(bad)
    with pytest.raises(ValueError, match="nb201 architecture"):
        _evaluator().reward(object())


@pytest.fixture
def one_thread() -> Iterator[None]:
    """The controller's tensors are tiny: extra threads only add contention."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_short_reinforce_run_improves_on_its_start(one_thread: None) -> None:
    evaluator = _evaluator()
    space = evaluator.context.space
    options = BenchmarkEvaluator.suggested_controller_options["reinforce"]
    controller = create_controller("reinforce", decisions=space.decisions(),
                                   initial_nodes=space.initial_nodes, seed=0, **options)
    rewards: list[float] = []
    while len(rewards) < 150:
        batch = [evaluator.reward(space.from_decisions(v)) for v in controller.sample(5)]
        controller.update(batch)
        rewards.extend(batch)
    first, last = statistics.fmean(rewards[:10]), statistics.fmean(rewards[-10:])
    assert last > first + 1.0
    assert max(rewards) > 94.0


# A NAS-Bench-201 table as the benchmark publishes it: one accuracy column per dataset.
NB201_HEADER = "arch,cifar10_test_acc_200ep,cifar100_test_acc_200ep,ImageNet16-120_test_acc_200ep"


def test_accuracy_column_chooses_the_dataset_and_defaults_to_cifar10(tmp_path: Path) -> None:
    table = _csv(tmp_path / "nb201_all.csv", NB201_HEADER, f"{BEST},94.37,73.51,41.44",
                 f"{NONE},10.0,1.0,0.83")
    assert evaluator_schema("benchmark")["accuracy_column"].default is None
    default = _evaluator(table)
    assert default.column == "cifar10_test_acc_200ep"
    assert default.reward(NB201Arch.from_arch_str(BEST)) == pytest.approx(94.37)
    cifar100 = _evaluator(table, {"accuracy_column": "cifar100_test_acc_200ep"})
    assert cifar100.reward(NB201Arch.from_arch_str(BEST)) == pytest.approx(73.51)  # through its job
    assert cifar100.reward(NB201Arch.from_arch_str(NONE)) == pytest.approx(1.0)
    imagenet = _evaluator(table, {"accuracy_column": "ImageNet16-120_test_acc_200ep"})
    assert imagenet.reward(NB201Arch.from_arch_str(BEST)) == pytest.approx(41.44)
    assert default.reward(NB201Arch.from_arch_str(BEST)) == pytest.approx(94.37)  # caches kept apart


def test_a_single_accuracy_column_is_read_whatever_its_name(tmp_path: Path) -> None:
    only = _csv(tmp_path / "mine.csv", "arch,top1", f"{BEST},91.5", f"{NONE},9.5")
    assert _evaluator(only).reward(NB201Arch.from_arch_str(BEST)) == pytest.approx(91.5)
    beside_others = _csv(tmp_path / "with_params.csv", "arch,params_m,val_acc", f"{BEST},1.53,90.1")
    assert _evaluator(beside_others).column == "val_acc"  # the one whose name says accuracy


def test_unknown_or_ambiguous_column_names_the_table_columns(tmp_path: Path) -> None:
    table = _csv(tmp_path / "nb201_all.csv", NB201_HEADER, f"{BEST},94.37,73.51,41.44")
    listed = "'cifar10_test_acc_200ep', 'cifar100_test_acc_200ep', 'ImageNet16-120_test_acc_200ep'"
    with pytest.raises(ValueError, match=f"no accuracy column 'imagenet'; its columns: {listed}$"):
        _evaluator(table, {"accuracy_column": "imagenet"})
    with pytest.raises(ValueError, match="no accuracy column 'arch'"):
        _evaluator(table, {"accuracy_column": "arch"})
    ambiguous = _csv(tmp_path / "two.csv", "arch,top1,top5", f"{BEST},91.5,99.0")
    with pytest.raises(ValueError, match="option accuracy_column; its columns: 'top1', 'top5'"):
        _evaluator(ambiguous)
    assert _evaluator(ambiguous, {"accuracy_column": "top5"}).reward(NB201Arch.from_arch_str(BEST)) == 99.0


def test_an_unknown_column_is_a_setup_error_for_the_user(tmp_path: Path) -> None:
    table = _csv(tmp_path / "nb201_all.csv", NB201_HEADER, f"{BEST},94.37,73.51,41.44")
    config = SearchConfig(space="nb201", data=str(table), evaluator="benchmark", controller="random",
                          max_archs=1, evaluator_options={"accuracy_column": "cifar-100"})
    with pytest.raises(SearchSetupError, match="no accuracy column 'cifar-100'; its columns: 'cifar10_"):
        run_search(config, tmp_path / "run")
    with pytest.raises(SearchSetupError, match="accuracy_column: must be text"):
        run_search(SearchConfig(**{**config.to_dict(), "evaluator_options": {"accuracy_column": 100}}),
                   tmp_path / "run2")

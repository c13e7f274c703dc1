"""End to end on CPU: a time-budgeted ENAS-micro search, then final training of the derived
architecture, tested on the CIFAR-10 subset test zip; against a hand-designed ResNet-20 trained
for the same total time on the same data (design §6: what a user would do instead).

Run: ``.venv/bin/python -m bench.cifar_subset [--search-minutes 10] [--train-minutes 10]
[--baseline-minutes 20] [--threads 2]`` (a smoke test: ``--search-minutes 1 --train-minutes 1
--baseline-minutes 1``). Data: the search reads ``cifar10_subset_train.zip`` exactly as the CLI's
``search`` does (``run_search``: seeded stratified 80/10/10 split; the search uses train and
valid). Final training: ``train_final`` on the same zip with ``test_data`` = the test zip (the
train zip split 90/10 train/valid; all 500 test images are the test set). The ResNet-20 gets the
same split, the same loader and the same training loop (``FinalLoop``: SGD Nesterov, cosine LR over
the epochs that fit the time budget, weight decay 3e-4, grad clip 5, augmentation, best weights on
validation) for the whole time the NAS pipeline was given. Space, controller and evaluator are the
product defaults.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import time
from pathlib import Path
from typing import Any

import torch

from bench._common import format_table, write_result
from bench._timing import CIFAR_TEST, CIFAR_TRAIN, load_average
from searchcore.config import SearchConfig
from searchcore.data import BatchLoader, load_image_dataset
from searchcore.events import Emitter, ListSink
from searchcore.search.loop import run_search
from searchcore.spaces.resnet import ResNet20
from searchcore.training.final import TEST_DATA_SPLIT, FinalConfig, for_kind, train_final
from searchcore.training.loop import FinalLoop, LoopSettings

logger = logging.getLogger(__name__)

DEFAULT_OUT = Path("/tmp/bench_cifar_subset")


def search_phase(out: Path, minutes: float, seed: int) -> dict[str, Any]:
    config = SearchConfig(space="enas-micro", data=str(CIFAR_TRAIN), budget_seconds=minutes * 60, seed=seed,
                          device="cpu")
    result = run_search(config, out / "search")
    logger.info("search: %s, %d epochs, best %s (%.3f)", result.status, result.epochs, result.best_arch,
                result.best_reward or 0.0)
    return result.to_dict()


def final_phase(out: Path, result: dict[str, Any], minutes: float, seed: int) -> dict[str, Any]:
    config = FinalConfig(arch=result, data=str(CIFAR_TRAIN), test_data=str(CIFAR_TEST),
                         budget_seconds=minutes * 60, seed=seed, device="cpu")
    final = train_final(config, out / "final")
    metrics = final.metrics or {}
    logger.info("final: test accuracy %s after %d epochs", final.test_accuracy, final.epochs_run)
    return {"status": final.status, "test_accuracy": final.test_accuracy, "epochs_run": final.epochs_run,
            "epochs_planned": metrics.get("epochs_planned"), "best_valid_accuracy": final.best_valid_accuracy,
            "elapsed_seconds": final.elapsed_seconds, "num_test_samples": metrics.get("num_samples"),
            "evaluated_on": metrics.get("evaluated_on"), "test_loss": metrics.get("test_loss"),
            "params": _params_of(out / "final" / "model.pt")}


def _params_of(path: Path) -> int:
    state = torch.load(path, weights_only=True)
    return int(sum(v.numel() for k, v in state.items() if not k.endswith(("running_mean", "running_var",
                                                                            "num_batches_tracked"))))


def resnet_phase(minutes: float, seed: int) -> dict[str, Any]:
    """ResNet-20 through the final-training loop, same split/loader/recipe, tested on the test zip."""
    started = time.monotonic()
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    data = load_image_dataset(CIFAR_TRAIN, split=TEST_DATA_SPLIT, seed=seed)
    test = load_image_dataset(CIFAR_TEST, split=(1.0, 0.0, 0.0), seed=seed).train
    common = {"mean": data.mean, "std": data.std, "channels_last": True}
    train = BatchLoader(data.train, 64, shuffle=True, augment=True, generator=generator, drop_last=True,
                        **common)
    valid = BatchLoader(data.valid, 256, shuffle=False, **common)
    model = ResNet20(data.channels, len(data.class_names)).to(memory_format=torch.channels_last)
    defaults = for_kind(FinalConfig(arch={}, data="", epochs=1), "image")  # the image recipe's defaults
    settings = LoopSettings(lr=defaults.lr, epochs=None, deadline=started + minutes * 60, drop_path=0.0,
                            cutout=defaults.cutout, aux_weight=defaults.aux_weight,
                            label_smoothing=defaults.label_smoothing, grad_clip=defaults.grad_clip,
                            weight_decay=defaults.weight_decay, autocast=False)
    loop = FinalLoop(model, train, valid, len(train), settings, Emitter(ListSink()), lambda: False, generator)
    outcome = loop.run()
    loop.restore(outcome.best_state)
    accuracy = evaluate(model, BatchLoader(test, 256, shuffle=False, **common))
    logger.info("ResNet-20: test accuracy %.4f after %d epochs", accuracy, outcome.epochs_run)
    return {"test_accuracy": accuracy, "epochs_run": outcome.epochs_run,
            "epochs_planned": outcome.epochs_planned,
            "best_valid_accuracy": outcome.best_valid_accuracy, "num_test_samples": len(test.labels),
            "elapsed_seconds": round(time.monotonic() - started, 1),
            "params": sum(p.numel() for p in model.parameters())}


@torch.no_grad()
def evaluate(model: torch.nn.Module, loader: BatchLoader) -> float:
    model.eval()
    correct = seen = 0
    for x, y in loader:
        correct += int((model(x).argmax(1) == y).sum())
        seen += y.size(0)
    return correct / max(seen, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--search-minutes", type=float, default=10.0)
    parser.add_argument("--train-minutes", type=float, default=10.0)
    parser.add_argument("--baseline-minutes", type=float, default=None,
                        help="ResNet-20 training time (default: search + train minutes); 0 skips it")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="work directory (emptied first)")
    parser.add_argument("--name", default="cifar_subset", help="result file name under bench/results")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    torch.set_num_threads(args.threads)
    baseline_minutes = args.search_minutes + args.train_minutes if args.baseline_minutes is None \
        else args.baseline_minutes
    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    load_start = load_average()
    started = time.monotonic()
    search = search_phase(args.out, args.search_minutes, args.seed)
    load_mid = load_average()
    final = final_phase(args.out, search, args.train_minutes, args.seed)
    nas_seconds = time.monotonic() - started
    load_nas_end = load_average()
    resnet = resnet_phase(baseline_minutes, args.seed) if baseline_minutes > 0 else None
    load_end = load_average()
    rows = [["ENAS-micro search + final", f"{args.search_minutes:g} + {args.train_minutes:g}",
             round(nas_seconds), final["epochs_run"], final["params"], final["test_accuracy"]]]
    if resnet is not None:
        rows.append(["ResNet-20 (hand-designed)", f"{baseline_minutes:g}", resnet["elapsed_seconds"],
                     resnet["epochs_run"], resnet["params"], resnet["test_accuracy"]])
    print(format_table(["model", "budget (min)", "wall (s)", "epochs", "params", "test accuracy"], rows))
    print(f"search: {search['epochs']} epochs, {search['archs_evaluated']} controller samples, "
          f"derived reward "
          f"{search['best']['reward'] if search['best'] else None}; load average start={load_start} "
          f"after search={load_mid} after final={load_nas_end} end={load_end}")
    write_result(args.name, {
        "config": {"search_minutes": args.search_minutes, "train_minutes": args.train_minutes,
                   "baseline_minutes": baseline_minutes, "threads": args.threads, "seed": args.seed,
                   "train_data": str(CIFAR_TRAIN), "test_data": str(CIFAR_TEST),
                   "search_split": [0.8, 0.1, 0.1], "final_split": list(TEST_DATA_SPLIT)},
        "load_average_start": load_start, "load_average_after_search": load_mid,
        "load_average_after_final": load_nas_end, "load_average_end": load_end,
        "search": search, "final": final, "resnet20": resnet,
        "nas_minus_resnet20_accuracy": (None if resnet is None
                                        else final["test_accuracy"] - resnet["test_accuracy"])})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

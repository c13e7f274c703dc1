"""The command line (design §7): ``python -m searchcore spaces|search|train|export``.

User mistakes (unknown names, bad options or budgets, missing files, unusable datasets, settings
that differ from a checkpoint) end with one line ``error: <message>`` on stderr and exit code 2,
never a traceback. Progress goes to stderr as a tqdm bar over the budget with the loop's ETA.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from searchcore.cli.progress import ProgressSink
from searchcore.cli.train_args import add_train_size_arguments, train_inputs
from searchcore.config import SearchConfig, parse_budget
from searchcore.device import resolve_device
from searchcore.registry import UnknownNameError
from searchcore.search.setup import SearchSetupError
from searchcore.search.store import CheckpointError
from searchcore.training.settings import INITS

logger = logging.getLogger(__name__)

class CliError(Exception):
    """A user error: printed as ``error: <message>``, exit code 2."""


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except (CliError, SearchSetupError, CheckpointError, UnknownNameError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; run the same command again to resume", file=sys.stderr)
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m searchcore", description="Neural-architecture search.")
    sub = parser.add_subparsers(dest="command", required=True)

    spaces = sub.add_parser("spaces", help="list the search spaces")
    spaces.add_argument("--json", action="store_true", help="describe each space as JSON")
    spaces.set_defaults(func=cmd_spaces)

    search = sub.add_parser("search", help="run (or resume) a search")
    search.add_argument("--space", required=True)
    search.add_argument("--data", required=True,
                        help="image zip; the nb201 table CSV for --evaluator benchmark")
    search.add_argument("--controller", default="reinforce", help=_registered_help("controller"))
    search.add_argument("--evaluator", default="shared", help=_registered_help("evaluator"))
    search.add_argument("--budget", help="wall clock for the search, e.g. 90s, 20m, 2h")
    search.add_argument("--max-archs", type=int)
    search.add_argument("--max-epochs", type=int)
    search.add_argument("--seed", type=int, default=0)
    search.add_argument("--device", default="auto", help="auto | cpu | cuda")
    search.add_argument("--space-option", action="append", default=[], metavar="KEY=VALUE",
                        help="a space option (repeatable); lists are comma-separated, e.g. ops=sep3,max3")
    search.add_argument("--batch-size", type=int,
                        help="minibatch (default: planned from the budget, see --no-plan; else 64)")
    search.add_argument("--no-plan", dest="plan", action="store_false",
                        help="keep the space's sizes and the batch as given: do not plan the search "
                             "proxy from the time budget")
    search.add_argument("--image-size", type=int,
                        help="image side in pixels (default: the images' own when they share one size, "
                             "up to 64; else 32)")
    search.add_argument("--grayscale", action=argparse.BooleanOptionalAction,
                        help="one input channel (default: when every image is grayscale)")
    search.add_argument("--allow-degenerate", action="store_true",
                        help="derive may return a degenerate architecture (e.g. only parameter-free ops)")
    search.add_argument("--controller-steps", type=int, default=30, help="controller steps per epoch")
    search.add_argument("--archs-per-step", type=int,
                        help="architectures per controller update (default: the evaluator's suggestion)")
    search.add_argument("--controller-option", action="append", default=[], metavar="KEY=VALUE",
                        help="a controller option (repeatable), e.g. lr=0.01")
    search.add_argument("--evaluator-option", action="append", default=[], metavar="KEY=VALUE",
                        help="an evaluator option (repeatable), e.g. lr=0.05")
    search.add_argument("--out", required=True)
    search.set_defaults(func=cmd_search)

    train = sub.add_parser("train", help="train a searched architecture from scratch and test it; on another "
                           "dataset and at another size with --data and the size flags (transfer)")
    train.add_argument("--arch", required=True, help="a search's result.json (or an architecture JSON)")
    train.add_argument("--data", required=True, help="the search's dataset, or another one (transfer)")
    train.add_argument("--budget", help="wall clock for training, e.g. 20m")
    train.add_argument("--epochs", type=int)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--device", default="auto")
    train.add_argument("--batch-size", type=int, help="default: planned from the budget, else 64")
    train.add_argument("--no-plan", dest="plan", action="store_false",
                       help="keep the space's child size and the batch as given")
    train.add_argument("--init", default="auto", choices=INITS,
                       help="first weights: the search's supernet (fine-tune; needs --arch DIR/result.json "
                            "with DIR's checkpoint), scratch, or auto (the measured default, scratch today)")
    add_train_size_arguments(train)
    train.add_argument("--out", required=True)
    train.set_defaults(func=cmd_train)

    export = sub.add_parser("export", help="package a trained model as a zip that runs without this app")
    export.add_argument("train_dir")
    export.add_argument("--out", required=True)
    export.set_defaults(func=cmd_export)
    return parser


# -- commands ---------------------------------------------------------------------------------
def cmd_spaces(args: argparse.Namespace) -> int:
    from searchcore.spaces import create_space, list_spaces

    names = list_spaces()
    if args.json:
        print(json.dumps([create_space(name).describe() for name in names], indent=2))
    else:
        print("\n".join(names))
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from searchcore.search.loop import run_search

    config = _search_config(args)
    with ProgressSink("search") as sink:
        result = run_search(config, Path(args.out), sink=sink)
    if result.best_arch is None:
        return _finished("search", result.status, "no architecture evaluated")
    return _finished("search", result.status,
                     f"best reward {result.best_reward:.4f} after {result.epochs} epoch(s), "
                     f"{result.archs_evaluated} architecture(s); {Path(args.out) / 'result.json'}")


def cmd_train(args: argparse.Namespace) -> int:
    from searchcore.training.final import FinalConfig, train_final

    arch_path = _existing(args.arch, "architecture file")
    _existing(args.data, "data file")
    try:
        source = json.loads(arch_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CliError(f"{arch_path} is not JSON: {exc}") from exc
    search_config = source.get("config") or {} if isinstance(source, dict) else {}
    inputs = _checked(lambda: _train_inputs(args, source, search_config, arch_path.parent))
    config = _checked(lambda: FinalConfig(
        arch=source, data=args.data, budget_seconds=_budget(args.budget), epochs=args.epochs, seed=args.seed,
        device=_device(args.device), batch_size=args.batch_size, plan=args.plan, init=args.init, **inputs))
    with ProgressSink("train") as sink:
        result = _checked(lambda: train_final(config, Path(args.out), sink=sink))
    if result.test_accuracy is None:
        return _finished("training", result.status)
    detail = f"test accuracy {result.test_accuracy:.4f} after {result.epochs_run} epoch(s); {args.out}"
    if result.metrics and result.metrics.get("test_perplexity") is not None:  # a language model
        detail = f"test perplexity {result.metrics['test_perplexity']:.2f}, next-word {detail}"
    searched = float(source.get("elapsed_seconds") or 0.0) if isinstance(source, dict) else 0.0
    return _finished("training", _judged(result, searched), detail)


def _train_inputs(args: argparse.Namespace, source: Any, search_config: dict[str, Any],
                  arch_dir: Path) -> dict[str, Any]:
    """Sizes, input and supernet from the flags; a size the architecture's space cannot set is refused."""
    from searchcore.training.io import resolve_architecture
    from searchcore.training.transfer import SIZES, size_problem

    inputs = train_inputs(args, search_config, arch_dir)
    arch, options = resolve_architecture(source)
    problem = size_problem(arch, options, {name: inputs[name] for name in SIZES})
    if problem:
        raise ValueError(problem)
    return inputs


def _judged(result: Any, searched_seconds: float) -> str:
    """Print the model's chance verdict; the status is ``failed`` (exit 1) when it is at chance."""
    from searchcore.training.verdict import at_chance_message

    verdict = (result.metrics or {}).get("verdict")
    if verdict is None:
        return result.status
    if verdict["above_chance"] and "baseline_perplexity" in verdict:  # a language model (training.lm_verdict)
        print(f"test perplexity {verdict['test_perplexity']:.1f} is below the learned threshold "
              f"{verdict['threshold']:.1f} (unigram baseline {verdict['baseline_perplexity']:.1f})")
        return result.status
    if verdict["above_chance"]:
        print(f"validation accuracy {verdict['valid_accuracy']:.1%} is above chance "
              f"({verdict['chance']:.1%})")
        return result.status
    print(at_chance_message(verdict, searched_seconds + result.elapsed_seconds))
    return "failed"


def _finished(what: str, status: str, detail: str = "") -> int:
    """Print the one-line outcome of a search or a training; the exit code is 0 only on success."""
    print(f"{what} {status}: {detail}" if detail else f"{what} {status}")
    return 0 if status == "succeeded" else 1


def cmd_export(args: argparse.Namespace) -> int:
    from searchcore.export.package import export_package

    train_dir = _existing(args.train_dir, "training directory")
    package = _checked(lambda: export_package(train_dir, Path(args.out)))
    print(package)
    return 0


# -- argument helpers -------------------------------------------------------------------------
def _registered_help(kind: str) -> str:
    """``name: summary`` of each registered controller or evaluator (the registry is the only list)."""
    from searchcore import controllers, evaluators

    module = controllers if kind == "controller" else evaluators
    names = getattr(module, f"list_{kind}s")()
    get_class = getattr(module, f"{kind}_class")
    described = [f"{name} ({get_class(name).summary.rstrip('.')})" if get_class(name).summary else name
                 for name in names]
    return "; ".join(described) + ". Default: %(default)s"


def _search_config(args: argparse.Namespace) -> SearchConfig:
    from searchcore.controllers import controller_class, controller_schema
    from searchcore.evaluators import evaluator_class, evaluator_schema

    controller_class(args.controller)  # an unknown name: one line listing the registered ones
    evaluator_class(args.evaluator)
    _existing(args.data, "data file")
    options = parse_space_options(args.space, args.space_option)
    controller_options = _parsed(controller_schema(args.controller), args.controller_option)
    evaluator_options = _parsed(evaluator_schema(args.evaluator), args.evaluator_option)
    return _checked(lambda: SearchConfig(
        space=args.space, data=args.data, space_options=options, controller=args.controller,
        controller_options=controller_options, evaluator=args.evaluator, evaluator_options=evaluator_options,
        budget_seconds=_budget(args.budget), max_archs=args.max_archs,
        max_epochs=args.max_epochs, seed=args.seed, device=_device(args.device), batch_size=args.batch_size,
        allow_degenerate=args.allow_degenerate,
        plan=args.plan,
        image_size=args.image_size, grayscale=args.grayscale,
        controller_steps_per_epoch=args.controller_steps, archs_per_step=args.archs_per_step))


def parse_space_options(space: str, items: Sequence[str]) -> dict[str, Any]:
    """``["num_nodes=2", "ops=sep3,max3"]`` -> the checked values, by the space's option schema."""
    from searchcore.spaces import space_class

    return _parsed(space_class(space).schema, items)


def _parsed(schema: Any, items: Sequence[str]) -> dict[str, Any]:
    """``KEY=VALUE`` items checked by an option schema (dashes in keys read as underscores)."""
    return _checked(lambda: schema.parse_text([_underscored(item) for item in items]))


def _underscored(item: str) -> str:
    """``num-nodes=2`` -> ``num_nodes=2`` (option names use underscores; flags often dashes)."""
    key, sep, raw = item.partition("=")
    return key.replace("-", "_") + sep + raw


def _budget(text: str | None) -> float | None:
    return None if text is None else _checked(lambda: parse_budget(text))


def _device(name: str) -> str:
    _checked(lambda: resolve_device(name))
    return name


def _existing(path: str, what: str) -> Path:
    p = Path(path)
    if not p.exists():
        raise CliError(f"{what} {path} does not exist")
    return p


def _checked(fn: Any) -> Any:
    """Call ``fn``; a ``ValueError`` (settings, ``DatasetError``) becomes a one-line user error."""
    try:
        return fn()
    except ValueError as exc:
        raise CliError(str(exc)) from exc

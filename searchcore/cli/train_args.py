"""``train``'s size and input flags: the same architecture at another size, or on another dataset (transfer).

``--channels``, ``--cells-per-stage`` and ``--layers`` set the child's size (the final-training
schema's ranges), ``--image-size`` and ``--grayscale`` its input (the search schema's). On the
search's own dataset the input defaults to what the search used; on another dataset (a transfer,
``searchcore.training.transfer``) to that dataset's native input, and the child starts from
scratch: the search's supernet learned the other dataset. Private helper of ``cli.app``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from searchcore.schema import Option
from searchcore.training.settings import FINAL_SCHEMA
from searchcore.validation import SEARCH_SCHEMA

SIZE_FLAGS = {"channels": "--channels", "cells_per_stage": "--cells-per-stage", "layers": "--layers"}


class BadFlag(ValueError):
    """A flag's value is out of its range (the CLI prints it as one ``error:`` line)."""


def add_train_size_arguments(train: argparse.ArgumentParser) -> None:
    for name, flag in SIZE_FLAGS.items():
        train.add_argument(flag, dest=name, metavar="N",
                           help=_help(FINAL_SCHEMA[name], "the space's default"))
    train.add_argument("--image-size", metavar="PIXELS",
                       help=_help(SEARCH_SCHEMA["image_size"], "the search's on its dataset, else the "
                                  "dataset's own side when its images share one, up to 64; else 32"))
    train.add_argument("--grayscale", action=argparse.BooleanOptionalAction,
                       help="one input channel (default: the search's on its dataset, else when every "
                            "image is grayscale)")


def train_inputs(args: argparse.Namespace, search_config: dict[str, Any], arch_dir: Path) -> dict[str, Any]:
    """``FinalConfig`` fields from the flags: sizes, ``image_size``, ``grayscale`` and ``supernet``."""
    sizes = {name: _int_flag(getattr(args, name), FINAL_SCHEMA[name], flag)
             for name, flag in SIZE_FLAGS.items()}
    image_size = _int_flag(args.image_size, SEARCH_SCHEMA["image_size"], "--image-size")
    other = other_data(args.data, search_config)
    if other and args.init == "supernet":
        raise BadFlag("--init supernet fine-tunes the search's supernet, which learned the search's own "
                      f"dataset ({Path(str(search_config['data'])).name}); on another dataset train from "
                      "scratch (--init scratch or auto)")
    searched = {} if other else search_config
    return {**sizes,
            "image_size": image_size if image_size is not None else searched.get("image_size"),
            "grayscale": args.grayscale if args.grayscale is not None else searched.get("grayscale"),
            "supernet": None if other else str(arch_dir)}


def other_data(data: str, search_config: dict[str, Any]) -> bool:
    """Whether ``data`` is not the file the search ran on (unknown for a bare architecture: ``False``)."""
    searched = search_config.get("data")
    if not searched:
        return False
    try:
        return not os.path.samefile(data, str(searched))
    except OSError:  # the search's file is gone or elsewhere: compare the names as paths
        return Path(data).resolve() != Path(str(searched)).resolve()


def _int_flag(text: str | None, option: Option, flag: str) -> int | None:
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        value = None
    problem = "must be a whole number" if value is None else option.problem(value)
    if problem:
        raise BadFlag(f"{flag} {problem}, not {text!r}")
    return value


def _help(option: Option, default: str) -> str:
    return f"{option.help.split(' (')[0]}, {option.minimum:g} to {option.maximum:g} (default: {default})"


__all__ = ["SIZE_FLAGS", "BadFlag", "add_train_size_arguments", "other_data", "train_inputs"]

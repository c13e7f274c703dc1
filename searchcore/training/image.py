"""The image-classification final trainer: cross-entropy, accuracy, confusion matrix, per-class P/R.

Data: an image zip (``data``; with ``test_data`` a second zip that is the whole test set, ``data``
then split train/valid by ``TEST_DATA_SPLIT``). Batches: ``BatchLoader`` with crop+flip on the
train split. Metrics: ``classification_metrics`` on the test split in float32 (the validation
split when there are no test images). The export is verified on a few real test images.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file
from torch import nn

from searchcore.accel import augmentation_generator
from searchcore.data.dataset import ImageDataset, ImageSplit
from searchcore.data.loader import BatchLoader
from searchcore.data.tasks import load_task_data
from searchcore.events import Emitter
from searchcore.spaces.base import IMAGE
from searchcore.training.io import logits_of
from searchcore.training.loop import FinalLoop, LoopSettings
from searchcore.training.metrics import classification_metrics
from searchcore.training.settings import FINAL_SCHEMA
from searchcore.training.trainers import register_trainer

logger = logging.getLogger(__name__)

NUM_VERIFY_SAMPLES = 16
TEST_DATA_SPLIT = (0.9, 0.1, 0.0)  # train/valid/test shares of ``data`` when ``test_data`` is given


@register_trainer(IMAGE)
class ImageTrainer:
    kind = IMAGE
    final_schema = FINAL_SCHEMA  # the user-settable final training of an image classifier

    def load_data(self, config: Any) -> ImageDataset:
        common = {"image_size": config.image_size, "grayscale": config.grayscale, "seed": config.seed,
                  "max_images": config.max_images}
        if config.test_data is None:
            return load_task_data(IMAGE, config.data, **common)
        data = load_task_data(IMAGE, config.data, split=TEST_DATA_SPLIT, **common)
        resolved = {"image_size": data.image_size, "grayscale": data.channels == 1}  # the training data's
        test = load_task_data(IMAGE, config.test_data, split=(1.0, 0.0, 0.0), **{**common, **resolved})
        if test.class_names != data.class_names:
            raise ValueError(f"the test data's classes {test.class_names} differ from the training data's "
                             f"{data.class_names}")
        return replace(data, test=test.train)

    def prepare_model(self, model: nn.Module, config: Any) -> nn.Module:
        return model.to(memory_format=torch.channels_last) if config.channels_last else model

    def make_loop(self, model: nn.Module, config: Any, data: ImageDataset, device: torch.device,
                  generator: torch.Generator, settings: LoopSettings, emitter: Emitter,
                  should_stop: Callable[[], bool]) -> FinalLoop:
        generator = augmentation_generator(generator, device)  # on CUDA: on the GPU; on CPU: itself
        return FinalLoop(model, *_loaders(config, data, device, generator), settings, emitter, should_stop,
                         generator)

    @torch.no_grad()
    def evaluate(self, model: nn.Module, config: Any, data: ImageDataset,
                 device: torch.device) -> dict[str, Any]:
        """Test-split metrics in float32 (the numbers the exported float32 model reproduces)."""
        split, split_name = (data.test, "test") if len(data.test.labels) else (data.valid, "valid")
        if split_name != "test":
            logger.warning("the test split is empty; reporting metrics on the validation split")
        model.eval()
        loader = BatchLoader(split, 256, mean=data.mean, std=data.std, device=device, shuffle=False,
                             augment=False, generator=torch.Generator(), channels_last=config.channels_last)
        preds, labels, loss_sum = [], [], 0.0
        for x, y in loader:
            logits = logits_of(model(x)).float()
            loss_sum += float(torch.nn.functional.cross_entropy(logits, y, reduction="sum"))
            preds.append(logits.argmax(1).cpu())
            labels.append(y.cpu())
        y_true = torch.cat(labels).tolist() if labels else []
        y_pred = torch.cat(preds).tolist() if preds else []
        report = classification_metrics(y_true, y_pred, data.class_names)
        return {
            "test_accuracy": report["accuracy"],
            "test_loss": loss_sum / len(y_true) if y_true and math.isfinite(loss_sum) else None,
            "evaluated_on": split_name,
            **report,
        }

    def preprocessing(self, data: ImageDataset, config: Any) -> dict[str, Any]:
        return preprocessing_of(data, data.channels == 1)  # as loaded: an "auto" setting is None

    def write_samples(self, out: Path, data: ImageDataset) -> None:
        split: ImageSplit = data.test if len(data.test.labels) else data.valid
        n = min(NUM_VERIFY_SAMPLES, len(split.labels))
        save_file({"images": split.images[:n].contiguous(), "labels": split.labels[:n].contiguous()},
                  str(out / "test_samples.safetensors"))


def preprocessing_of(data: ImageDataset, grayscale: bool) -> dict[str, Any]:
    """What ``predict.py`` needs to turn a file into the network's input, exactly as in training."""
    return {**data.preprocessing(), "grayscale": grayscale, "scale": 1 / 255, "layout": "NCHW",
            "decoder": "image_decode.py (searchcore/data/images.py)", "task": data.task().to_dict()}


def _loaders(config: Any, data: ImageDataset, device: torch.device,
             generator: torch.Generator) -> tuple[BatchLoader, BatchLoader, int]:
    common = {"mean": data.mean, "std": data.std, "device": device, "channels_last": config.channels_last}
    # drop_last avoids a 1-image batch (BatchNorm cannot train on it) unless the split is that small.
    drop_last = len(data.train.labels) > config.batch_size
    train = BatchLoader(data.train, config.batch_size, shuffle=True, augment=True, generator=generator,
                        drop_last=drop_last, **common)
    valid = BatchLoader(data.valid, max(config.batch_size, 256), shuffle=False, augment=False,
                        generator=generator, **common)
    return train, valid, len(train)

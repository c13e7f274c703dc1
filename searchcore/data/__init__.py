"""Datasets from user uploads: image zips (class folders or CSV manifest) and text corpora.

``load_image_dataset`` decodes a zip into uint8 tensors split train/valid/test with a health
report; ``inspect_image_archive`` gives the same report without keeping pixels (the web app's
validation); ``native_input(report)`` / ``resolve_image_input(path)`` give the images' own side and
channels, which a run uses unless told otherwise (``data.native``); ``BatchLoader`` serves
normalised, optionally augmented batches on the device.
``load_task_data(kind, path, **settings)`` picks the loader by task kind (image or language).
"""

from __future__ import annotations

from searchcore.data.archive import ArchiveLimits
from searchcore.data.dataset import (
    ImageDataset,
    ImageSplit,
    channel_stats,
    inspect_image_archive,
    load_image_dataset,
)
from searchcore.data.errors import DatasetError, FileIssue
from searchcore.data.loader import BatchLoader, augment, crop_flip, normalize
from searchcore.data.native import describe_input, native_input, resolve_image_input
from searchcore.data.report import DatasetReport
from searchcore.data.tasks import LanguageData, load_task_data, register_task_loader, task_kinds
from searchcore.data.text import TextCorpus, TextReport, batchify, load_text_corpus
from searchcore.data.thumbs import thumbnails

__all__ = [
    "ArchiveLimits",
    "BatchLoader",
    "DatasetError",
    "DatasetReport",
    "FileIssue",
    "ImageDataset",
    "ImageSplit",
    "LanguageData",
    "TextCorpus",
    "TextReport",
    "augment",
    "batchify",
    "channel_stats",
    "crop_flip",
    "describe_input",
    "inspect_image_archive",
    "load_image_dataset",
    "load_task_data",
    "load_text_corpus",
    "native_input",
    "normalize",
    "register_task_loader",
    "resolve_image_input",
    "task_kinds",
    "thumbnails",
]

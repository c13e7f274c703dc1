"""Task kinds through the engine: TaskSpec, data loading, final trainers and exporters by kind."""

from __future__ import annotations

from pathlib import Path

import pytest

from searchcore.data import DatasetError, ImageDataset, LanguageData, load_task_data
from searchcore.export.kinds import exporter_for, exporter_kinds
from searchcore.registry import UnknownNameError
from searchcore.spaces import TaskSpec, register_space, unregister_space
from searchcore.spaces.base import IMAGE, LANGUAGE
from searchcore.spaces.nb201 import NB201Space
from searchcore.training import FinalConfig, train_final
from searchcore.training.io import task_of
from searchcore.training.trainers import trainer_for, trainer_kinds

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "cifar10_tiny_png.zip"


# -- TaskSpec ---------------------------------------------------------------------------------
def test_image_task_keeps_the_positional_fields_and_defaults():
    assert TaskSpec(1, 16, 5) == TaskSpec.image(1, 16, 5)
    task = TaskSpec(1, 16, 5)
    assert (task.in_channels, task.image_size, task.num_classes, task.kind) == (1, 16, 5, IMAGE)
    assert TaskSpec().kind == IMAGE and TaskSpec() == TaskSpec.image(3, 32, 10)


def test_language_task_predicts_one_word_of_the_vocabulary():
    task = TaskSpec.language(vocab_size=500, seq_len=35)
    assert (task.kind, task.vocab_size, task.seq_len, task.num_classes) == (LANGUAGE, 500, 35, 500)


@pytest.mark.parametrize("task", [TaskSpec.image(1, 9, 2), TaskSpec.language(2, 1),
                                  TaskSpec.language(33278, 70)])
def test_task_round_trips_through_a_dict(task):
    data = task.to_dict()
    assert data["kind"] == task.kind
    assert TaskSpec.from_dict(data) == task
    assert ("vocab_size" in data) == (task.kind == LANGUAGE)
    assert ("image_size" in data) == (task.kind == IMAGE)


def test_a_dict_without_kind_is_an_image_task_and_foreign_fields_are_refused():
    assert TaskSpec.from_dict({"in_channels": 1, "image_size": 8, "num_classes": 3}) == TaskSpec(1, 8, 3)
    with pytest.raises(ValueError, match="seq_len"):
        TaskSpec.from_dict({"kind": IMAGE, "in_channels": 1, "seq_len": 4})
    with pytest.raises(ValueError, match="unknown task kind"):
        TaskSpec.from_dict({"kind": "audio"})


@pytest.mark.parametrize("build, message", [
    (lambda: TaskSpec(0, 16, 10), "in_channels"),
    (lambda: TaskSpec(3, 0, 10), "image_size"),
    (lambda: TaskSpec(3, 16, 0), "num_classes"),
    (lambda: TaskSpec.language(1, 35), "vocabulary"),
    (lambda: TaskSpec.language(100, 0), "seq_len"),
    (lambda: TaskSpec(kind="video"), "unknown task kind"),
])
def test_invalid_tasks_are_refused(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_task_of_reads_the_recorded_task_and_older_image_folders():
    assert task_of({"task": TaskSpec.language(40, 8).to_dict()}) == TaskSpec.language(40, 8)
    assert task_of({"channels": 1, "image_size": 12, "class_names": ["a", "b"]}) == TaskSpec(1, 12, 2)


# -- data by kind -----------------------------------------------------------------------------
def test_load_task_data_reads_an_image_zip_and_ignores_settings_of_other_kinds():
    data = load_task_data(IMAGE, TINY, image_size=8, grayscale=True, seed=0, seq_len=35)
    assert isinstance(data, ImageDataset)
    assert data.task() == TaskSpec(1, 8, 10)
    assert tuple(data.train.images.shape[1:]) == (1, 8, 8)


def test_load_task_data_reads_a_text_file(tmp_path):
    text = tmp_path / "corpus.txt"
    text.write_text("".join(f"the cat sat on mat {i % 3}\n" for i in range(20)), encoding="utf-8")
    data = load_task_data(LANGUAGE, text, seq_len=6, image_size=32)
    assert isinstance(data, LanguageData)
    # words: the cat sat on mat 0 1 2 + <eos>
    assert data.task() == TaskSpec.language(9, 6)
    assert data.vocab[:5] == ["the", "cat", "sat", "on", "mat"] and "<eos>" in data.vocab
    assert data.train.numel() + data.valid.numel() + data.test.numel() == 20 * 7


def test_load_task_data_default_sequence_length_and_errors(tmp_path):
    text = tmp_path / "corpus.txt"
    text.write_text("a b\nc d\ne f\n", encoding="utf-8")
    assert load_task_data(LANGUAGE, text).task().seq_len == 35
    with pytest.raises(UnknownNameError, match="unknown task kind 'audio'; known: image, language"):
        load_task_data("audio", text)
    with pytest.raises(DatasetError):
        load_task_data(IMAGE, text)  # a text file is no image zip


# -- trainers and exporters by kind ------------------------------------------------------------
def test_the_image_kind_has_a_trainer_and_an_exporter():
    assert trainer_for(IMAGE).kind == IMAGE and IMAGE in trainer_kinds()
    assert exporter_for(IMAGE).kind == IMAGE and IMAGE in exporter_kinds()
    assert set(exporter_for(IMAGE).files({})) == {"predict.py", "image_decode.py"}


@pytest.mark.parametrize("lookup, what", [(trainer_for, "final trainer"), (exporter_for, "exporter")])
def test_an_unknown_kind_is_refused_naming_the_known_ones(lookup, what):
    with pytest.raises(ValueError, match=f"no {what} for task kind 'audio'.*image"):
        lookup("audio")


class _LanguageNB201(NB201Space):
    name = "test-language-nb201"
    task_kind = LANGUAGE


@pytest.fixture
def language_space():
    register_space(_LanguageNB201)
    yield _LanguageNB201.name
    unregister_space(_LanguageNB201.name)


def test_train_final_picks_the_trainer_from_the_space_kind(tmp_path, language_space, monkeypatch):
    from searchcore.training import trainers

    assert LANGUAGE in trainer_kinds()  # issue 9 registered one; without it the kind is refused
    monkeypatch.delitem(trainers._TRAINERS._instances, LANGUAGE)
    arch = {"space": language_space, "ops": ["skip_connect"] * 6}
    config = FinalConfig(arch=arch, data=str(TINY), epochs=1)
    with pytest.raises(ValueError, match="no final trainer for task kind 'language'"):
        train_final(config, tmp_path / "final")

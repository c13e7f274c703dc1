"""Text corpora: pytorch/examples word-level tokenisation, splits, zips, batchify, bad input."""

from __future__ import annotations

import pytest
import torch

from searchcore.data import ArchiveLimits, DatasetError, batchify, load_text_corpus


def test_single_txt_is_split_by_contiguous_lines(tmp_path):
    lines = [f"w{i} common" for i in range(10)]
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    corpus = load_text_corpus(path)
    assert corpus.report.source == "txt"
    assert corpus.report.lines == {"train": 8, "valid": 1, "test": 1}
    assert corpus.report.tokens == {"train": 24, "valid": 3, "test": 3}
    # ids in order of first appearance: w0=0, common=1, <eos>=2, w1=3, ...
    assert corpus.train[:6].tolist() == [0, 1, 2, 3, 1, 2]
    assert [corpus.vocab[i] for i in corpus.valid.tolist()] == ["w8", "common", "<eos>"]
    assert corpus.report.vocab_size == len(corpus.vocab) == 12
    assert corpus.report.oov_tokens == {"valid": 1, "test": 1}
    assert corpus.word2idx["<eos>"] == 2


def test_zip_with_wrapping_folder_and_blank_and_crlf_lines(make_zip):
    files = {
        "wikitext/train.txt": b" = Title = \r\n\r\n the cat sat \r\n",
        "wikitext/valid.txt": b" the <unk> sat \n",
        "wikitext/test.txt": "the café\n".encode(),
        "__MACOSX/wikitext/._train.txt": b"\x00\x05",
    }
    corpus = load_text_corpus(make_zip(files))
    assert corpus.report.source == "zip"
    assert corpus.report.lines == {"train": 3, "valid": 1, "test": 1}
    words = [corpus.vocab[i] for i in corpus.train.tolist()]
    assert words == ["=", "Title", "=", "<eos>", "<eos>", "the", "cat", "sat", "<eos>"]
    assert corpus.report.has_unk
    assert corpus.report.oov_tokens == {"valid": 1, "test": 1}
    assert any("of the valid tokens are words that never occur in train" in w for w in corpus.report.warnings)
    assert corpus.train.dtype == torch.int64


def test_folder_of_three_files(tmp_path):
    for name, text in (("train.txt", "a b\nb c\n"), ("valid.txt", "a\n"), ("test.txt", "c\n")):
        (tmp_path / name).write_text(text, encoding="utf-8")
    corpus = load_text_corpus(tmp_path)
    assert corpus.train.tolist() == [0, 1, 2, 1, 3, 2]
    assert corpus.valid.tolist() == [0, 2] and corpus.test.tolist() == [3, 2]
    assert corpus.report.oov_tokens == {"valid": 0, "test": 0}


def test_batchify_columns_are_contiguous_streams():
    out = batchify(torch.arange(11), 3)
    assert out.tolist() == [[0, 3, 6], [1, 4, 7], [2, 5, 8]]
    with pytest.raises(ValueError):
        batchify(torch.arange(2), 3)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary file"),
        (b"caf\xe9 latin-1\nmore\nlines\n", "not UTF-8"),
        (b"", "needs at least 3"),
        (b"\n \n\t\n\n", "has no words"),
    ],
)
def test_bad_text_is_a_clear_error(tmp_path, data, message):
    path = tmp_path / "c.txt"
    path.write_bytes(data)
    with pytest.raises(DatasetError, match=message):
        load_text_corpus(path)


def test_zip_missing_a_split_names_it(make_zip):
    path = make_zip({"train.txt": b"a b\n", "valid.txt": b"a\n", "notes.md": b"x"})
    with pytest.raises(DatasetError, match="missing: test.txt"):
        load_text_corpus(path)


def test_zip_with_one_txt_is_split(make_zip):
    corpus = load_text_corpus(make_zip({"book/all.txt": b"".join(b"line %d\n" % i for i in range(20))}))
    assert corpus.report.lines == {"train": 16, "valid": 2, "test": 2}


def test_oversized_member_is_named(make_zip):
    path = make_zip({"train.txt": b"a b " * 300, "valid.txt": b"a\n", "test.txt": b"b\n"})
    with pytest.raises(DatasetError, match="train.txt: file is 1.2 KiB, over the 1000 bytes limit"):
        load_text_corpus(path, limits=ArchiveLimits(max_file_bytes=1000))


def test_empty_valid_file_is_an_error(make_zip):
    with pytest.raises(DatasetError, match="valid text has no words"):
        load_text_corpus(make_zip({"train.txt": b"a b\n", "valid.txt": b"", "test.txt": b"a\n"}))

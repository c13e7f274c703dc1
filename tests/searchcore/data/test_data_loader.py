"""Normalisation, batch-vectorised crop/flip augmentation and the on-device BatchLoader."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from searchcore.data import BatchLoader, ImageSplit, augment, crop_flip, normalize

MEAN, STD = (0.5, 0.4, 0.3), (0.2, 0.25, 0.3)


def random_split(n: int = 50, side: int = 8, seed: int = 0) -> ImageSplit:
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 3, side, side), generator=g, dtype=torch.uint8)
    return ImageSplit(images=images, labels=torch.arange(n))  # label = sample id


def reference_crop_flip(images, top, left, flips, padding):
    """Per-image loop, written the obvious way, to check the vectorised version."""
    out = []
    padded = F.pad(images, (padding,) * 4)
    h, w = images.shape[-2:]
    for i in range(images.shape[0]):
        crop = padded[i, :, top[i] : top[i] + h, left[i] : left[i] + w]
        out.append(crop.flip(-1) if flips[i] else crop)
    return torch.stack(out)


def test_normalize_matches_the_formula():
    x = random_split(4).images
    expected = (x.float() / 255 - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)
    out = normalize(x, MEAN, STD)
    assert out.dtype == torch.float32
    assert torch.allclose(out, expected, atol=1e-5)


def test_crop_flip_equals_the_per_image_reference():
    x = random_split(16, side=6).images
    g = torch.Generator().manual_seed(3)
    top, left = torch.randint(0, 9, (2, 16), generator=g)
    flips = torch.randint(0, 2, (16,), generator=g).bool()
    assert flips.any() and not flips.all()
    assert torch.equal(crop_flip(x, top, left, flips, 4), reference_crop_flip(x, top, left, flips, 4))


def test_centre_crop_is_identity_and_flip_is_a_mirror():
    x = random_split(5).images
    centre = torch.full((5,), 4)
    assert torch.equal(crop_flip(x, centre, centre, torch.zeros(5, dtype=torch.bool), 4), x)
    assert torch.equal(crop_flip(x, centre, centre, torch.ones(5, dtype=torch.bool), 4), x.flip(-1))
    shifted = crop_flip(x, torch.zeros(5, dtype=torch.long), centre, torch.zeros(5, dtype=torch.bool), 4)
    assert (shifted[:, :, :4] == 0).all() and torch.equal(shifted[:, :, 4:], x[:, :, :4])


def test_augment_keeps_shape_changes_pixels_and_follows_the_generator():
    x = random_split(64).images
    a = augment(x, torch.Generator().manual_seed(0))
    assert a.shape == x.shape and a.dtype == torch.uint8
    changed = (a != x).flatten(1).any(dim=1)
    assert changed.float().mean() > 0.9  # 1 in 162 draws is the identity
    assert torch.equal(a, augment(x, torch.Generator().manual_seed(0)))
    assert not torch.equal(a, augment(x, torch.Generator().manual_seed(1)))


def test_loader_visits_every_sample_once_per_epoch():
    split = random_split(50)
    loader = BatchLoader(split, 16, mean=MEAN, std=STD, generator=torch.Generator().manual_seed(0))
    assert len(loader) == 4
    epochs = []
    for _ in range(2):
        batches = list(loader)
        assert [len(y) for _, y in batches] == [16, 16, 16, 2]
        ids = torch.cat([y for _, y in batches])
        assert sorted(ids.tolist()) == list(range(50))
        epochs.append(ids)
    assert not torch.equal(epochs[0], epochs[1])  # a fresh permutation each epoch


def test_loader_batches_are_the_normalised_samples():
    split = random_split(20)
    loader = BatchLoader(
        split, 8, mean=MEAN, std=STD, shuffle=True, generator=torch.Generator().manual_seed(5)
    )
    for x, y in loader:
        assert x.dtype == torch.float32 and y.dtype == torch.int64
        assert torch.allclose(x, normalize(split.images[y], MEAN, STD), atol=1e-5)


def test_loader_without_shuffle_keeps_order_and_drop_last():
    split = random_split(10)
    loader = BatchLoader(split, 4, mean=MEAN, std=STD, shuffle=False, drop_last=True)
    assert len(loader) == 2
    assert torch.cat([y for _, y in loader]).tolist() == list(range(8))


def test_loader_augments_and_is_repeatable_for_a_seed():
    split = random_split(32)

    def run(seed: int) -> list[torch.Tensor]:
        g = torch.Generator().manual_seed(seed)
        return [x for x, _ in BatchLoader(split, 8, mean=MEAN, std=STD, augment=True, generator=g)]

    first, again = run(7), run(7)
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    plain = BatchLoader(split, 32, mean=MEAN, std=STD, shuffle=False)
    x_plain = next(iter(plain))[0]
    g = torch.Generator().manual_seed(7)
    x_aug, y_aug = next(iter(BatchLoader(split, 32, mean=MEAN, std=STD, augment=True, generator=g)))
    assert not torch.allclose(x_aug, x_plain[y_aug])


def test_channels_last_output():
    loader = BatchLoader(random_split(8), 4, mean=MEAN, std=STD, channels_last=True, augment=True)
    x, _ = next(iter(loader))
    assert x.is_contiguous(memory_format=torch.channels_last) and x.shape == (4, 3, 8, 8)


def test_empty_split_and_bad_batch_size():
    empty = ImageSplit(torch.zeros(0, 3, 4, 4, dtype=torch.uint8), torch.zeros(0, dtype=torch.long))
    assert list(BatchLoader(empty, 4, mean=MEAN, std=STD)) == []
    with pytest.raises(ValueError):
        BatchLoader(empty, 0, mean=MEAN, std=STD)

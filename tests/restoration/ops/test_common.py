"""The ops' shared filters."""

import pytest
import torch
import torch.nn.functional as F

from restoration.ops._common import dilate, max_filter, min_filter


def _brute_force_max(images: torch.Tensor, radius_y: int, radius_x: int) -> torch.Tensor:
    """The maximum over every (2ry+1, 2rx+1) window, edges replicated, one shifted copy at a time."""
    padded = F.pad(images, (radius_x, radius_x, radius_y, radius_y), mode="replicate")
    h, w = images.shape[-2:]
    return torch.stack([padded[..., dy:dy + h, dx:dx + w]
                        for dy in range(2 * radius_y + 1) for dx in range(2 * radius_x + 1)]).amax(0)


@pytest.mark.parametrize("radius", [1, 2, 3, 4, 7, 12, (0, 3), (5, 0), (2, 9)])
def test_max_and_min_filters_equal_the_brute_force_window(radius):
    images = torch.randint(0, 6, (2, 3, 29, 33), generator=torch.Generator().manual_seed(1)).float()  # many ties
    radius_y, radius_x = (radius, radius) if isinstance(radius, int) else radius
    assert torch.equal(max_filter(images, radius), _brute_force_max(images, radius_y, radius_x))
    assert torch.equal(min_filter(images, radius), -_brute_force_max(-images, radius_y, radius_x))


def test_a_window_wider_than_the_image_takes_the_whole_image():
    images = torch.rand(1, 1, 5, 7)
    assert torch.equal(max_filter(images, 12), images.amax((-2, -1), keepdim=True).expand_as(images))
    mask = torch.zeros(1, 1, 9, 9)
    mask[..., 4, 4] = 1.0
    assert int(dilate(mask, 2).sum()) == 25

"""Folder scan, deterministic split, seeded patch sampling with paired augmentation."""
import numpy as np
import pytest
from photos import write_photo_folder

from kd.data import DataError, DevicePatchSampler, PatchSampler, augment, scan_images, split_files, val_pairs
from kd.degrade import bicubic_down_up


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("hr")
    write_photo_folder(d, size=64)
    return d


def test_split_is_deterministic_and_disjoint(folder):
    files = scan_images([str(folder)])
    a, b = split_files(files, seed=3), split_files(list(reversed(sorted(files))), seed=3)
    assert a.test == split_files(files, seed=3).test
    sets = [set(a.train), set(a.val), set(a.test)]
    assert sum(map(len, sets)) == len(files) == len(set().union(*sets))
    assert len(a.test) == 1 and len(a.val) >= 1
    assert split_files(files, seed=4) != a or len(files) < 3


def test_scan_errors_name_the_fix(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        scan_images([str(tmp_path / "nope")])
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no PNG/JPEG/BMP"):
        scan_images([str(tmp_path / "empty")])


def test_patches_are_aligned_pairs_and_seeded(folder):
    files = scan_images([str(folder)])
    s = PatchSampler(files, patch_size=24)
    lq, hr = s.sample(8, np.random.default_rng(1))
    lq2, hr2 = s.sample(8, np.random.default_rng(1))
    assert lq.shape == hr.shape == (8, 3, 24, 24) and lq.dtype == np.float32
    assert np.array_equal(lq, lq2) and np.array_equal(hr, hr2)
    assert 0 <= lq.min() and lq.max() <= 1
    # lq is the blurred version of the same place: close to hr, but not equal
    err = np.abs(lq - hr).mean()
    assert 0 < err < 0.1


def test_whole_image_degradation_matches_protocol(folder):
    files = scan_images([str(folder)])
    s = PatchSampler(files[:1], patch_size=16)
    assert np.array_equal(s.lq[2][0], bicubic_down_up(s.hr[0], 2))


def test_patches_keep_the_protocol_pixel_phase(folder):
    """Patch origins lie on the degradation grid: a x2 bicubic up-scale treats even and odd pixels
    differently, and a patch cut at an odd pixel would teach the x2-grid student the wrong phase
    (sitting 1's twin lost ~0.2 dB of val PSNR to that)."""
    files = scan_images([str(folder)])[:1]
    s = PatchSampler(files, patch_size=16)
    hr_img, lq_img = s.hr[0], s.lq[2][0]
    lq, hr = s.sample(64, np.random.default_rng(5))
    to_u8 = lambda a: np.rint(a.transpose(1, 2, 0) * 255).astype(np.uint8)
    for lq_p, hr_p in zip(lq, hr):
        # undo the augmentation by trying the 8 symmetries, then find the patch in the image
        for k in range(4):
            for flip in (False, True):
                h = np.rot90(to_u8(hr_p)[:, ::-1] if flip else to_u8(hr_p), -k, axes=(0, 1))
                l = np.rot90(to_u8(lq_p)[:, ::-1] if flip else to_u8(lq_p), -k, axes=(0, 1))
                hits = [(y, x) for y in range(hr_img.shape[0] - 15) for x in range(hr_img.shape[1] - 15)
                        if np.array_equal(hr_img[y:y + 16, x:x + 16], h) and np.array_equal(lq_img[y:y + 16, x:x + 16], l)]
                if hits:
                    break
            if hits:
                break
        assert hits and all(y % 2 == 0 and x % 2 == 0 for y, x in hits[:1]), hits


def _find_pose(hr_img, lq_img, hr_p, lq_p, p):
    """Where (y, x) and in which of the 8 symmetries the pair was cut from the two images, or None."""
    for k in range(4):
        for flip in (False, True):
            h = np.rot90(hr_p[:, ::-1] if flip else hr_p, -k, axes=(0, 1))
            l = np.rot90(lq_p[:, ::-1] if flip else lq_p, -k, axes=(0, 1))
            for y in range(hr_img.shape[0] - p + 1):
                for x in range(hr_img.shape[1] - p + 1):
                    if np.array_equal(hr_img[y:y + p, x:x + p], h) and np.array_equal(lq_img[y:y + p, x:x + p], l):
                        return y, x, k, flip
    return None


def test_device_patches_are_pairs_cut_from_the_fixed_inputs_in_all_poses(folder):
    """The GPU sampler's patches (run here on the CPU device): each lq/hr pair is one crop of one fixed
    input and its HR image, on the degradation grid, in one of the 8 symmetries; seeded."""
    import torch

    files = scan_images([str(folder)])[:2]
    s = DevicePatchSampler(PatchSampler(files, patch_size=16), torch.device("cpu"))
    lq, hr = s.sample(48, np.random.default_rng(7))
    lq2, _ = s.sample(48, np.random.default_rng(7))
    assert lq.shape == hr.shape == (48, 3, 16, 16) and lq.dtype == torch.float32 and torch.equal(lq, lq2)
    base = PatchSampler(files, patch_size=16)
    to_u8 = lambda a: np.rint(a.numpy().transpose(1, 2, 0) * 255).astype(np.uint8)
    poses = set()
    for lq_p, hr_p in zip(lq, hr):
        hits = [(j, hit) for j in range(len(files))
                if (hit := _find_pose(base.hr[j], base.lq[2][j], to_u8(hr_p), to_u8(lq_p), 16))]
        assert hits, "a patch pair that is no crop of a training pair"
        j, (y, x, k, flip) = hits[0]
        assert y % 2 == 0 and x % 2 == 0
        poses.add((k, flip))
    assert len(poses) >= 6  # all 8 drawn; a flat crop can match an earlier pose too


def test_device_patches_of_a_pool_come_with_their_soft_targets(folder):
    import torch

    from kd.degrade import WebcamMix

    files = scan_images([str(folder)])[:2]
    base = PatchSampler(files, 16, webcam=WebcamMix(), webcam_pool=2, pool_rng=np.random.default_rng(3))
    s = DevicePatchSampler(base, torch.device("cpu"))
    # soft targets = the fixed inputs themselves (as float16 in [0, 1]): each target patch must equal its lq patch
    s.set_targets([(a / 255.0).astype(np.float16) for a in base.fixed_inputs()])
    lq, hr, tg = s.sample(32, np.random.default_rng(0))
    assert tg.shape == lq.shape and (tg - lq).abs().max() < 2e-3
    # and each lq patch is cut from one pool copy of the very image its hr patch comes from
    to_u8 = lambda a: np.rint(a.numpy().transpose(1, 2, 0) * 255).astype(np.uint8)
    for lq_p, hr_p in zip(lq[:8], hr[:8]):
        assert any(_find_pose(base.hr[j], base.pool_lq[j][v], to_u8(hr_p), to_u8(lq_p), 16)
                   for j in range(len(files)) for v in range(2))
    with pytest.raises(DataError, match="rebuild the cache"):
        s.set_targets([np.zeros((8, 8, 3), np.float16)])


def test_a_parallel_pool_is_the_same_for_any_number_of_workers(folder):
    from kd.degrade import WebcamMix

    files = scan_images([str(folder)])[:3]
    pools = [PatchSampler(files, 16, webcam=WebcamMix(), webcam_pool=3, pool_rng=np.random.default_rng(9),
                          pool_workers=w).pool_lq for w in (1, 2)]
    assert all(np.array_equal(a, b) for pa, pb in zip(*pools) for a, b in zip(pa, pb))
    assert not np.array_equal(pools[0][0][0], pools[0][0][1])  # each copy its own draw


def test_augment_applies_the_same_transform_to_both():
    a = np.arange(2 * 3 * 1).reshape(2, 3, 1)
    for seed in range(8):
        x, y = augment((a, a.copy()), np.random.default_rng(seed))
        assert np.array_equal(x, y)


def test_val_pairs_are_centre_crops(folder):
    files = scan_images([str(folder)])[:2]
    pairs = val_pairs(files, crop=33, scale=2)
    for lq, hr in pairs:
        assert lq.shape == hr.shape == (1, 3, 32, 32)


def test_scale_augmentation_adds_down_scaled_copies(tmp_path):
    """hr_scales: each image also enters bicubic-down-scaled (antialiased, the protocol's resize) from
    the image as read, then modcropped to the degradation grid, its x2 input made from that copy; copies
    too small for a patch are left out rather than padded; patches come from the copies too; the cache
    key names the copies and is the plain file list without them."""
    from kd.data import load_rgb_u8
    from kd.degrade import bicubic_resize, modcrop

    files = write_photo_folder(tmp_path, size=41, names=("hubble_deep_field", "chelsea"))  # non-square, odd sides
    s = PatchSampler(files, patch_size=24, hr_scales=(1.0, 0.7, 0.3))
    assert s.fractions == [1.0, 0.7, 1.0, 0.7] and s.files == [files[0], files[0], files[1], files[1]]
    for i, f in ((1, files[0]), (3, files[1])):
        full = load_rgb_u8(f)
        h, w = full.shape[:2]
        assert h != w and (h % 2 or w % 2)  # sides that cannot be swapped, or modcropped first, unnoticed
        small = modcrop(bicubic_resize(full, round(w * 0.7), round(h * 0.7)), 2)
        assert np.array_equal(s.hr[i], small) and np.array_equal(s.lq[2][i], bicubic_down_up(small, 2))
    assert np.isclose(s.weights[1] / s.weights[0], s.hr[1].size / s.hr[0].size)
    s.weights = np.eye(4)[1]  # every patch from the first image's 0.7 copy
    lq, hr = s.sample(8, np.random.default_rng(0))
    crops = {s.hr[1][y : y + 24, x : x + 24].tobytes() for y in range(0, s.hr[1].shape[0] - 23, 2) for x in range(0, s.hr[1].shape[1] - 23, 2)}
    poses = [np.rot90(np.rint(p.transpose(1, 2, 0) * 255).astype(np.uint8), k) for p in hr for k in range(4)]
    assert all(any(q.tobytes() in crops or q[:, ::-1].tobytes() in crops for q in poses[4 * n : 4 * n + 4]) for n in range(8))
    assert PatchSampler(files, 24).image_list_key() == "\n".join(map(str, files))  # older caches stay valid
    assert s.image_list_key().splitlines()[1] == f"{files[0]}@0.7"
    with pytest.raises(DataError, match="add 1.0 to hr_scales"):
        PatchSampler(files, 24, hr_scales=(0.3,))

"""Shapes, parameter counts and MACs of every model; the re-param fusion is exact."""
import copy

import pytest
import torch

from kd.models import DnCNN, RealtimeStudent, SeedStudent, build_model, count_params, describe, macs_per_pixel


def test_dncnn_matches_the_spec():
    m = DnCNN()
    assert 555_000 <= count_params(m) <= 560_000  # "~557 K parameters"
    assert len([c for c in m.modules() if isinstance(c, torch.nn.Conv2d)]) == 17
    assert len([c for c in m.modules() if isinstance(c, torch.nn.BatchNorm2d)]) == 15
    assert round(macs_per_pixel(m)) == 556_416


def test_seed_student_has_bn_only_after_layers_3_and_6():
    m = SeedStudent()
    layers = list(m.body)
    convs = [i for i, l in enumerate(layers) if isinstance(l, torch.nn.Conv2d)]
    bns = [i for i, l in enumerate(layers) if isinstance(l, torch.nn.BatchNorm2d)]
    assert len(convs) == 8
    assert [convs.index(i - 1) + 1 for i in bns] == [3, 6]
    assert all(l.out_channels == 32 for l in layers[:-1] if isinstance(l, torch.nn.Conv2d))


@pytest.mark.parametrize("scale,width,depth", [(4, 32, 4), (4, 48, 3), (2, 16, 2)])
def test_realtime_student_cost_formula(scale, width, depth):
    m = RealtimeStudent(scale=scale, width=width, depth=depth)
    expected = 9 * (2 * scale * scale * width + depth * width * width) / (scale * scale)
    assert macs_per_pixel(m) == pytest.approx(expected, rel=0.01)


def test_default_realtime_student_is_inside_the_realtime_budget():
    assert 2_000 <= describe(RealtimeStudent())["macs_per_pixel"] <= 4_000


@pytest.mark.parametrize("model", [DnCNN(depth=5, width=16), SeedStudent(), RealtimeStudent()])
def test_models_start_as_identity_and_keep_shape(model):
    x = torch.rand(2, 3, 36, 44)
    y = model.eval()(x)
    assert y.shape == x.shape
    # zero-initialised last layer: an untrained model passes the input through
    assert torch.allclose(y, x)


def test_realtime_student_changes_luma_only():
    torch.manual_seed(0)
    m = RealtimeStudent(width=8, depth=1)
    for p in m.parameters():
        torch.nn.init.normal_(p, std=0.1)
    x = torch.rand(1, 3, 16, 24)
    d = m(x) - x
    # the same residual on R, G and B: colour differences are untouched
    # ((x + r) - x) is r up to float32 rounding
    assert torch.allclose(d[:, 0], d[:, 1], atol=1e-6) and torch.allclose(d[:, 1], d[:, 2], atol=1e-6)
    assert d.abs().max() > 0


@pytest.mark.parametrize("keep_identity", [True, False])
def test_reparam_fusion_is_exact(keep_identity):
    torch.manual_seed(0)
    m = RealtimeStudent(width=16, depth=2, reparam=True)
    for p in m.parameters():
        torch.nn.init.normal_(p, std=0.05)
    x = torch.rand(1, 3, 32, 40)
    before = m(x)
    m.fuse_reparam(keep_identity=keep_identity)
    assert not m.reparam
    assert torch.allclose(m(x), before, atol=1e-5)
    assert describe(m)["params"] == describe(RealtimeStudent(width=16, depth=2))["params"]
    # kept apart, the identity never lands on the kernel: every weight stays small for int8
    biggest = max(c.conv.weight.abs().max() if keep_identity else c.weight.abs().max() for c in m.body)
    assert (biggest < 0.5) == keep_identity


def test_build_model_by_name_and_refuses_unknown():
    assert isinstance(build_model("SeedStudent", width=16), SeedStudent)
    with pytest.raises(ValueError, match="unknown architecture"):
        build_model("ResNet")


# ---- the collapsible student family (kd/models/collapsible.py)

from kd.models import CollapsibleStudent  # noqa: E402
from kd.models.collapsible import CollapsibleConv  # noqa: E402


@pytest.mark.parametrize("width,depth,kernel,scale", [(16, 5, 3, 2), (8, 2, 3, 2), (16, 3, 5, 2), (32, 5, 3, 4)])
def test_collapsible_student_cost_formula_and_shape(width, depth, kernel, scale):
    m = CollapsibleStudent(width=width, depth=depth, kernel=kernel, expand=32, scale=scale)
    s2 = scale * scale
    expected = kernel * kernel * (2 * s2 * width + depth * width * width) / s2
    info = describe(m)
    assert info["macs_per_pixel"] == pytest.approx(expected, rel=0.001)
    # what ships is the collapsed net: one conv per layer
    assert info["params"] == kernel * kernel * (2 * s2 * width + depth * width * width) + width + depth * width + s2
    x = torch.rand(2, 3, 36, 52)
    assert m(x).shape == x.shape


@pytest.mark.parametrize("depth,outer", [(4, 5), (2, 7)])
def test_collapsible_outer_kernel_cost(depth, outer):
    m = CollapsibleStudent(width=16, depth=depth, kernel=3, outer_kernel=outer, expand=16)
    expected = (2 * 4 * 16 * outer * outer + depth * 16 * 16 * 9) / 4
    assert describe(m)["macs_per_pixel"] == pytest.approx(expected, rel=0.001)
    x = torch.rand(1, 3, 30, 22)
    assert m(x).shape == x.shape
    fused = copy.deepcopy(m).fuse_reparam()
    assert (fused(x) - m(x)).abs().max() < 1e-5


def test_luma_form_equals_the_luma_of_the_rgb_form():
    """`kd export --planes Y` traces forward_luma: on the luma plane it must give the luma change the
    RGB forward gives (BT.601 weights, one residual on all three channels)."""
    torch.manual_seed(2)
    m = CollapsibleStudent(width=8, depth=2, expand=16)
    with torch.no_grad():
        for p in m.parameters():
            p.add_(0.05 * torch.randn_like(p))
    x = torch.rand(1, 3, 26, 34)
    luma = 0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3]
    y_rgb = m(x)
    y_luma = 0.299 * y_rgb[:, 0:1] + 0.587 * y_rgb[:, 1:2] + 0.114 * y_rgb[:, 2:3]
    assert (m.forward_luma(luma) - y_luma).abs().max() < 1e-5


def test_default_collapsible_student_is_under_sesr_m5_cost():
    assert describe(CollapsibleStudent())["macs_per_pixel"] <= 3_400


def test_collapsible_student_is_luma_only_and_starts_near_identity():
    m = CollapsibleStudent()
    x = torch.rand(1, 3, 32, 40)
    y = m(x)
    d = y - x
    assert torch.allclose(d[:, 0], d[:, 1], atol=1e-6) and torch.allclose(d[:, 1], d[:, 2], atol=1e-6)  # one residual, all channels
    assert d.abs().max() < 0.05


def test_collapsed_form_equals_training_form():
    torch.manual_seed(0)
    m = CollapsibleStudent(width=16, depth=3, expand=48)
    with torch.no_grad():  # away from the identity start, so the tail matters
        for p in m.parameters():
            p.add_(0.05 * torch.randn_like(p))
    x = torch.rand(2, 3, 46, 38)
    y_train = m(x)
    fused = copy.deepcopy(m).fuse_reparam()
    assert not any(isinstance(c, CollapsibleConv) for c in fused.modules())
    assert (fused(x) - y_train).abs().max() < 1e-5


def test_collapsible_conv_equals_its_two_factors():
    torch.manual_seed(1)
    c = CollapsibleConv(4, 6, kernel=3, expand=10)
    x = torch.randn(1, 4, 9, 11)
    two_step = torch.nn.functional.conv2d(torch.nn.functional.conv2d(x, c.expand_weight, c.expand_bias, padding=1),
                                          c.reduce_weight[:, :, None, None], c.reduce_bias)
    assert (c(x) - two_step).abs().max() < 1e-5
    with pytest.raises(ValueError):
        CollapsibleConv(4, 6, residual=True)


def test_fake_quant_rounds_like_int8_and_passes_gradients():
    from kd.models.collapsible import WEIGHT_LEVELS, FakeQuantActivation, fake_quant_weight

    torch.manual_seed(2)
    w = torch.randn(6, 4, 3, 3, requires_grad=True)
    q = fake_quant_weight(w)
    scale = w.detach().abs().amax(dim=(1, 2, 3), keepdim=True) / WEIGHT_LEVELS
    steps = q.detach() / scale
    assert torch.allclose(steps, steps.round(), atol=1e-4) and steps.abs().max() <= WEIGHT_LEVELS + 1e-4
    assert 0 < (q - w).abs().max() <= scale.max() / 2 + 1e-6
    q.sum().backward()
    assert torch.equal(w.grad, torch.ones_like(w))  # straight through
    act = FakeQuantActivation()
    x = torch.linspace(-0.2, 3.0, 1000)
    assert torch.equal(act(x), x)  # off until enabled
    act.enabled = True
    y = act(x)
    step = (3.2 / 255)
    assert float(act.low) == pytest.approx(-0.2) and float(act.high) == pytest.approx(3.0)
    assert (y - x).abs().max() <= step / 2 + 1e-6 and len(torch.unique(y)) <= 256
    assert act(torch.zeros(3)).abs().max() == 0  # zero is exact, as in QDQ


def jittered(build, seed: int) -> CollapsibleStudent:
    """`build()` under `seed`, every weight then moved off its initialisation, so rounding shows."""
    torch.manual_seed(seed)
    m = build()
    with torch.no_grad():
        for p in m.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return m


def test_quantization_aware_forward_is_close_and_leaves_the_export_form_alone():
    m = jittered(lambda: CollapsibleStudent(width=16, depth=3, expand=32, scale=4), seed=3)
    x = torch.rand(2, 3, 48, 40)
    plain = m(x).detach()
    m.set_fake_quant(True)
    rounded = m(x)
    assert 0 < (rounded - plain).abs().max() < 0.05
    rounded.mean().backward()  # trains through the rounding
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in m.body[0].parameters())
    assert set(m.state_dict()) == set(CollapsibleStudent(width=16, depth=3, expand=32, scale=4).state_dict())
    fused = copy.deepcopy(m).fuse_reparam()  # the export: plain convs, no rounding
    m.set_fake_quant(False)
    assert (fused(x) - m(x)).abs().max() < 1e-5


@pytest.mark.parametrize("kernel", [3, 5])
def test_folding_the_identity_makes_one_conv_a_block_with_the_same_function(kernel):
    m = jittered(lambda: CollapsibleStudent(width=16, depth=3, kernel=kernel, expand=32, scale=4), seed=5)
    x = torch.rand(1, 3, 44, 36)
    folded = copy.deepcopy(m).fuse_reparam(fold_identity=True)
    kept = copy.deepcopy(m).fuse_reparam()
    assert all(type(b) is torch.nn.Conv2d for b in folded.body) and not any(type(b) is torch.nn.Conv2d for b in kept.body)
    assert not any(isinstance(mod, CollapsibleConv) for net in (folded, kept) for mod in net.modules())  # head and tail too
    assert describe(folded) == describe(m)  # the same convs: params and MACs as shipped
    assert (folded(x) - m(x)).abs().max() < 1e-5 and (kept(x) - m(x)).abs().max() < 1e-5
    diff = folded.body[0].weight - kept.body[0].conv.weight
    c = kernel // 2
    assert torch.allclose(diff[:, :, c, c], torch.eye(16), atol=1e-6)  # the input, as a 1 on each channel's own centre tap
    diff[:, :, c, c] = 0
    assert diff.abs().max() < 1e-6  # and nothing else
    with pytest.raises(ValueError, match="needs the training form"):
        kept.fuse_reparam(fold_identity=True)


def test_quantization_aware_folding_rounds_kernel_plus_identity_and_the_sum_once():
    """`qat_fold_identity`: a body block is rounded as the folded export's conv is (kernel + identity as one
    per-channel int8 kernel), its conv output is not rounded apart, the ReLU after it rounds the sum."""
    import torch.nn.functional as F

    from kd.models.collapsible import fake_quant_weight

    m = jittered(lambda: CollapsibleStudent(width=16, depth=2, expand=32, scale=4), seed=6)
    x = torch.rand(2, 3, 40, 48)
    plain = m(x).detach()
    m.set_fake_quant(True, fold_identity=True)
    rounded = m(x)
    assert 0 < (rounded - plain).abs().max() < 0.05
    assert not any(b.out_quant.enabled or bool(b.out_quant.seen) for b in m.body) and all(bool(q.seen) for q in m.relu_quant)
    f = torch.rand(1, 16, 10, 12)
    exported = m.body[0].fused(fold_identity=True)
    want = F.conv2d(f, fake_quant_weight(exported.weight), exported.bias, padding=1)
    assert torch.allclose(m.body[0](f), want, atol=1e-6)
    rounded.mean().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in m.body[1].parameters())
    m.set_fake_quant(False)
    assert not any(b.fold_identity for b in m.body) and (m(x) - plain).abs().max() < 1e-6


def test_quantization_aware_integer_ends_round_the_input_head_and_tail_too():
    m = jittered(lambda: CollapsibleStudent(width=16, depth=2, expand=32, scale=4), seed=4)
    y_u8 = torch.randint(16, 236, (1, 1, 32, 48)).float()
    y = (y_u8 - 16) / 219  # on the Y plane's grid: rounding the input changes nothing
    m.set_fake_quant(True, integer_ends=True)
    on_grid = m.forward_luma(y)
    m.train(False)
    off = y + 0.3 / 219  # the residual of an off-grid input is that of the grid point it rounds to
    assert ((m.forward_luma(off) - off) - (on_grid - y)).abs().max() < 1e-6
    body_only = copy.deepcopy(m).set_fake_quant(True)
    assert 0 < (body_only.forward_luma(y) - m.forward_luma(y)).abs().max() < 0.05  # head/tail/residual rounded
    assert m.skip_quant.enabled and not m.head.out_quant.enabled and not m.tail.out_quant.enabled
    residual = (m.forward_luma(y) - y) * 219  # the export's residual grid: whole grey levels
    assert torch.allclose(residual, residual.round(), atol=1e-3)
    m.train(True)
    m.forward_luma(y).mean().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in m.head.parameters())
    fused = copy.deepcopy(m).fuse_reparam()
    assert not fused.y_grid_ends and not fused.skip_quant.enabled


@pytest.mark.parametrize("width,depth,coarse_width,coarse_depth", [(16, 1, 28, 5), (8, 0, 16, 2), (12, 2, 20, 1)])
def test_mixed_grid_student_cost_formula_shape_and_collapse(width, depth, coarse_width, coarse_depth):
    """The two-grid student: its cost formula (the default under SESR-M5's 3.4 K), the shape kept at sizes that are
    multiples of 4, one residual on R, G and B, and the collapsed export form equal to the training form."""
    torch.manual_seed(3)
    m = build_model("MixedGridStudent", width=width, depth=depth, coarse_width=coarse_width, coarse_depth=coarse_depth,
                    expand=24)
    expected = (9 * 4 * width * 2 + depth * 9 * width ** 2) / 4 + (2 * 4 * width * coarse_width + coarse_depth * 9 * coarse_width ** 2) / 16
    assert describe(m)["macs_per_pixel"] == pytest.approx(expected, rel=0.001)
    with torch.no_grad():  # away from the identity start, so the tail matters
        for p in m.parameters():
            p.add_(0.05 * torch.randn_like(p))
    x = torch.rand(2, 3, 44, 36)
    y = m(x)
    d = y - x
    assert y.shape == x.shape and d.abs().max() > 1e-3
    assert torch.allclose(d[:, 0], d[:, 1], atol=1e-6) and torch.allclose(d[:, 1], d[:, 2], atol=1e-6)
    luma = 0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3]
    y_luma = 0.299 * y[:, 0:1] + 0.587 * y[:, 1:2] + 0.114 * y[:, 2:3]
    assert (m.forward_luma(luma) - y_luma).abs().max() < 1e-5
    fused = copy.deepcopy(m).fuse_reparam()
    assert not any(isinstance(c, CollapsibleConv) for c in fused.modules())
    assert (fused(x) - y).abs().max() < 1e-5


def test_default_mixed_grid_student_is_under_sesr_m5_cost():
    assert describe(build_model("MixedGridStudent"))["macs_per_pixel"] <= 3_400

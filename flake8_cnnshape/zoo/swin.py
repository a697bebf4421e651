"""torchvision.models.swin_transformer (Swin and Swin V2)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from .convnext import Permute


def merge_patches(x):
    """Each 2 x 2 patch of a (..., H, W, C) tensor as one of 4C, odd sides padded first."""
    H, W = x.shape[-3], x.shape[-2]
    x = F.pad(x, (0, 0, 0, W % 2, 0, H % 2))
    return torch.cat([x[..., 0::2, 0::2, :], x[..., 1::2, 0::2, :], x[..., 0::2, 1::2, :], x[..., 1::2, 1::2, :]], -1)


class PatchMerging(nn.Module):
    """torchvision's PatchMerging, and PatchMergingV2 (v2: the norm after the reduction, over 2C)."""

    def __init__(self, dim, v2=False):
        super().__init__()
        self.v2 = v2
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)
        self.norm = nn.LayerNorm(2 * dim if v2 else 4 * dim)

    def forward(self, x):
        x = merge_patches(x)
        return self.norm(self.reduction(x)) if self.v2 else self.reduction(self.norm(x))


class ShiftedWindowAttention(nn.Module):
    """Attention within windows of a (B, H, W, C) tensor. torchvision pads H and
    W to whole windows, attends, and crops back: the output has the input's
    shape, which this keeps (the windows and the relative position bias change
    no shape)."""

    def __init__(self, dim, window_size, num_heads, v2=False):
        super().__init__()
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)
        if v2:
            self.logit_scale = nn.Parameter(torch.ones(num_heads, 1, 1))
            self.cpb_mlp = nn.Sequential(nn.Linear(2, 512), nn.ReLU(inplace=True), nn.Linear(512, num_heads, bias=False))
        else:
            self.relative_position_bias_table = nn.Parameter(
                torch.zeros((2 * window_size[0] - 1) * (2 * window_size[1] - 1), num_heads))

    def forward(self, x):
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        return self.proj(v)


class SwinTransformerBlock(nn.Module):
    def __init__(self, dim, num_heads, window_size, v2=False, mlp_ratio=4.0):
        super().__init__()
        self.v2 = v2
        self.norm1 = nn.LayerNorm(dim)
        self.attn = ShiftedWindowAttention(dim, window_size, num_heads, v2)
        self.norm2 = nn.LayerNorm(dim)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(0.0), nn.Linear(hidden, dim), nn.Dropout(0.0))

    def forward(self, x):
        if self.v2:
            x = x + self.norm1(self.attn(x))
            return x + self.norm2(self.mlp(x))
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class SwinTransformer(nn.Module):
    # (no norm_layer, block or downsample_layer: a build that gives one is not followed)
    def __init__(self, patch_size, embed_dim, depths, num_heads, window_size, v2=False, mlp_ratio=4.0, dropout=0.0,
                 attention_dropout=0.0, stochastic_depth_prob=0.1, num_classes=1000):
        super().__init__()
        layers = [nn.Sequential(nn.Conv2d(3, embed_dim, kernel_size=(patch_size[0], patch_size[1]),
                                          stride=(patch_size[0], patch_size[1])),
                                Permute([0, 2, 3, 1]), nn.LayerNorm(embed_dim))]
        for i_stage in range(len(depths)):
            dim = embed_dim * 2 ** i_stage
            layers.append(nn.Sequential(*[SwinTransformerBlock(dim, num_heads[i_stage], window_size, v2, mlp_ratio)
                                          for _ in range(depths[i_stage])]))
            if i_stage < len(depths) - 1:
                layers.append(PatchMerging(dim, v2))
        self.features = nn.Sequential(*layers)
        num_features = embed_dim * 2 ** (len(depths) - 1)
        self.norm = nn.LayerNorm(num_features)
        self.permute = Permute([0, 3, 1, 2])
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten(1)
        self.head = nn.Linear(num_features, num_classes)

    def forward(self, x):
        x = self.permute(self.norm(self.features(x)))
        return self.head(self.flatten(self.avgpool(x)))


def swin_t(*, weights=None, progress=True, pretrained=False, **kwargs):
    return SwinTransformer([4, 4], 96, [2, 2, 6, 2], [3, 6, 12, 24], [7, 7], **kwargs)


def swin_s(*, weights=None, progress=True, pretrained=False, **kwargs):
    return SwinTransformer([4, 4], 96, [2, 2, 18, 2], [3, 6, 12, 24], [7, 7], **kwargs)


def swin_b(*, weights=None, progress=True, pretrained=False, **kwargs):
    return SwinTransformer([4, 4], 128, [2, 2, 18, 2], [4, 8, 16, 32], [7, 7], **kwargs)


def swin_v2_t(*, weights=None, progress=True, pretrained=False, **kwargs):
    return SwinTransformer([4, 4], 96, [2, 2, 6, 2], [3, 6, 12, 24], [8, 8], v2=True, **kwargs)


def swin_v2_s(*, weights=None, progress=True, pretrained=False, **kwargs):
    return SwinTransformer([4, 4], 96, [2, 2, 18, 2], [3, 6, 12, 24], [8, 8], v2=True, **kwargs)


def swin_v2_b(*, weights=None, progress=True, pretrained=False, **kwargs):
    return SwinTransformer([4, 4], 128, [2, 2, 18, 2], [4, 8, 16, 32], [8, 8], v2=True, **kwargs)

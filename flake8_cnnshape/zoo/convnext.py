"""torchvision.models.convnext."""
import torch
import torch.nn as nn


class Permute(nn.Module):
    def __init__(self, dims):
        super().__init__()
        self.dims = dims

    def forward(self, x):
        return x.permute(*self.dims)


class LayerNorm2d(nn.Module):
    """A LayerNorm over the channels of an (N, C, H, W) tensor."""

    def __init__(self, channels, eps=1e-6):
        super().__init__()
        self.norm = nn.LayerNorm(channels, eps=eps)

    def forward(self, x):
        return self.norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class CNBlock(nn.Module):
    def __init__(self, dim, layer_scale):
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim, bias=True), Permute([0, 2, 3, 1]),
            nn.LayerNorm(dim, eps=1e-6), nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim),
            Permute([0, 3, 1, 2]))
        self.layer_scale = nn.Parameter(torch.ones(dim, 1, 1))  # times layer_scale in torchvision: the same shape

    def forward(self, x):
        return self.layer_scale * self.block(x) + x


class ConvNeXt(nn.Module):
    def __init__(self, setting, stochastic_depth_prob=0.0, layer_scale=1e-6, num_classes=1000, block=None,
                 norm_layer=None):
        super().__init__()
        first = setting[0][0]
        layers = [nn.Sequential(nn.Conv2d(3, first, kernel_size=4, stride=4, padding=0, bias=True), LayerNorm2d(first))]
        for cin, cout, n in setting:
            layers.append(nn.Sequential(*[CNBlock(cin, layer_scale) for _ in range(n)]))
            if cout is not None:
                layers.append(nn.Sequential(LayerNorm2d(cin), nn.Conv2d(cin, cout, kernel_size=2, stride=2)))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        last = setting[-1][1] if setting[-1][1] is not None else setting[-1][0]
        self.classifier = nn.Sequential(LayerNorm2d(last), nn.Flatten(1), nn.Linear(last, num_classes))

    def forward(self, x):
        return self.classifier(self.avgpool(self.features(x)))


def convnext_tiny(*, weights=None, progress=True, pretrained=False, **kwargs):
    return ConvNeXt([(96, 192, 3), (192, 384, 3), (384, 768, 9), (768, None, 3)], **kwargs)


def convnext_small(*, weights=None, progress=True, pretrained=False, **kwargs):
    return ConvNeXt([(96, 192, 3), (192, 384, 3), (384, 768, 27), (768, None, 3)], **kwargs)


def convnext_base(*, weights=None, progress=True, pretrained=False, **kwargs):
    return ConvNeXt([(128, 256, 3), (256, 512, 3), (512, 1024, 27), (1024, None, 3)], **kwargs)


def convnext_large(*, weights=None, progress=True, pretrained=False, **kwargs):
    return ConvNeXt([(192, 384, 3), (384, 768, 3), (768, 1536, 27), (1536, None, 3)], **kwargs)

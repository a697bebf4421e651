"""torchvision.models.regnet."""
import torch.nn as nn

from .mobilenet import SqueezeExcitation, conv_norm_act

# Each builder's stages as (width, depth, group width), and its squeeze-and-
# excitation ratio: what torchvision's BlockParams.from_init_params works out
# from the builder's settings (depth, w_0, w_a, w_m) in float32 arithmetic,
# written out here (the bottleneck multiplier is 1.0 in every builder).
# tests/test_torchvision.py holds every builder against torchvision.
STAGES = {
    "regnet_y_400mf": ([(48, 1, 8), (104, 3, 8), (208, 6, 8), (440, 6, 8)], 0.25),
    "regnet_y_800mf": ([(64, 1, 16), (144, 3, 16), (320, 8, 16), (784, 2, 16)], 0.25),
    "regnet_y_1_6gf": ([(48, 2, 24), (120, 6, 24), (336, 17, 24), (888, 2, 24)], 0.25),
    "regnet_y_3_2gf": ([(72, 2, 24), (216, 5, 24), (576, 13, 24), (1512, 1, 24)], 0.25),
    "regnet_y_8gf": ([(224, 2, 56), (448, 4, 56), (896, 10, 56), (2016, 1, 56)], 0.25),
    "regnet_y_16gf": ([(224, 2, 112), (448, 4, 112), (1232, 11, 112), (3024, 1, 112)], 0.25),
    "regnet_y_32gf": ([(232, 2, 232), (696, 5, 232), (1392, 12, 232), (3712, 1, 232)], 0.25),
    "regnet_y_128gf": ([(528, 2, 264), (1056, 7, 264), (2904, 17, 264), (7392, 1, 264)], 0.25),
    "regnet_x_400mf": ([(32, 1, 16), (64, 2, 16), (160, 7, 16), (400, 12, 16)], None),
    "regnet_x_800mf": ([(64, 1, 16), (128, 3, 16), (288, 7, 16), (672, 5, 16)], None),
    "regnet_x_1_6gf": ([(72, 2, 24), (168, 4, 24), (408, 10, 24), (912, 2, 24)], None),
    "regnet_x_3_2gf": ([(96, 2, 48), (192, 6, 48), (432, 15, 48), (1008, 2, 48)], None),
    "regnet_x_8gf": ([(80, 2, 80), (240, 5, 120), (720, 15, 120), (1920, 1, 120)], None),
    "regnet_x_16gf": ([(256, 2, 128), (512, 6, 128), (896, 13, 128), (2048, 1, 128)], None),
    "regnet_x_32gf": ([(336, 2, 168), (672, 7, 168), (1344, 13, 168), (2520, 1, 168)], None),
}


class ResBottleneckBlock(nn.Module):
    def __init__(self, width_in, width_out, stride, group_width, se_ratio):
        super().__init__()
        self.proj = None
        if width_in != width_out or stride != 1:
            self.proj = conv_norm_act(width_in, width_out, 1, stride, act=None)
        layers = [conv_norm_act(width_in, width_out, 1, act=nn.ReLU),
                  conv_norm_act(width_out, width_out, 3, stride, groups=width_out // group_width, act=nn.ReLU)]
        if se_ratio:
            layers.append(SqueezeExcitation(width_out, int(round(se_ratio * width_in))))
        layers.append(conv_norm_act(width_out, width_out, 1, act=None))
        self.f = nn.Sequential(*layers)
        self.activation = nn.ReLU(inplace=True)

    def forward(self, x):
        if self.proj is not None:
            x = self.proj(x) + self.f(x)
        else:
            x = x + self.f(x)
        return self.activation(x)


class RegNet(nn.Module):
    # (no stem_type, block_type, norm_layer or activation: a build that gives one is not followed)
    def __init__(self, stages, se_ratio=None, num_classes=1000, stem_width=32):
        super().__init__()
        self.stem = conv_norm_act(3, stem_width, 3, 2, act=nn.ReLU)
        current = stem_width
        blocks = []
        for width, depth, group_width in stages:
            blocks.append(nn.Sequential(*[ResBottleneckBlock(current if i == 0 else width, width, 2 if i == 0 else 1,
                                                             group_width, se_ratio) for i in range(depth)]))
            current = width
        self.trunk_output = nn.Sequential(*blocks)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(current, num_classes)

    def forward(self, x):
        x = self.avgpool(self.trunk_output(self.stem(x)))
        return self.fc(x.flatten(start_dim=1))


def _regnet(name, kwargs):
    stages, se_ratio = STAGES[name]
    return RegNet(stages, se_ratio, **kwargs)


def regnet_y_400mf(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _regnet("regnet_y_400mf", kwargs)


def regnet_y_800mf(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _regnet("regnet_y_800mf", kwargs)


def regnet_y_1_6gf(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _regnet("regnet_y_1_6gf", kwargs)


def regnet_y_3_2gf(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _regnet("regnet_y_3_2gf", kwargs)


def regnet_y_8gf(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _regnet("regnet_y_8gf", kwargs)


def regnet_y_16gf(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _regnet("regnet_y_16gf", kwargs)


def regnet_y_32gf(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _regnet("regnet_y_32gf", kwargs)


def regnet_y_128gf(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _regnet("regnet_y_128gf", kwargs)


def regnet_x_400mf(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _regnet("regnet_x_400mf", kwargs)


def regnet_x_800mf(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _regnet("regnet_x_800mf", kwargs)


def regnet_x_1_6gf(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _regnet("regnet_x_1_6gf", kwargs)


def regnet_x_3_2gf(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _regnet("regnet_x_3_2gf", kwargs)


def regnet_x_8gf(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _regnet("regnet_x_8gf", kwargs)


def regnet_x_16gf(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _regnet("regnet_x_16gf", kwargs)


def regnet_x_32gf(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _regnet("regnet_x_32gf", kwargs)

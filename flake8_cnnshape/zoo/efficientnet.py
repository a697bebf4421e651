"""torchvision.models.efficientnet: EfficientNet B0-B7 and V2."""
import math

import torch
import torch.nn as nn

from .mobilenet import Residual, SqueezeExcitation, conv_norm_act, make_divisible


class MBConv(Residual):
    def __init__(self, expand_ratio, kernel, stride, cin, cout):
        super().__init__()
        self.use_res_connect = stride == 1 and cin == cout
        expanded = make_divisible(cin * expand_ratio, 8)
        layers = []
        if expanded != cin:
            layers.append(conv_norm_act(cin, expanded, kernel_size=1, act=nn.SiLU))
        layers.append(conv_norm_act(expanded, expanded, kernel, stride, expanded, nn.SiLU))
        layers.append(SqueezeExcitation(expanded, max(1, cin // 4), activation=nn.SiLU))
        layers.append(conv_norm_act(expanded, cout, kernel_size=1, act=None))
        self.block = nn.Sequential(*layers)


class FusedMBConv(Residual):
    def __init__(self, expand_ratio, kernel, stride, cin, cout):
        super().__init__()
        self.use_res_connect = stride == 1 and cin == cout
        expanded = make_divisible(cin * expand_ratio, 8)
        if expanded != cin:
            layers = [conv_norm_act(cin, expanded, kernel, stride, act=nn.SiLU),
                      conv_norm_act(expanded, cout, kernel_size=1, act=None)]
        else:
            layers = [conv_norm_act(cin, cout, kernel, stride, act=nn.SiLU)]
        self.block = nn.Sequential(*layers)


# (block, expand ratio, kernel, stride, input channels, output channels, layers) of each stage
V1 = [(MBConv, 1, 3, 1, 32, 16, 1), (MBConv, 6, 3, 2, 16, 24, 2), (MBConv, 6, 5, 2, 24, 40, 2),
      (MBConv, 6, 3, 2, 40, 80, 3), (MBConv, 6, 5, 1, 80, 112, 3), (MBConv, 6, 5, 2, 112, 192, 4),
      (MBConv, 6, 3, 1, 192, 320, 1)]
V2_S = [(FusedMBConv, 1, 3, 1, 24, 24, 2), (FusedMBConv, 4, 3, 2, 24, 48, 4), (FusedMBConv, 4, 3, 2, 48, 64, 4),
        (MBConv, 4, 3, 2, 64, 128, 6), (MBConv, 6, 3, 1, 128, 160, 9), (MBConv, 6, 3, 2, 160, 256, 15)]
V2_M = [(FusedMBConv, 1, 3, 1, 24, 24, 3), (FusedMBConv, 4, 3, 2, 24, 48, 5), (FusedMBConv, 4, 3, 2, 48, 80, 5),
        (MBConv, 4, 3, 2, 80, 160, 7), (MBConv, 6, 3, 1, 160, 176, 14), (MBConv, 6, 3, 2, 176, 304, 18),
        (MBConv, 6, 3, 1, 304, 512, 5)]
V2_L = [(FusedMBConv, 1, 3, 1, 32, 32, 4), (FusedMBConv, 4, 3, 2, 32, 64, 7), (FusedMBConv, 4, 3, 2, 64, 96, 7),
        (MBConv, 4, 3, 2, 96, 192, 10), (MBConv, 6, 3, 1, 192, 224, 19), (MBConv, 6, 3, 2, 224, 384, 25),
        (MBConv, 6, 3, 1, 384, 640, 7)]


def _scaled(setting, width_mult, depth_mult):
    return [(block, e, k, s, make_divisible(cin * width_mult, 8), make_divisible(cout * width_mult, 8),
             int(math.ceil(n * depth_mult))) for block, e, k, s, cin, cout, n in setting]


class EfficientNet(nn.Module):
    def __init__(self, setting, dropout, stochastic_depth_prob=0.2, num_classes=1000, norm_layer=None,
                 last_channel=None):
        super().__init__()
        layers = [conv_norm_act(3, setting[0][4], stride=2, act=nn.SiLU)]
        for block, expand_ratio, kernel, stride, cin, cout, n in setting:
            stage = []
            for i in range(n):
                stage.append(block(expand_ratio, kernel, stride if i == 0 else 1, cin if i == 0 else cout, cout))
            layers.append(nn.Sequential(*stage))
        last_in = setting[-1][5]
        last_out = last_channel if last_channel is not None else 4 * last_in
        layers.append(conv_norm_act(last_in, last_out, kernel_size=1, act=nn.SiLU))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout, inplace=True), nn.Linear(last_out, num_classes))

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))


def efficientnet_b0(*, weights=None, progress=True, pretrained=False, **kwargs):
    return EfficientNet(_scaled(V1, 1.0, 1.0), 0.2, **kwargs)


def efficientnet_b1(*, weights=None, progress=True, pretrained=False, **kwargs):
    return EfficientNet(_scaled(V1, 1.0, 1.1), 0.2, **kwargs)


def efficientnet_b2(*, weights=None, progress=True, pretrained=False, **kwargs):
    return EfficientNet(_scaled(V1, 1.1, 1.2), 0.3, **kwargs)


def efficientnet_b3(*, weights=None, progress=True, pretrained=False, **kwargs):
    return EfficientNet(_scaled(V1, 1.2, 1.4), 0.3, **kwargs)


def efficientnet_b4(*, weights=None, progress=True, pretrained=False, **kwargs):
    return EfficientNet(_scaled(V1, 1.4, 1.8), 0.4, **kwargs)


def efficientnet_b5(*, weights=None, progress=True, pretrained=False, **kwargs):
    return EfficientNet(_scaled(V1, 1.6, 2.2), 0.4, **kwargs)


def efficientnet_b6(*, weights=None, progress=True, pretrained=False, **kwargs):
    return EfficientNet(_scaled(V1, 1.8, 2.6), 0.5, **kwargs)


def efficientnet_b7(*, weights=None, progress=True, pretrained=False, **kwargs):
    return EfficientNet(_scaled(V1, 2.0, 3.1), 0.5, **kwargs)


def efficientnet_v2_s(*, weights=None, progress=True, pretrained=False, **kwargs):
    return EfficientNet(V2_S, 0.2, last_channel=1280, **kwargs)


def efficientnet_v2_m(*, weights=None, progress=True, pretrained=False, **kwargs):
    return EfficientNet(V2_M, 0.3, last_channel=1280, **kwargs)


def efficientnet_v2_l(*, weights=None, progress=True, pretrained=False, **kwargs):
    return EfficientNet(V2_L, 0.4, last_channel=1280, **kwargs)

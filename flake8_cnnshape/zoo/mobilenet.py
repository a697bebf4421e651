"""torchvision.models.mobilenetv2 and mobilenetv3."""
import torch
import torch.nn as nn


def make_divisible(v, divisor, min_value=None):
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def conv_norm_act(cin, cout, kernel_size=3, stride=1, groups=1, act=nn.ReLU6, dilation=1):
    """torchvision.ops.Conv2dNormActivation with BatchNorm2d (act None: no activation)."""
    layers = [nn.Conv2d(cin, cout, kernel_size, stride, (kernel_size - 1) // 2 * dilation, dilation=dilation,
                        groups=groups, bias=False), nn.BatchNorm2d(cout)]
    if act is not None:
        layers.append(act())
    return nn.Sequential(*layers)


class SqueezeExcitation(nn.Module):
    """torchvision.ops.SqueezeExcitation."""

    def __init__(self, input_channels, squeeze_channels, activation=nn.ReLU, scale_activation=nn.Sigmoid):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(input_channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, input_channels, 1)
        self.activation = activation()
        self.scale_activation = scale_activation()

    def forward(self, x):
        scale = self.fc2(self.activation(self.fc1(self.avgpool(x))))
        return self.scale_activation(scale) * x


class InvertedResidual(nn.Module):
    def __init__(self, inp, oup, stride, expand_ratio):
        super().__init__()
        hidden_dim = int(round(inp * expand_ratio))
        self.use_res_connect = stride == 1 and inp == oup
        layers = []
        if expand_ratio != 1:
            layers.append(conv_norm_act(inp, hidden_dim, kernel_size=1))
        layers.extend([conv_norm_act(hidden_dim, hidden_dim, stride=stride, groups=hidden_dim),
                       nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup)])
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        if self.use_res_connect:
            return x + self.conv(x)
        return self.conv(x)


SETTING = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]]


class MobileNetV2(nn.Module):
    def __init__(self, num_classes=1000, width_mult=1.0, inverted_residual_setting=None, round_nearest=8,
                 block=None, norm_layer=None, dropout=0.2):
        super().__init__()
        setting = inverted_residual_setting or SETTING
        input_channel = make_divisible(32 * width_mult, round_nearest)
        self.last_channel = make_divisible(1280 * max(1.0, width_mult), round_nearest)
        features = [conv_norm_act(3, input_channel, stride=2)]
        for t, c, n, s in setting:
            output_channel = make_divisible(c * width_mult, round_nearest)
            for i in range(n):
                features.append(InvertedResidual(input_channel, output_channel, s if i == 0 else 1, t))
                input_channel = output_channel
        features.append(conv_norm_act(input_channel, self.last_channel, kernel_size=1))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout), nn.Linear(self.last_channel, num_classes))

    def forward(self, x):
        x = nn.functional.adaptive_avg_pool2d(self.features(x), (1, 1))
        return self.classifier(torch.flatten(x, 1))


def mobilenet_v2(*, weights=None, progress=True, pretrained=False, **kwargs):
    return MobileNetV2(**kwargs)


class Residual(nn.Module):
    """self.block, plus its input when self.use_res_connect (the same shape in and out)."""

    def forward(self, x):
        out = self.block(x)
        if self.use_res_connect:
            out = out + x
        return out


class InvertedResidualV3(Residual):
    def __init__(self, cin, kernel, expanded, cout, use_se, use_hs, stride, dilation):
        super().__init__()
        self.use_res_connect = stride == 1 and cin == cout
        act = nn.Hardswish if use_hs else nn.ReLU
        layers = []
        if expanded != cin:
            layers.append(conv_norm_act(cin, expanded, kernel_size=1, act=act))
        layers.append(conv_norm_act(expanded, expanded, kernel, 1 if dilation > 1 else stride, expanded, act, dilation))
        if use_se:
            layers.append(SqueezeExcitation(expanded, make_divisible(expanded // 4, 8), scale_activation=nn.Hardsigmoid))
        layers.append(conv_norm_act(expanded, cout, kernel_size=1, act=None))
        self.block = nn.Sequential(*layers)


# (input channels, kernel, expanded, output channels, SE, hard-swish, stride) of each block
LARGE = [(16, 3, 16, 16, False, False, 1), (16, 3, 64, 24, False, False, 2), (24, 3, 72, 24, False, False, 1),
         (24, 5, 72, 40, True, False, 2), (40, 5, 120, 40, True, False, 1), (40, 5, 120, 40, True, False, 1),
         (40, 3, 240, 80, False, True, 2), (80, 3, 200, 80, False, True, 1), (80, 3, 184, 80, False, True, 1),
         (80, 3, 184, 80, False, True, 1), (80, 3, 480, 112, True, True, 1), (112, 3, 672, 112, True, True, 1),
         (112, 5, 672, 160, True, True, 2), (160, 5, 960, 160, True, True, 1), (160, 5, 960, 160, True, True, 1)]
SMALL = [(16, 3, 16, 16, True, False, 2), (16, 3, 72, 24, False, False, 2), (24, 3, 88, 24, False, False, 1),
         (24, 5, 96, 40, True, True, 2), (40, 5, 240, 40, True, True, 1), (40, 5, 240, 40, True, True, 1),
         (40, 5, 120, 48, True, True, 1), (48, 5, 144, 48, True, True, 1), (48, 5, 288, 96, True, True, 2),
         (96, 5, 576, 96, True, True, 1), (96, 5, 576, 96, True, True, 1)]


class MobileNetV3(nn.Module):
    def __init__(self, setting, last_channel, num_classes=1000, dropout=0.2):
        super().__init__()
        layers = [conv_norm_act(3, setting[0][0], stride=2, act=nn.Hardswish)]
        for cin, kernel, expanded, cout, use_se, use_hs, stride in setting:
            layers.append(InvertedResidualV3(cin, kernel, expanded, cout, use_se, use_hs, stride, 1))
        last_in = setting[-1][3]
        layers.append(conv_norm_act(last_in, 6 * last_in, kernel_size=1, act=nn.Hardswish))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Linear(6 * last_in, last_channel), nn.Hardswish(inplace=True),
                                        nn.Dropout(p=dropout, inplace=True), nn.Linear(last_channel, num_classes))

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))


def mobilenet_v3_large(*, weights=None, progress=True, pretrained=False, **kwargs):
    return MobileNetV3(LARGE, 1280, **kwargs)


def mobilenet_v3_small(*, weights=None, progress=True, pretrained=False, **kwargs):
    return MobileNetV3(SMALL, 1024, **kwargs)

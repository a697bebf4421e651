"""torchvision.models.video: r3d_18, mc3_18 and r2plus1d_18 (input (C, T, H, W))."""
import torch.nn as nn


def conv3d(cin, cout, mid, stride=1, kind="3d"):
    """A block's 3x3x3 convolution: full, spatial only ("no_temporal"), or split in two ("2plus1d")."""
    if kind == "no_temporal":
        return nn.Conv3d(cin, cout, (1, 3, 3), (1, stride, stride), (0, 1, 1), bias=False)
    if kind == "2plus1d":
        return nn.Sequential(nn.Conv3d(cin, mid, (1, 3, 3), (1, stride, stride), (0, 1, 1), bias=False),
                             nn.BatchNorm3d(mid), nn.ReLU(inplace=True),
                             nn.Conv3d(mid, cout, (3, 1, 1), (stride, 1, 1), (1, 0, 0), bias=False))
    return nn.Conv3d(cin, cout, (3, 3, 3), stride, 1, bias=False)


class BasicBlock(nn.Module):
    def __init__(self, inplanes, planes, kind, stride=1, downsample=None):
        super().__init__()
        mid = (inplanes * planes * 3 * 3 * 3) // (inplanes * 3 * 3 + 3 * planes)
        self.conv1 = nn.Sequential(conv3d(inplanes, planes, mid, stride, kind), nn.BatchNorm3d(planes), nn.ReLU(inplace=True))
        self.conv2 = nn.Sequential(conv3d(planes, planes, mid, 1, kind), nn.BatchNorm3d(planes))
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        residual = x if self.downsample is None else self.downsample(x)
        return self.relu(self.conv2(self.conv1(x)) + residual)


def basic_stem():
    return nn.Sequential(nn.Conv3d(3, 64, (3, 7, 7), (1, 2, 2), (1, 3, 3), bias=False), nn.BatchNorm3d(64),
                         nn.ReLU(inplace=True))


def r2plus1d_stem():
    return nn.Sequential(nn.Conv3d(3, 45, (1, 7, 7), (1, 2, 2), (0, 3, 3), bias=False), nn.BatchNorm3d(45),
                         nn.ReLU(inplace=True),
                         nn.Conv3d(45, 64, (3, 1, 1), (1, 1, 1), (1, 0, 0), bias=False), nn.BatchNorm3d(64),
                         nn.ReLU(inplace=True))


class VideoResNet(nn.Module):
    def __init__(self, kinds, stem, num_classes=400, zero_init_residual=False):
        super().__init__()
        self.inplanes = 64
        self.stem = stem
        self.layer1 = self._make_layer(kinds[0], 64, 1)
        self.layer2 = self._make_layer(kinds[1], 128, 2)
        self.layer3 = self._make_layer(kinds[2], 256, 2)
        self.layer4 = self._make_layer(kinds[3], 512, 2)
        self.avgpool = nn.AdaptiveAvgPool3d((1, 1, 1))
        self.fc = nn.Linear(512, num_classes)

    def _make_layer(self, kind, planes, stride):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            ds = (1, stride, stride) if kind == "no_temporal" else (stride, stride, stride)
            downsample = nn.Sequential(nn.Conv3d(self.inplanes, planes, kernel_size=1, stride=ds, bias=False),
                                       nn.BatchNorm3d(planes))
        first = BasicBlock(self.inplanes, planes, kind, stride, downsample)
        self.inplanes = planes
        return nn.Sequential(first, BasicBlock(planes, planes, kind))

    def forward(self, x):
        x = self.layer4(self.layer3(self.layer2(self.layer1(self.stem(x)))))
        return self.fc(self.avgpool(x).flatten(1))


def r3d_18(*, weights=None, progress=True, pretrained=False, **kwargs):
    return VideoResNet(["3d"] * 4, basic_stem(), **kwargs)


def mc3_18(*, weights=None, progress=True, pretrained=False, **kwargs):
    return VideoResNet(["3d"] + ["no_temporal"] * 3, basic_stem(), **kwargs)


def r2plus1d_18(*, weights=None, progress=True, pretrained=False, **kwargs):
    return VideoResNet(["2plus1d"] * 4, r2plus1d_stem(), **kwargs)

"""torchvision.models.inception (inception_v3) and googlenet, as in eval mode:
the auxiliary heads are built (their parameters count) but not run."""
import torch
import torch.nn as nn
import torch.nn.functional as F


def conv(cin, cout, **kwargs):
    """BasicConv2d: a convolution without bias, BatchNorm2d, ReLU."""
    return nn.Sequential(nn.Conv2d(cin, cout, bias=False, **kwargs), nn.BatchNorm2d(cout, eps=0.001), nn.ReLU(inplace=True))


class Branches(nn.Module):
    """Branches run on the same input, joined along the channels."""

    def __init__(self, *branches):
        super().__init__()
        self.branches = nn.ModuleList(branches)

    def forward(self, x):
        return torch.cat([branch(x) for branch in self.branches], 1)


class Split(nn.Module):
    """One layer, then two run on its output and joined (InceptionE's 1x3 / 3x1 pairs)."""

    def __init__(self, first, a, b):
        super().__init__()
        self.first = first
        self.a = a
        self.b = b

    def forward(self, x):
        x = self.first(x)
        return torch.cat([self.a(x), self.b(x)], 1)


def inception_a(cin, pool_features):
    return Branches(conv(cin, 64, kernel_size=1),
                    nn.Sequential(conv(cin, 48, kernel_size=1), conv(48, 64, kernel_size=5, padding=2)),
                    nn.Sequential(conv(cin, 64, kernel_size=1), conv(64, 96, kernel_size=3, padding=1),
                                  conv(96, 96, kernel_size=3, padding=1)),
                    nn.Sequential(nn.AvgPool2d(3, 1, 1), conv(cin, pool_features, kernel_size=1)))


def inception_b(cin):
    return Branches(conv(cin, 384, kernel_size=3, stride=2),
                    nn.Sequential(conv(cin, 64, kernel_size=1), conv(64, 96, kernel_size=3, padding=1),
                                  conv(96, 96, kernel_size=3, stride=2)),
                    nn.MaxPool2d(3, 2))


def inception_c(cin, c7):
    return Branches(conv(cin, 192, kernel_size=1),
                    nn.Sequential(conv(cin, c7, kernel_size=1), conv(c7, c7, kernel_size=(1, 7), padding=(0, 3)),
                                  conv(c7, 192, kernel_size=(7, 1), padding=(3, 0))),
                    nn.Sequential(conv(cin, c7, kernel_size=1), conv(c7, c7, kernel_size=(7, 1), padding=(3, 0)),
                                  conv(c7, c7, kernel_size=(1, 7), padding=(0, 3)),
                                  conv(c7, c7, kernel_size=(7, 1), padding=(3, 0)),
                                  conv(c7, 192, kernel_size=(1, 7), padding=(0, 3))),
                    nn.Sequential(nn.AvgPool2d(3, 1, 1), conv(cin, 192, kernel_size=1)))


def inception_d(cin):
    return Branches(nn.Sequential(conv(cin, 192, kernel_size=1), conv(192, 320, kernel_size=3, stride=2)),
                    nn.Sequential(conv(cin, 192, kernel_size=1), conv(192, 192, kernel_size=(1, 7), padding=(0, 3)),
                                  conv(192, 192, kernel_size=(7, 1), padding=(3, 0)),
                                  conv(192, 192, kernel_size=3, stride=2)),
                    nn.MaxPool2d(3, 2))


def inception_e(cin):
    def pair():
        return conv(384, 384, kernel_size=(1, 3), padding=(0, 1)), conv(384, 384, kernel_size=(3, 1), padding=(1, 0))
    return Branches(conv(cin, 320, kernel_size=1),
                    Split(conv(cin, 384, kernel_size=1), *pair()),
                    Split(nn.Sequential(conv(cin, 448, kernel_size=1), conv(448, 384, kernel_size=3, padding=1)), *pair()),
                    nn.Sequential(nn.AvgPool2d(3, 1, 1), conv(cin, 192, kernel_size=1)))


class InceptionAux(nn.Module):
    def __init__(self, cin, num_classes):
        super().__init__()
        self.conv0 = conv(cin, 128, kernel_size=1)
        self.conv1 = conv(128, 768, kernel_size=5)
        self.fc = nn.Linear(768, num_classes)

    def forward(self, x):
        x = self.conv1(self.conv0(F.avg_pool2d(x, kernel_size=5, stride=3)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, (1, 1)), 1))


class Inception3(nn.Module):
    def __init__(self, num_classes=1000, aux_logits=True, transform_input=False, inception_blocks=None,
                 init_weights=None, dropout=0.5):
        super().__init__()
        self.Conv2d_1a_3x3 = conv(3, 32, kernel_size=3, stride=2)
        self.Conv2d_2a_3x3 = conv(32, 32, kernel_size=3)
        self.Conv2d_2b_3x3 = conv(32, 64, kernel_size=3, padding=1)
        self.maxpool1 = nn.MaxPool2d(kernel_size=3, stride=2)
        self.Conv2d_3b_1x1 = conv(64, 80, kernel_size=1)
        self.Conv2d_4a_3x3 = conv(80, 192, kernel_size=3)
        self.maxpool2 = nn.MaxPool2d(kernel_size=3, stride=2)
        self.Mixed_5b = inception_a(192, 32)
        self.Mixed_5c = inception_a(256, 64)
        self.Mixed_5d = inception_a(288, 64)
        self.Mixed_6a = inception_b(288)
        self.Mixed_6b = inception_c(768, 128)
        self.Mixed_6c = inception_c(768, 160)
        self.Mixed_6d = inception_c(768, 160)
        self.Mixed_6e = inception_c(768, 192)
        self.AuxLogits = InceptionAux(768, num_classes) if aux_logits else None
        self.Mixed_7a = inception_d(768)
        self.Mixed_7b = inception_e(1280)
        self.Mixed_7c = inception_e(2048)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(2048, num_classes)

    def forward(self, x):
        x = self.maxpool1(self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x))))
        x = self.maxpool2(self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x)))
        x = self.Mixed_6a(self.Mixed_5d(self.Mixed_5c(self.Mixed_5b(x))))
        x = self.Mixed_6e(self.Mixed_6d(self.Mixed_6c(self.Mixed_6b(x))))
        x = self.Mixed_7c(self.Mixed_7b(self.Mixed_7a(x)))
        x = self.dropout(self.avgpool(x))
        return self.fc(torch.flatten(x, 1))


def inception_v3(*, weights=None, progress=True, pretrained=False, **kwargs):
    return Inception3(**kwargs)


def googlenet_block(cin, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
    return Branches(conv(cin, ch1x1, kernel_size=1),
                    nn.Sequential(conv(cin, ch3x3red, kernel_size=1), conv(ch3x3red, ch3x3, kernel_size=3, padding=1)),
                    nn.Sequential(conv(cin, ch5x5red, kernel_size=1), conv(ch5x5red, ch5x5, kernel_size=3, padding=1)),
                    nn.Sequential(nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
                                  conv(cin, pool_proj, kernel_size=1)))


class GoogLeNetAux(nn.Module):
    def __init__(self, cin, num_classes, dropout=0.7):
        super().__init__()
        self.conv = conv(cin, 128, kernel_size=1)
        self.fc1 = nn.Linear(2048, 1024)
        self.fc2 = nn.Linear(1024, num_classes)
        self.dropout = nn.Dropout(p=dropout)

    def forward(self, x):
        x = torch.flatten(self.conv(F.adaptive_avg_pool2d(x, (4, 4))), 1)
        return self.fc2(self.dropout(F.relu(self.fc1(x))))


class GoogLeNet(nn.Module):
    def __init__(self, num_classes=1000, aux_logits=True, transform_input=False, init_weights=None, blocks=None,
                 dropout=0.2, dropout_aux=0.7):
        super().__init__()
        self.conv1 = conv(3, 64, kernel_size=7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = conv(64, 64, kernel_size=1)
        self.conv3 = conv(64, 192, kernel_size=3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception3a = googlenet_block(192, 64, 96, 128, 16, 32, 32)
        self.inception3b = googlenet_block(256, 128, 128, 192, 32, 96, 64)
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception4a = googlenet_block(480, 192, 96, 208, 16, 48, 64)
        self.inception4b = googlenet_block(512, 160, 112, 224, 24, 64, 64)
        self.inception4c = googlenet_block(512, 128, 128, 256, 24, 64, 64)
        self.inception4d = googlenet_block(512, 112, 144, 288, 32, 64, 64)
        self.inception4e = googlenet_block(528, 256, 160, 320, 32, 128, 128)
        self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.inception5a = googlenet_block(832, 256, 160, 320, 32, 128, 128)
        self.inception5b = googlenet_block(832, 384, 192, 384, 48, 128, 128)
        self.aux1 = GoogLeNetAux(512, num_classes, dropout_aux) if aux_logits else None
        self.aux2 = GoogLeNetAux(528, num_classes, dropout_aux) if aux_logits else None
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(1024, num_classes)

    def forward(self, x):
        x = self.maxpool2(self.conv3(self.conv2(self.maxpool1(self.conv1(x)))))
        x = self.maxpool3(self.inception3b(self.inception3a(x)))
        x = self.inception4d(self.inception4c(self.inception4b(self.inception4a(x))))
        x = self.maxpool4(self.inception4e(x))
        x = self.avgpool(self.inception5b(self.inception5a(x)))
        return self.fc(self.dropout(torch.flatten(x, 1)))


def googlenet(*, weights=None, progress=True, pretrained=False, **kwargs):
    return GoogLeNet(**kwargs)

"""torchvision.models.vision_transformer. A ViT takes only its own image size
(torch asserts it); weights other than the first ImageNet ones may change that
size, so with them the size is not known."""
from collections import OrderedDict

import torch
import torch.nn as nn


class EncoderBlock(nn.Module):
    def __init__(self, num_heads, hidden_dim, mlp_dim, dropout, attention_dropout):
        super().__init__()
        self.ln_1 = nn.LayerNorm(hidden_dim, eps=1e-6)
        self.self_attention = nn.MultiheadAttention(hidden_dim, num_heads, dropout=attention_dropout, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.ln_2 = nn.LayerNorm(hidden_dim, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(hidden_dim, mlp_dim), nn.GELU(), nn.Dropout(dropout),
                                 nn.Linear(mlp_dim, hidden_dim), nn.Dropout(dropout))

    def forward(self, x):
        y = self.ln_1(x)
        y, _ = self.self_attention(y, y, y, need_weights=False)
        x = self.dropout(y) + x
        return x + self.mlp(self.ln_2(x))


class Encoder(nn.Module):
    def __init__(self, seq_length, num_layers, num_heads, hidden_dim, mlp_dim, dropout, attention_dropout):
        super().__init__()
        self.pos_embedding = nn.Parameter(torch.zeros(1, seq_length, hidden_dim))
        self.dropout = nn.Dropout(dropout)
        self.layers = nn.Sequential(*[EncoderBlock(num_heads, hidden_dim, mlp_dim, dropout, attention_dropout)
                                      for _ in range(num_layers)])
        self.ln = nn.LayerNorm(hidden_dim, eps=1e-6)

    def forward(self, x):
        return self.ln(self.layers(self.dropout(x + self.pos_embedding)))


class VisionTransformer(nn.Module):
    def __init__(self, image_size, patch_size, num_layers, num_heads, hidden_dim, mlp_dim, dropout=0.0,
                 attention_dropout=0.0, num_classes=1000, representation_size=None):
        super().__init__()
        self.image_size = image_size
        self.hidden_dim = hidden_dim
        self.conv_proj = nn.Conv2d(3, hidden_dim, kernel_size=patch_size, stride=patch_size)
        self.class_token = nn.Parameter(torch.zeros(1, 1, hidden_dim))
        self.encoder = Encoder((image_size // patch_size) ** 2 + 1, num_layers, num_heads, hidden_dim, mlp_dim, dropout,
                               attention_dropout)
        if representation_size is None:
            self.heads = nn.Sequential(OrderedDict([("head", nn.Linear(hidden_dim, num_classes))]))
        else:
            self.heads = nn.Sequential(OrderedDict([("pre_logits", nn.Linear(hidden_dim, representation_size)),
                                                    ("act", nn.Tanh()),
                                                    ("head", nn.Linear(representation_size, num_classes))]))

    def forward(self, x):
        n = x.shape[0]
        x = x.reshape(n, 3, self.image_size, self.image_size)  # its own image size only
        x = self.conv_proj(x)
        x = x.reshape(n, self.hidden_dim, x.shape[2] * x.shape[3]).permute(0, 2, 1)
        x = torch.cat([self.class_token.expand(n, -1, -1), x], dim=1)
        x = self.encoder(x)
        return self.heads(x[:, 0])


def _image_size(weights, kwargs):
    if "image_size" in kwargs:
        return kwargs.pop("image_size")
    if weights is None or weights == "IMAGENET1K_V1":
        return 224
    return unknown_size()  # noqa: F821 - not defined: the analysis takes the size as unknown


def vit_b_16(*, weights=None, progress=True, pretrained=False, **kwargs):
    return VisionTransformer(_image_size(weights, kwargs), 16, 12, 12, 768, 3072, **kwargs)


def vit_b_32(*, weights=None, progress=True, pretrained=False, **kwargs):
    return VisionTransformer(_image_size(weights, kwargs), 32, 12, 12, 768, 3072, **kwargs)


def vit_l_16(*, weights=None, progress=True, pretrained=False, **kwargs):
    return VisionTransformer(_image_size(weights, kwargs), 16, 24, 16, 1024, 4096, **kwargs)


def vit_l_32(*, weights=None, progress=True, pretrained=False, **kwargs):
    return VisionTransformer(_image_size(weights, kwargs), 32, 24, 16, 1024, 4096, **kwargs)


def vit_h_14(*, weights=None, progress=True, pretrained=False, **kwargs):
    return VisionTransformer(_image_size(weights, kwargs), 14, 32, 16, 1280, 5120, **kwargs)

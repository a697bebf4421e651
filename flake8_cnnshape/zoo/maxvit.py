"""torchvision.models.maxvit."""
import torch
import torch.nn as nn

from .mobilenet import SqueezeExcitation, conv_norm_act


def conv_output_size(size, kernel_size, stride, padding):
    return ((size[0] - kernel_size + 2 * padding) // stride + 1, (size[1] - kernel_size + 2 * padding) // stride + 1)


class MBConv(nn.Module):
    def __init__(self, in_channels, out_channels, stride, expansion_ratio, squeeze_ratio):
        super().__init__()
        if stride != 1 or in_channels != out_channels:
            proj = [nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=1, bias=True)]
            if stride == 2:
                proj = [nn.AvgPool2d(kernel_size=3, stride=stride, padding=1)] + proj
            self.proj = nn.Sequential(*proj)
        else:
            self.proj = nn.Identity()
        mid = int(out_channels * expansion_ratio)
        self.layers = nn.Sequential(nn.BatchNorm2d(in_channels, eps=1e-3, momentum=0.01),
                                    conv_norm_act(in_channels, mid, 1, 1, act=nn.GELU),
                                    conv_norm_act(mid, mid, 3, stride, groups=mid, act=nn.GELU),
                                    SqueezeExcitation(mid, int(out_channels * squeeze_ratio), activation=nn.SiLU),
                                    nn.Conv2d(mid, out_channels, kernel_size=1, bias=True))

    def forward(self, x):
        return self.proj(x) + self.layers(x)


class RelativePositionalMultiHeadAttention(nn.Module):
    """Attention over each partition of a (B, G, P, D) tensor: the output has
    the input's shape (the heads and the position bias change no shape)."""

    def __init__(self, feat_dim, head_dim, max_seq_len):
        super().__init__()
        n_heads = feat_dim // head_dim
        size = int(max_seq_len ** 0.5)
        self.to_qkv = nn.Linear(feat_dim, n_heads * head_dim * 3)
        self.merge = nn.Linear(head_dim * n_heads, feat_dim)
        self.relative_position_bias_table = nn.Parameter(torch.empty((2 * size - 1) * (2 * size - 1), n_heads))

    def forward(self, x):
        q, k, v = torch.chunk(self.to_qkv(x), 3, dim=-1)
        return self.merge(v)


class WindowPartition(nn.Module):
    def forward(self, x, p):
        B, C, H, W = x.shape
        x = x.reshape(B, C, H // p, p, W // p, p)
        x = x.permute(0, 2, 4, 3, 5, 1)
        return x.reshape(B, (H // p) * (W // p), p * p, C)


class WindowDepartition(nn.Module):
    def forward(self, x, p, h_partitions, w_partitions):
        B, G, PP, C = x.shape
        x = x.reshape(B, h_partitions, w_partitions, p, p, C)
        x = x.permute(0, 5, 1, 3, 2, 4)
        return x.reshape(B, C, h_partitions * p, w_partitions * p)


class SwapAxes(nn.Module):
    def __init__(self, a, b):
        super().__init__()
        self.a = a
        self.b = b

    def forward(self, x):
        return torch.swapaxes(x, self.a, self.b)


class PartitionAttentionLayer(nn.Module):
    """The partitions come from the grid size the model was built for, not
    from the input: an input of another size fails, or is reshaped, as in torch."""

    def __init__(self, in_channels, head_dim, partition_size, partition_type, grid_size, mlp_ratio):
        super().__init__()
        self.grid_size = grid_size
        n_partitions = grid_size[0] // partition_size
        if partition_type == "window":
            self.p = partition_size
        else:
            self.p = n_partitions
        self.partition_op = WindowPartition()
        self.departition_op = WindowDepartition()
        self.partition_swap = SwapAxes(-2, -3) if partition_type == "grid" else nn.Identity()
        self.departition_swap = SwapAxes(-2, -3) if partition_type == "grid" else nn.Identity()
        self.attn_layer = nn.Sequential(nn.LayerNorm(in_channels),
                                        RelativePositionalMultiHeadAttention(in_channels, head_dim, partition_size ** 2),
                                        nn.Dropout(0.0))
        self.mlp_layer = nn.Sequential(nn.LayerNorm(in_channels), nn.Linear(in_channels, in_channels * mlp_ratio), nn.GELU(),
                                       nn.Linear(in_channels * mlp_ratio, in_channels), nn.Dropout(0.0))

    def forward(self, x):
        gh, gw = self.grid_size[0] // self.p, self.grid_size[1] // self.p
        x = self.partition_swap(self.partition_op(x, self.p))
        x = x + self.attn_layer(x)
        x = x + self.mlp_layer(x)
        return self.departition_op(self.departition_swap(x), self.p, gh, gw)


class MaxVitLayer(nn.Module):
    def __init__(self, in_channels, out_channels, stride, head_dim, partition_size, grid_size, ratios):
        super().__init__()
        expansion_ratio, squeeze_ratio, mlp_ratio = ratios
        self.layers = nn.Sequential(
            MBConv(in_channels, out_channels, stride, expansion_ratio, squeeze_ratio),
            PartitionAttentionLayer(out_channels, head_dim, partition_size, "window", grid_size, mlp_ratio),
            PartitionAttentionLayer(out_channels, head_dim, partition_size, "grid", grid_size, mlp_ratio))

    def forward(self, x):
        return self.layers(x)


class MaxVitBlock(nn.Module):
    def __init__(self, in_channels, out_channels, head_dim, partition_size, input_grid_size, n_layers, ratios):
        super().__init__()
        self.grid_size = conv_output_size(input_grid_size, 3, 2, 1)
        self.layers = nn.ModuleList()
        for idx in range(n_layers):
            self.layers.append(MaxVitLayer(in_channels if idx == 0 else out_channels, out_channels, 2 if idx == 0 else 1,
                                           head_dim, partition_size, self.grid_size, ratios))

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


class MaxVit(nn.Module):
    # (no norm_layer or activation_layer: a build that gives one is not followed)
    def __init__(self, input_size, stem_channels, partition_size, block_channels, block_layers, head_dim,
                 stochastic_depth_prob=0.0, squeeze_ratio=0.25, expansion_ratio=4, mlp_ratio=4, mlp_dropout=0.0,
                 attention_dropout=0.0, num_classes=1000):
        super().__init__()
        size = conv_output_size(input_size, 3, 2, 1)
        for _ in block_channels:  # torchvision refuses a build whose blocks' inputs do not split into partitions
            size = conv_output_size(size, 3, 2, 1)
            if size[0] % partition_size != 0 or size[1] % partition_size != 0:
                raise ValueError("input_size is not divisible by the partition size")
        self.stem = nn.Sequential(conv_norm_act(3, stem_channels, 3, 2, act=nn.GELU),
                                  nn.Sequential(nn.Conv2d(stem_channels, stem_channels, 3, 1, 1, bias=True)))
        grid = conv_output_size(input_size, 3, 2, 1)
        self.blocks = nn.ModuleList()
        in_channels = [stem_channels] + block_channels[:-1]
        for cin, cout, n in zip(in_channels, block_channels, block_layers):
            self.blocks.append(MaxVitBlock(cin, cout, head_dim, partition_size, grid, n,
                                           (expansion_ratio, squeeze_ratio, mlp_ratio)))
            grid = self.blocks[-1].grid_size
        last = block_channels[-1]
        self.classifier = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.LayerNorm(last), nn.Linear(last, last),
                                        nn.Tanh(), nn.Linear(last, num_classes, bias=False))

    def forward(self, x):
        x = self.stem(x)
        for block in self.blocks:
            x = block(x)
        return self.classifier(x)


def maxvit_t(*, weights=None, progress=True, pretrained=False, input_size=(224, 224), **kwargs):
    return MaxVit(input_size, 64, 7, [64, 128, 256, 512], [2, 2, 5, 2], 32, **kwargs)

"""A deterministic generator of torch-heavy Python projects for the overhead
benchmark: models (nn.Module classes with forward(), nn.Sequential builders,
VGG-style config builders, ResNet blocks, inception-style branches, small
U-Nets, autoencoders, GANs, LSTMs), data loading with torchvision datasets and
transforms, training loops, argparse mains and utility modules (some without
torch at all).

All text is produced here from templates and a seeded random.Random; nothing
is copied from any project. The layer sizes are computed by the generator, so
the models are consistent — except in a few files where one size is made wrong
on purpose; those lines are listed in MANIFEST.json (they tell whether the
plugin did real work on the corpus, they are not a test).
"""
from __future__ import annotations

import ast
import json
import os
import random
import textwrap
from typing import Dict, List, Optional, Tuple

BUG = "  #@BUG:"  # marks a seeded bug while a file is built; removed on writing

# name, per-sample shape, classes, mean, std, keyword for the train split
DATASETS = [
    ("MNIST", (1, 28, 28), 10, "(0.1307,)", "(0.3081,)", "train"),
    ("FashionMNIST", (1, 28, 28), 10, "(0.2860,)", "(0.3530,)", "train"),
    ("KMNIST", (1, 28, 28), 10, "(0.1918,)", "(0.3483,)", "train"),
    ("CIFAR10", (3, 32, 32), 10, "(0.4914, 0.4822, 0.4465)", "(0.2470, 0.2435, 0.2616)", "train"),
    ("CIFAR100", (3, 32, 32), 100, "(0.5071, 0.4865, 0.4409)", "(0.2673, 0.2564, 0.2762)", "train"),
    ("SVHN", (3, 32, 32), 10, "(0.4377, 0.4438, 0.4728)", "(0.1980, 0.2010, 0.1970)", "split"),
    ("STL10", (3, 96, 96), 10, "(0.4467, 0.4398, 0.4066)", "(0.2603, 0.2566, 0.2713)", "split"),
]

PROJECT_NAMES = [
    "cifar_baselines", "digit_lab", "gan_sketches", "text_lstm", "resnet_sweeps", "vgg_study", "tiny_segmentation",
    "denoise_ae", "stl_transfer", "fashion_mlp", "inception_toys", "kmnist_contest", "svhn_house_numbers",
    "course_homework", "paper_repro", "distill_small", "augment_ablation", "lr_finder_exp", "pruning_trials",
    "semi_supervised",
]

CNN_NAMES = ["Net", "SimpleCNN", "ConvNet", "SmallNet", "LeNetLike", "CifarNet", "DigitNet", "TinyConv", "BaselineCNN",
             "ShallowNet", "DeepConv", "Classifier", "FeatureNet", "MiniVGG", "PatchNet", "WideConv", "BabyNet"]


def conv_out(n: int, k: int, s: int = 1, p: int = 0, d: int = 1) -> int:
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def pool_out(n: int, k: int, s: Optional[int] = None, p: int = 0) -> int:
    return (n + 2 * p - k) // (k if s is None else s) + 1


def tconv_out(n: int, k: int, s: int = 1, p: int = 0, op: int = 0) -> int:
    return (n - 1) * s - 2 * p + k + op


def block(text: str, indent: int = 0) -> str:
    text = textwrap.dedent(text).strip("\n")
    return textwrap.indent(text, " " * indent) if indent else text


def tup(values) -> str:
    values = list(values)
    return "(" + ", ".join(str(v) for v in values) + ("," if len(values) == 1 else "") + ")"


class Gen:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.used_names: Dict[str, int] = {}

    # -- small helpers -------------------------------------------------------
    def pick(self, seq):
        return self.rng.choice(list(seq))

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def fresh(self, base: str) -> str:
        n = self.used_names.get(base, 0)
        self.used_names[base] = n + 1
        return base if n == 0 else f"{base}{n + 1}"

    def doc(self, what: str) -> str:
        openers = ["", "A ", "Small ", "Simple ", "Baseline: ", "Experimental ", "Reference "]
        tails = ["", " Used in the ablations.", " Kept small so that it trains on a laptop.",
                 " See the notes in the project README.", " TODO: try wider layers.", ""]
        return (self.pick(openers) + what).strip() + self.pick(tails)

    # -- layer text ----------------------------------------------------------
    def conv_text(self, cin, cout, k, s=1, p=0, bias=None, kwargs_style=None) -> str:
        if kwargs_style is None:
            kwargs_style = self.chance(0.5)
        if kwargs_style:
            parts = [f"in_channels={cin}", f"out_channels={cout}", f"kernel_size={k}"]
            if s != 1:
                parts.append(f"stride={s}")
            if p:
                parts.append(f"padding={p}")
        else:
            parts = [str(cin), str(cout), str(k)]
            if s != 1 or p:
                parts.append(str(s))
            if p:
                parts.append(str(p))
        if bias is not None:
            parts.append(f"bias={bias}")
        return "nn.Conv2d(" + ", ".join(parts) + ")"

    def flat_expr(self, c, h, w) -> str:
        return self.pick([f"{c} * {h} * {w}", str(c * h * w), f"{c} * {h} * {w}"])

    # -- CNN classifiers -------------------------------------------------------
    def cnn_spec(self, shape) -> Tuple[List[dict], Tuple[int, int, int]]:
        c, h, w = shape
        nb = self.rng.randint(2, 4 if h >= 32 else 3)
        widths = sorted(self.rng.sample([16, 20, 32, 48, 64, 96, 128, 256], nb))
        blocks = []
        for i in range(nb):
            k = self.pick([3, 3, 3, 5])
            p = self.pick([0, k // 2])
            if conv_out(h, k, 1, p) < 3:
                p = k // 2
            h2, w2 = conv_out(h, k, 1, p), conv_out(w, k, 1, p)
            pool = h2 >= 4 and (self.chance(0.8) or i == nb - 1)
            blocks.append(dict(cin=c, cout=widths[i], k=k, p=p, bn=self.chance(0.5), pool=pool, hin=h))
            c, h, w = widths[i], h2, w2
            if pool:
                h, w = pool_out(h, 2), pool_out(w, 2)
            if h < 4:
                break
        return blocks, (c, h, w)

    def cnn_class(self, shape, num_classes=10, bug: Optional[str] = None, name: Optional[str] = None) -> Tuple[str, str]:
        """(source, class name) of a conv classifier for `shape`, in one of three styles."""
        name = name or self.fresh(self.pick(CNN_NAMES))
        blocks, (c, h, w) = self.cnn_spec(shape)
        style = self.pick(["attrs", "attrs", "seq", "compact"])
        hidden = self.pick([64, 84, 120, 128, 256, 500, 512])
        second = self.chance(0.3)
        hidden2 = self.pick([64, 84, 128]) if second else None
        drop = self.pick([0.2, 0.25, 0.3, 0.5])
        flat_c, flat_h, flat_w = c, h, w
        bug_line = {}
        if bug == "linear":
            flat_h, flat_w = h + self.pick([1, 2]), w + self.pick([1, 2])
            bug_line["linear"] = "CNS001"
        elif bug == "conv" and len(blocks) > 1:
            blocks[1] = dict(blocks[1], cin_wrong=blocks[1]["cin"] * 2)
        elif bug == "bn":
            b = next((b for b in blocks if b["cin"] != b["cout"]), blocks[0])
            b["bn"] = True
            b["bn_wrong"] = b["cin"] if b["cin"] != b["cout"] else b["cout"] + 8
        flat = self.flat_expr(flat_c, flat_h, flat_w)
        sup = self.pick([f"super({name}, self).__init__()", "super().__init__()"])
        init_sig = f"self, num_classes={num_classes}"
        L: List[str] = [f"class {name}(nn.Module):", f'    """{self.doc("conv classifier.")}"""', "",
                        f"    def __init__({init_sig}):", f"        {sup}"]
        F_ = []  # forward lines

        def cin_of(b):
            return b.get("cin_wrong", b["cin"])

        def mark(b, what):
            if what == "conv" and "cin_wrong" in b:
                return BUG + "CNS002"
            if what == "bn" and "bn_wrong" in b:
                return BUG + "CNS003"
            return ""

        fc_lines = []
        if style == "seq":
            L.append("        self.features = nn.Sequential(")
            for b in blocks:
                L.append(f"            {self.conv_text(cin_of(b), b['cout'], b['k'], 1, b['p'])},{mark(b, 'conv')}")
                if b["bn"]:
                    L.append(f"            nn.BatchNorm2d({b.get('bn_wrong', b['cout'])}),{mark(b, 'bn')}")
                L.append("            " + self.pick(["nn.ReLU(inplace=True),", "nn.ReLU(),", "nn.ReLU(True),"]))
                if b["pool"]:
                    L.append("            " + self.pick(["nn.MaxPool2d(2),", "nn.MaxPool2d(kernel_size=2, stride=2),", "nn.AvgPool2d(2),"]))
            L.append("        )")
            use_flatten = self.chance(0.5)
            L.append("        self.classifier = nn.Sequential(")
            if use_flatten:
                L.append("            nn.Flatten(),")
            L.append(f"            nn.Linear({flat}, {hidden}),{BUG + 'CNS001' if bug_line else ''}")
            L.append("            nn.ReLU(inplace=True),")
            L.append(f"            nn.Dropout({drop}),")
            if second:
                L.append(f"            nn.Linear({hidden}, {hidden2}),")
                L.append("            nn.ReLU(inplace=True),")
            L.append(f"            nn.Linear({hidden2 or hidden}, num_classes),")
            L.append("        )")
            F_.append("        x = self.features(x)")
            if not use_flatten:
                F_.append("        " + self.pick(["x = x.view(x.size(0), -1)", "x = torch.flatten(x, 1)", "x = x.reshape(x.shape[0], -1)"]))
            F_.append("        x = self.classifier(x)")
            F_.append("        return x")
        else:
            shared_pool = self.chance(0.5)
            for i, b in enumerate(blocks, 1):
                L.append(f"        self.conv{i} = {self.conv_text(cin_of(b), b['cout'], b['k'], 1, b['p'])}{mark(b, 'conv')}")
                if b["bn"]:
                    L.append(f"        self.bn{i} = nn.BatchNorm2d({b.get('bn_wrong', b['cout'])}){mark(b, 'bn')}")
            if shared_pool:
                L.append("        self.pool = nn.MaxPool2d(2, 2)")
            L.append(f"        self.dropout = nn.Dropout({drop})")
            fc_lines.append(f"        self.fc1 = nn.Linear({flat}, {hidden}){BUG + 'CNS001' if bug_line else ''}")
            if second:
                fc_lines.append(f"        self.fc2 = nn.Linear({hidden}, {hidden2})")
                fc_lines.append("        self.fc3 = nn.Linear(%s, num_classes)" % hidden2)
            else:
                fc_lines.append(f"        self.fc2 = nn.Linear({hidden}, num_classes)")
            L.extend(fc_lines)
            pool_call = "self.pool(%s)" if shared_pool else self.pick(["F.max_pool2d(%s, 2)", "F.max_pool2d(%s, kernel_size=2)"])
            for i, b in enumerate(blocks, 1):
                if style == "compact":
                    inner = f"self.conv{i}(x)"
                    if b["bn"]:
                        inner = f"self.bn{i}({inner})"
                    inner = f"F.relu({inner})"
                    if b["pool"]:
                        inner = pool_call % inner
                    F_.append(f"        x = {inner}")
                else:
                    F_.append(f"        x = self.conv{i}(x)")
                    if b["bn"]:
                        F_.append(f"        x = self.bn{i}(x)")
                    F_.append("        x = " + self.pick(["F.relu(x)", "torch.relu(x)", "F.relu(x, inplace=True)"]))
                    if b["pool"]:
                        F_.append("        x = " + pool_call % "x")
            F_.append("        " + self.pick(["x = torch.flatten(x, 1)", "x = x.view(x.size(0), -1)", "x = x.flatten(1)"]))
            F_.append("        x = F.relu(self.fc1(x))")
            F_.append("        x = self.dropout(x)")
            if second:
                F_.append("        x = F.relu(self.fc2(x))")
                F_.append("        x = self.fc3(x)")
            else:
                F_.append("        x = self.fc2(x)")
            F_.append("        " + self.pick(["return x", "return F.log_softmax(x, dim=1)", "return x"]))
        L += ["", "    def forward(self, x):"] + F_
        return "\n".join(L), name

    def mlp_class(self, shape, bug=None) -> Tuple[str, str]:
        name = self.fresh(self.pick(["MLP", "FeedForward", "DenseNet2", "FCNet", "PerceptronNet"]))
        n_in = 1
        for d in shape:
            n_in *= d
        hs = sorted(self.rng.sample([64, 100, 128, 256, 300, 512, 1024], self.rng.randint(1, 3)), reverse=True)
        dims = [n_in] + hs
        L = [f"class {name}(nn.Module):", f'    """{self.doc("fully connected network on flattened images.")}"""', "",
             f"    def __init__(self, input_size={n_in}, num_classes=10, p_drop={self.pick([0.1, 0.2, 0.5])}):",
             "        super().__init__()"]
        if self.chance(0.5):
            L.append("        self.layers = nn.Sequential(")
            for a, b in zip(dims, dims[1:]):
                a_txt = "input_size" if a == n_in else str(a + (7 if bug and a != n_in else 0))
                L.append(f"            nn.Linear({a_txt}, {b}),{BUG + 'CNS001' if bug and a != n_in else ''}")
                L.append("            nn.ReLU(),")
                L.append("            nn.Dropout(p_drop),")
                bug = None if a != n_in else bug
            L.append(f"            nn.Linear({dims[-1]}, num_classes),")
            L.append("        )")
            L += ["", "    def forward(self, x):", "        x = x.view(x.size(0), -1)", "        return self.layers(x)"]
        else:
            for i, (a, b) in enumerate(zip(dims, dims[1:]), 1):
                a_txt = "input_size" if i == 1 else str(a)
                L.append(f"        self.fc{i} = nn.Linear({a_txt}, {b})")
            L.append(f"        self.out = nn.Linear({dims[-1]}, num_classes)")
            L.append("        self.drop = nn.Dropout(p_drop)")
            L += ["", "    def forward(self, x):", f"        x = x.view(-1, {n_in})"]
            for i in range(1, len(dims)):
                L.append(f"        x = self.drop(F.relu(self.fc{i}(x)))")
            L.append("        return self.out(x)")
        return "\n".join(L), name

    # -- nn.Sequential builders ------------------------------------------------
    def seq_builder(self, shape, bug=None) -> Tuple[str, str]:
        fname = self.fresh(self.pick(["build_model", "make_cnn", "get_model", "simple_sequential", "baseline_net"]))
        blocks, (c, h, w) = self.cnn_spec(shape)
        L = [f"def {fname}(num_classes=10):", f'    """{self.doc("nn.Sequential model.")}"""', "    model = nn.Sequential("]
        for i, b in enumerate(blocks):
            cin = b["cin"] * 2 if bug == "conv" and i == 1 else b["cin"]
            L.append(f"        {self.conv_text(cin, b['cout'], b['k'], 1, b['p'])},{BUG + 'CNS002' if cin != b['cin'] else ''}")
            if b["bn"]:
                L.append(f"        nn.BatchNorm2d({b['cout']}),")
            L.append("        nn.ReLU(),")
            if b["pool"]:
                L.append("        nn.MaxPool2d(2),")
        hidden = self.pick([64, 128, 256])
        L.append("        nn.Flatten(),")
        L.append(f"        nn.Linear({self.flat_expr(c, h, w)}, {hidden}),")
        L.append("        nn.ReLU(),")
        L.append(f"        nn.Linear({hidden}, num_classes),")
        L.append("    )")
        L.append("    return model")
        return "\n".join(L), fname

    # -- VGG-style config builder ------------------------------------------------
    def vgg_module(self, shape, bug=None) -> Tuple[str, str, str]:
        c, h, _ = shape
        npool = 0
        while h // (2 ** (npool + 1)) >= 1 and npool < 5:
            npool += 1
        token = self.pick(["'M'", "'P'", '"M"'])
        cfgs = {}
        base = self.pick([16, 32, 64])
        for idx, key in enumerate(self.rng.sample(["A", "B", "D", "E", "S", "XS"], self.rng.randint(2, 4))):
            items = []
            width = base
            for s in range(npool):
                for _ in range(self.rng.randint(1, 2 + idx % 2)):
                    items.append(str(width))
                items.append(token)
                width = min(width * 2, 512)
            cfgs[key] = items
        keys = list(cfgs)
        cfg_var = self.pick(["CFG", "cfgs", "VGG_CONFIGS", "layer_cfg"])
        fn = self.pick(["make_layers", "build_features", "make_features"])
        cls = self.fresh(self.pick(["VGG", "VGGNet", "VGGish", "PlainNet"]))
        last = max(int(x) for x in cfgs[keys[0]] if x.isdigit())
        lasts = {k: [int(x) for x in v if x.isdigit()][-1] for k, v in cfgs.items()}
        side = h // (2 ** npool)
        adaptive = self.chance(0.4)
        if adaptive:
            side = self.pick([1, 2])
        same_last = len(set(lasts.values())) == 1
        if not same_last:
            for k in keys:
                cfgs[k][-2] = str(last)
        hidden = self.pick([256, 512, 1024])
        L = [f"{cfg_var} = {{"]
        for k in keys:
            L.append(f"    {k!r}: [{', '.join(cfgs[k])}],")
        L.append("}")
        L += ["", "", f"def {fn}(cfg, batch_norm=False, in_channels={c}):", "    layers = []", "    for v in cfg:",
              f"        if v == {token}:", "            layers += [nn.MaxPool2d(kernel_size=2, stride=2)]", "        else:",
              "            conv = nn.Conv2d(in_channels, v, kernel_size=3, padding=1)", "            if batch_norm:",
              "                layers += [conv, nn.BatchNorm2d(v), nn.ReLU(inplace=True)]", "            else:",
              "                layers += [conv, nn.ReLU(inplace=True)]", "            in_channels = v", "    return nn.Sequential(*layers)",
              "", ""]
        in_feat = f"{last} * {side} * {side}" if side > 1 else str(last)
        if bug:
            in_feat = f"{last // 2} * {side} * {side}" if side > 1 else str(last // 2)
        L += [f"class {cls}(nn.Module):", f'    """{self.doc("VGG-style network built from a config list.")}"""', "",
              f"    def __init__(self, name={keys[0]!r}, num_classes=10, batch_norm={self.pick(['True', 'False'])}):",
              "        super().__init__()", f"        self.features = {fn}({cfg_var}[name], batch_norm=batch_norm)"]
        if adaptive:
            L.append(f"        self.avgpool = nn.AdaptiveAvgPool2d(({side}, {side}))")
        L += ["        self.classifier = nn.Sequential(", f"            nn.Linear({in_feat}, {hidden}),{BUG + 'CNS001' if bug else ''}",
              "            nn.ReLU(True),", "            nn.Dropout(),", f"            nn.Linear({hidden}, num_classes),", "        )",
              "", "    def forward(self, x):", "        x = self.features(x)"]
        if adaptive:
            L.append("        x = self.avgpool(x)")
        L += ["        x = torch.flatten(x, 1)", "        return self.classifier(x)", ""]
        for k in keys:
            L += ["", f"def {cls.lower()}_{k.lower()}(**kwargs):", f"    return {cls}({k!r}, **kwargs)", ""]
        return "\n".join(L).rstrip(), cls, keys[0]

    # -- ResNet ------------------------------------------------------------------
    def resnet_module(self, shape, bug=None) -> Tuple[str, List[str]]:
        c, h, _ = shape
        bottleneck = self.chance(0.35)
        blk = self.pick(["BasicBlock", "ResidualBlock", "ResBlock"])
        short = self.pick(["shortcut", "downsample", "skip"])
        base = self.pick([16, 32, 64])
        nstages = 3 if base == 16 else self.pick([3, 4])
        widths = [base * 2 ** i for i in range(nstages)]
        imagenet_stem = h >= 64 and self.chance(0.7)
        L = [f"class {blk}(nn.Module):", "    expansion = 1", "",
             "    def __init__(self, in_planes, planes, stride=1):", "        super().__init__()",
             "        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)",
             "        self.bn1 = nn.BatchNorm2d(planes)",
             "        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)",
             "        self.bn2 = nn.BatchNorm2d(planes)", f"        self.{short} = nn.Sequential()",
             "        if stride != 1 or in_planes != self.expansion * planes:", f"            self.{short} = nn.Sequential(",
             "                nn.Conv2d(in_planes, self.expansion * planes, kernel_size=1, stride=stride, bias=False),",
             "                nn.BatchNorm2d(self.expansion * planes),", "            )", "", "    def forward(self, x):"]
        if self.chance(0.5):
            L += ["        out = F.relu(self.bn1(self.conv1(x)))", "        out = self.bn2(self.conv2(out))",
                  f"        out += self.{short}(x)", "        out = F.relu(out)", "        return out"]
        else:
            L += ["        identity = x", "        out = self.conv1(x)", "        out = self.bn1(out)", "        out = F.relu(out)",
                  "        out = self.conv2(out)", "        out = self.bn2(out)", f"        out = out + self.{short}(identity)",
                  "        return F.relu(out)"]
        block_name = blk
        if bottleneck:
            L += ["", "", "class Bottleneck(nn.Module):", "    expansion = 4", "",
                  "    def __init__(self, in_planes, planes, stride=1):", "        super().__init__()",
                  "        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=1, bias=False)",
                  "        self.bn1 = nn.BatchNorm2d(planes)",
                  "        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)",
                  "        self.bn2 = nn.BatchNorm2d(planes)",
                  "        self.conv3 = nn.Conv2d(planes, self.expansion * planes, kernel_size=1, bias=False)",
                  "        self.bn3 = nn.BatchNorm2d(self.expansion * planes)", f"        self.{short} = nn.Sequential()",
                  "        if stride != 1 or in_planes != self.expansion * planes:", f"            self.{short} = nn.Sequential(",
                  "                nn.Conv2d(in_planes, self.expansion * planes, kernel_size=1, stride=stride, bias=False),",
                  "                nn.BatchNorm2d(self.expansion * planes),", "            )", "", "    def forward(self, x):",
                  "        out = F.relu(self.bn1(self.conv1(x)))", "        out = F.relu(self.bn2(self.conv2(out)))",
                  "        out = self.bn3(self.conv3(out))", f"        out = out + self.{short}(x)", "        return F.relu(out)"]
            block_name = "Bottleneck"
        net = self.fresh(self.pick(["ResNet", "ResNetCifar", "ResidualNet"]))
        L += ["", "", f"class {net}(nn.Module):", f'    """{self.doc("residual network.")}"""', "",
              f"    def __init__(self, block, num_blocks, num_classes=10, in_channels={c}):", "        super().__init__()",
              f"        self.in_planes = {base}"]
        if imagenet_stem:
            L += [f"        self.conv1 = nn.Conv2d(in_channels, {base}, kernel_size=7, stride=2, padding=3, bias=False)",
                  f"        self.bn1 = nn.BatchNorm2d({base})", "        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)"]
        else:
            L += [f"        self.conv1 = nn.Conv2d(in_channels, {base}, kernel_size=3, stride=1, padding=1, bias=False)",
                  f"        self.bn1 = nn.BatchNorm2d({base})"]
        for i, wd in enumerate(widths, 1):
            L.append(f"        self.layer{i} = self._make_layer(block, {wd}, num_blocks[{i - 1}], stride={1 if i == 1 else 2})")
        adaptive = imagenet_stem or self.chance(0.5)
        final_side = h
        if imagenet_stem:
            final_side = pool_out(conv_out(h, 7, 2, 3), 3, 2, 1)
        for i in range(1, nstages):
            final_side = conv_out(final_side, 3, 2, 1)
        if adaptive:
            L.append("        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))")
        fc_in = f"{widths[-1]} * block.expansion"
        if bug:
            fc_in = f"{widths[-1] // 2} * block.expansion"
        L.append(f"        self.fc = nn.Linear({fc_in}, num_classes){BUG + 'CNS001' if bug else ''}")
        L += ["", "    def _make_layer(self, block, planes, num_blocks, stride):", "        strides = [stride] + [1] * (num_blocks - 1)",
              "        layers = []", "        for s in strides:", "            layers.append(block(self.in_planes, planes, s))",
              "            self.in_planes = planes * block.expansion", "        return nn.Sequential(*layers)", "",
              "    def forward(self, x):", "        out = F.relu(self.bn1(self.conv1(x)))"]
        if imagenet_stem:
            L.append("        out = self.maxpool(out)")
        for i in range(1, nstages + 1):
            L.append(f"        out = self.layer{i}(out)")
        if adaptive:
            L.append("        out = self.avgpool(out)")
        else:
            L.append(f"        out = F.avg_pool2d(out, {final_side})")
        L += ["        out = out.view(out.size(0), -1)", "        out = self.fc(out)", "        return out", ""]
        factories = []
        depth_table = {3: [(20, [3, 3, 3]), (32, [5, 5, 5]), (44, [7, 7, 7])], 4: [(18, [2, 2, 2, 2]), (34, [3, 4, 6, 3])]}
        if bottleneck:
            depth_table[4] = [(50, [3, 4, 6, 3]), (101, [3, 4, 23, 3])]
            depth_table[3] = [(29, [3, 3, 3]), (47, [5, 5, 5])]
        for depth, nb in depth_table[nstages]:
            f = f"{net.lower()}{depth}"
            factories.append(f)
            L += ["", f"def {f}(num_classes=10):", f"    return {net}({block_name}, {nb}, num_classes=num_classes)", ""]
        return "\n".join(L).rstrip(), factories

    # -- inception-style branches ------------------------------------------------
    def inception_module(self, shape, bug=None) -> Tuple[str, str]:
        c, h, _ = shape
        cls = self.fresh(self.pick(["MiniInception", "BranchNet", "GoogLeNetLite"]))
        blk = self.pick(["InceptionBlock", "Mixed", "MultiBranch"])
        L = [f"class {blk}(nn.Module):", "    def __init__(self, in_ch, c1, c3r, c3, c5r, c5, pool_proj):", "        super().__init__()",
             "        self.b1 = nn.Sequential(nn.Conv2d(in_ch, c1, kernel_size=1), nn.BatchNorm2d(c1), nn.ReLU(True))",
             "        self.b2 = nn.Sequential(", "            nn.Conv2d(in_ch, c3r, kernel_size=1), nn.BatchNorm2d(c3r), nn.ReLU(True),",
             "            nn.Conv2d(c3r, c3, kernel_size=3, padding=1), nn.BatchNorm2d(c3), nn.ReLU(True),", "        )",
             "        self.b3 = nn.Sequential(", "            nn.Conv2d(in_ch, c5r, kernel_size=1), nn.BatchNorm2d(c5r), nn.ReLU(True),",
             "            nn.Conv2d(c5r, c5, kernel_size=5, padding=2), nn.BatchNorm2d(c5), nn.ReLU(True),", "        )",
             "        self.b4 = nn.Sequential(", "            nn.MaxPool2d(3, stride=1, padding=1),",
             "            nn.Conv2d(in_ch, pool_proj, kernel_size=1), nn.BatchNorm2d(pool_proj), nn.ReLU(True),", "        )", "",
             "    def forward(self, x):", "        y1 = self.b1(x)", "        y2 = self.b2(x)", "        y3 = self.b3(x)", "        y4 = self.b4(x)",
             "        return torch.cat([y1, y2, y3, y4], 1)", "", ""]
        stem = self.pick([32, 64, 96])
        L += [f"class {cls}(nn.Module):", f'    """{self.doc("network of inception-style blocks.")}"""', "",
              "    def __init__(self, num_classes=10):", "        super().__init__()",
              f"        self.stem = nn.Sequential(nn.Conv2d({c}, {stem}, kernel_size=3, padding=1), nn.BatchNorm2d({stem}), nn.ReLU(True))"]
        ch = stem
        n = self.rng.randint(2, 4)
        names = []
        for i in range(n):
            c1, c3r, c3, c5r, c5, pp = (self.pick([16, 32, 64]), self.pick([16, 32, 48]), self.pick([32, 64, 96]),
                                        self.pick([4, 8, 16]), self.pick([8, 16, 32]), self.pick([8, 16, 32]))
            cin = ch + 8 if (bug and i == n - 1) else ch
            L.append(f"        self.inc{i + 1} = {blk}({cin}, {c1}, {c3r}, {c3}, {c5r}, {c5}, {pp}){BUG + 'CNS002' if cin != ch else ''}")
            names.append(f"inc{i + 1}")
            ch = c1 + c3 + c5 + pp
        L += ["        self.pool = nn.MaxPool2d(2)", "        self.gap = nn.AdaptiveAvgPool2d(1)", f"        self.fc = nn.Linear({ch}, num_classes)",
              "", "    def forward(self, x):", "        x = self.stem(x)"]
        for i, nm in enumerate(names):
            L.append(f"        x = self.{nm}(x)")
            if i % 2 == 1:
                L.append("        x = self.pool(x)")
        L += ["        x = self.gap(x)", "        x = torch.flatten(x, 1)", "        return self.fc(x)"]
        return "\n".join(L), cls

    # -- U-Net ---------------------------------------------------------------------
    def unet_module(self, shape, bug=None) -> Tuple[str, str]:
        c = shape[0]
        cls = self.fresh(self.pick(["TinyUNet", "UNetSmall", "SegNetLite"]))
        base = self.pick([16, 32])
        depth = self.pick([d for d in (2, 3) if shape[1] % 2 ** d == 0 and shape[2] % 2 ** d == 0] or [1])
        n_out = self.pick([1, 2, 4, 21])
        L = ["def double_conv(in_ch, out_ch):", "    return nn.Sequential(", "        nn.Conv2d(in_ch, out_ch, kernel_size=3, padding=1),",
             "        nn.BatchNorm2d(out_ch),", "        nn.ReLU(inplace=True),", "        nn.Conv2d(out_ch, out_ch, kernel_size=3, padding=1),",
             "        nn.BatchNorm2d(out_ch),", "        nn.ReLU(inplace=True),", "    )", "", "",
             f"class {cls}(nn.Module):", f'    """{self.doc("encoder-decoder for segmentation masks.")}"""', "",
             f"    def __init__(self, in_channels={c}, n_classes={n_out}):", "        super().__init__()"]
        ws = [base * 2 ** i for i in range(depth + 1)]
        L.append(f"        self.inc = double_conv(in_channels, {ws[0]})")
        for i in range(1, depth + 1):
            L.append(f"        self.down{i} = double_conv({ws[i - 1]}, {ws[i]})")
        for i in range(depth, 0, -1):
            L.append(f"        self.up{i} = nn.ConvTranspose2d({ws[i]}, {ws[i - 1]}, kernel_size=2, stride=2)")
            cin = ws[i] + (4 if bug and i == 1 else 0)
            L.append(f"        self.dec{i} = double_conv({cin}, {ws[i - 1]}){BUG + 'CNS002' if cin != ws[i] else ''}")
        L += [f"        self.outc = nn.Conv2d({ws[0]}, n_classes, kernel_size=1)", "", "    def forward(self, x):", "        x0 = self.inc(x)"]
        for i in range(1, depth + 1):
            L.append(f"        x{i} = self.down{i}(F.max_pool2d(x{i - 1}, 2))")
        cur = f"x{depth}"
        for i in range(depth, 0, -1):
            L.append(f"        u = self.up{i}({cur})")
            L.append(f"        u = torch.cat([u, x{i - 1}], dim=1)")
            L.append(f"        u = self.dec{i}(u)")
            cur = "u"
        L.append("        return self.outc(u)")
        return "\n".join(L), cls

    # -- autoencoders -----------------------------------------------------------
    def ae_module(self, shape, bug=None) -> Tuple[str, str]:
        c, h, _ = shape
        cls = self.fresh(self.pick(["ConvAutoencoder", "DenoisingAE", "AutoEncoder"]))
        w1, w2 = self.pick([16, 32]), self.pick([32, 64])
        h1 = conv_out(h, 3, 2, 1)
        h2 = conv_out(h1, 3, 2, 1)
        op2 = h1 - tconv_out(h2, 3, 2, 1, 0)
        op1 = h - tconv_out(h1, 3, 2, 1, 0)
        latent = self.pick([16, 32, 64])
        L = [f"class {cls}(nn.Module):", f'    """{self.doc("convolutional autoencoder.")}"""', "",
             f"    def __init__(self, latent_dim={latent}):", "        super().__init__()", "        self.encoder = nn.Sequential(",
             f"            nn.Conv2d({c}, {w1}, 3, stride=2, padding=1),", "            nn.ReLU(True),",
             f"            nn.Conv2d({w1}, {w2}, 3, stride=2, padding=1),", "            nn.ReLU(True),", "        )",
             f"        self.to_latent = nn.Linear({w2} * {h2} * {h2}, latent_dim)",
             f"        self.from_latent = nn.Linear(latent_dim, {w2} * {h2} * {h2})", "        self.decoder = nn.Sequential(",
             f"            nn.ConvTranspose2d({w2 + (8 if bug else 0)}, {w1}, 3, stride=2, padding=1, output_padding={op2}),{BUG + 'CNS002' if bug else ''}",
             "            nn.ReLU(True),", f"            nn.ConvTranspose2d({w1}, {c}, 3, stride=2, padding=1, output_padding={op1}),",
             "            nn.Sigmoid(),", "        )", "", "    def encode(self, x):", "        x = self.encoder(x)",
             "        return self.to_latent(torch.flatten(x, 1))", "", "    def forward(self, x):", "        z = self.encode(x)",
             f"        x = self.from_latent(z).view(-1, {w2}, {h2}, {h2})", "        return self.decoder(x)"]
        return "\n".join(L), cls

    # -- GANs -----------------------------------------------------------------------
    def dcgan_module(self, shape, bug=None) -> Tuple[str, str, str, str]:
        c, h, _ = shape
        zname = self.pick(["nz", "latent_dim", "z_dim"])
        gf, df = self.pick(["ngf", "g_feat"]), self.pick(["ndf", "d_feat"])
        gen, disc = self.fresh("Generator"), self.fresh("Discriminator")
        nz = self.pick([64, 100, 128])
        L = [f"{zname} = {nz}", f"{gf} = {self.pick([32, 64])}", f"{df} = {self.pick([32, 64])}", f"nc = {c}", "", ""]
        if h == 28:
            L += [f"class {gen}(nn.Module):", "    def __init__(self):", "        super().__init__()",
                  f"        self.fc = nn.Linear({zname}, {gf} * 2 * 7 * 7)", "        self.net = nn.Sequential(",
                  f"            nn.BatchNorm2d({gf} * 2),", "            nn.ReLU(True),",
                  f"            nn.ConvTranspose2d({gf} * 2, {gf}, 4, 2, 1),", f"            nn.BatchNorm2d({gf}),", "            nn.ReLU(True),",
                  f"            nn.ConvTranspose2d({gf}, nc, 4, 2, 1),", "            nn.Tanh(),", "        )", "",
                  "    def forward(self, z):", f"        x = self.fc(z).view(-1, {gf} * 2, 7, 7)", "        return self.net(x)", "", "",
                  f"class {disc}(nn.Module):", "    def __init__(self):", "        super().__init__()", "        self.net = nn.Sequential(",
                  f"            nn.Conv2d(nc, {df}, 4, 2, 1),", "            nn.LeakyReLU(0.2, inplace=True),",
                  f"            nn.Conv2d({df}, {df} * 2, 4, 2, 1),", f"            nn.BatchNorm2d({df} * 2),", "            nn.LeakyReLU(0.2, inplace=True),",
                  "            nn.Flatten(),", f"            nn.Linear({df} * 2 * {7 + (1 if bug else 0)} * 7, 1),{BUG + 'CNS001' if bug else ''}",
                  "            nn.Sigmoid(),", "        )", "", "    def forward(self, img):", "        return self.net(img).view(-1)"]
        else:
            n_up = {32: 3, 64: 4, 96: 4}[h] if h in (32, 64, 96) else 3
            mults = [2 ** i for i in range(n_up - 1, -1, -1)]
            L += [f"class {gen}(nn.Module):", "    def __init__(self):", "        super().__init__()", "        self.main = nn.Sequential(",
                  f"            nn.ConvTranspose2d({zname}, {gf} * {mults[0]}, 4, 1, 0, bias=False),",
                  f"            nn.BatchNorm2d({gf} * {mults[0]}),", "            nn.ReLU(True),"]
            for a, b in zip(mults, mults[1:]):
                L += [f"            nn.ConvTranspose2d({gf} * {a}, {gf} * {b}, 4, 2, 1, bias=False),", f"            nn.BatchNorm2d({gf} * {b}),",
                      "            nn.ReLU(True),"]
            L += [f"            nn.ConvTranspose2d({gf}, nc, 4, 2, 1, bias=False),", "            nn.Tanh(),", "        )", "",
                  "    def forward(self, z):", "        return self.main(z)", "", "",
                  f"class {disc}(nn.Module):", "    def __init__(self):", "        super().__init__()", "        self.main = nn.Sequential(",
                  f"            nn.Conv2d(nc, {df}, 4, 2, 1, bias=False),", "            nn.LeakyReLU(0.2, inplace=True),"]
            prev = 1
            for i, m in enumerate(reversed(mults[:-1])):
                cin = f"{df} * {prev}" if prev > 1 else df
                bad = bug and i == 1
                if bad:
                    cin = f"{df} * {prev * 2}"
                L += [f"            nn.Conv2d({cin}, {df} * {m}, 4, 2, 1, bias=False),{BUG + 'CNS002' if bad else ''}",
                      f"            nn.BatchNorm2d({df} * {m}),",
                      "            nn.LeakyReLU(0.2, inplace=True),"]
                prev = m
            L += [f"            nn.Conv2d({df} * {prev}, 1, 4, 1, 0, bias=False),", "            nn.Sigmoid(),", "        )", "",
                  "    def forward(self, img):", "        return self.main(img).view(-1, 1).squeeze(1)"]
        return "\n".join(L), gen, disc, zname

    # -- recurrent text models --------------------------------------------------------
    def rnn_module(self) -> Tuple[str, str]:
        cls = self.fresh(self.pick(["LSTMClassifier", "TextRNN", "SentimentLSTM", "GRUTagger"]))
        cell = self.pick(["LSTM", "GRU"])
        bi = self.chance(0.5)
        L = [f"class {cls}(nn.Module):", f'    """{self.doc("recurrent text classifier.")}"""', "",
             f"    def __init__(self, vocab_size, embed_dim={self.pick([64, 100, 128, 300])}, hidden_dim={self.pick([64, 128, 256])},",
             f"                 num_layers={self.pick([1, 2])}, num_classes={self.pick([2, 4, 5])}, dropout={self.pick([0.1, 0.3, 0.5])}):",
             "        super().__init__()", "        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0)",
             f"        self.rnn = nn.{cell}(embed_dim, hidden_dim, num_layers=num_layers, batch_first=True,",
             f"                          bidirectional={bi}, dropout=dropout if num_layers > 1 else 0.0)",
             "        self.dropout = nn.Dropout(dropout)", f"        self.fc = nn.Linear(hidden_dim * {2 if bi else 1}, num_classes)", "",
             "    def forward(self, tokens, lengths=None):", "        emb = self.dropout(self.embedding(tokens))",
             "        out, _ = self.rnn(emb)", "        if lengths is not None:",
             "            idx = (lengths - 1).view(-1, 1, 1).expand(-1, 1, out.size(2))", "            last = out.gather(1, idx).squeeze(1)",
             "        else:", "            last = out[:, -1, :]", "        return self.fc(self.dropout(last))"]
        return "\n".join(L), cls

    # -- a model for a shape, any family --------------------------------------------------
    def any_model(self, shape, bug=None) -> Tuple[str, str, str]:
        """(source, constructor expression, family) for an image classifier."""
        fam = self.pick(["cnn", "cnn", "cnn", "mlp", "vgg", "resnet", "inception"])
        if fam == "mlp":
            src, name = self.mlp_class(shape, bug="linear" if bug else None)
            return src, f"{name}()", fam
        if fam == "vgg":
            src, name, key = self.vgg_module(shape, bug)
            return src, f"{name}({key!r})", fam
        if fam == "resnet":
            src, facts = self.resnet_module(shape, bug)
            return src, f"{facts[0]}()", fam
        if fam == "inception":
            src, name = self.inception_module(shape, bug)
            return src, f"{name}()", fam
        src, name = self.cnn_class(shape, bug=bug)
        return src, f"{name}()", fam


# ----------------------------------------------------------------------------
# Helpers that surround the models: utilities, data, training, mains.
# (name, uses torch, template); {a}, {b} ... are filled with random values.
# ----------------------------------------------------------------------------
UTILS = [
    ("AverageMeter", False, '''
        class AverageMeter(object):
            """Keeps the running average of a scalar (loss, accuracy)."""

            def __init__(self, name="meter", fmt=":f"):
                self.name = name
                self.fmt = fmt
                self.reset()

            def reset(self):
                self.val = 0
                self.avg = 0
                self.sum = 0
                self.count = 0

            def update(self, val, n=1):
                self.val = val
                self.sum += val * n
                self.count += n
                self.avg = self.sum / max(self.count, 1)

            def __str__(self):
                fmtstr = "{{name}} {{val" + self.fmt + "}} ({{avg" + self.fmt + "}})"
                return fmtstr.format(**self.__dict__)
        '''),
    ("accuracy", True, '''
        def accuracy(output, target, topk=(1,)):
            """Computes the precision@k for the specified values of k."""
            with torch.no_grad():
                maxk = max(topk)
                batch_size = target.size(0)
                _, pred = output.topk(maxk, 1, True, True)
                pred = pred.t()
                correct = pred.eq(target.view(1, -1).expand_as(pred))
                res = []
                for k in topk:
                    correct_k = correct[:k].reshape(-1).float().sum(0, keepdim=True)
                    res.append(correct_k.mul_(100.0 / batch_size))
                return res
        '''),
    ("save_checkpoint", True, '''
        def save_checkpoint(state, is_best, checkpoint_dir="{a}", filename="checkpoint.pth.tar"):
            os.makedirs(checkpoint_dir, exist_ok=True)
            path = os.path.join(checkpoint_dir, filename)
            torch.save(state, path)
            if is_best:
                shutil.copyfile(path, os.path.join(checkpoint_dir, "model_best.pth.tar"))
            return path
        '''),
    ("load_checkpoint", True, '''
        def load_checkpoint(model, path, optimizer=None, map_location="cpu"):
            if not os.path.isfile(path):
                raise FileNotFoundError("no checkpoint found at '{{}}'".format(path))
            checkpoint = torch.load(path, map_location=map_location)
            state = checkpoint.get("state_dict", checkpoint)
            # checkpoints saved from nn.DataParallel carry a 'module.' prefix
            state = {{k.replace("module.", "", 1): v for k, v in state.items()}}
            model.load_state_dict(state)
            if optimizer is not None and "optimizer" in checkpoint:
                optimizer.load_state_dict(checkpoint["optimizer"])
            return checkpoint.get("epoch", 0), checkpoint.get("best_acc", 0.0)
        '''),
    ("set_seed", True, '''
        def set_seed(seed={a}, deterministic=False):
            random.seed(seed)
            np.random.seed(seed)
            torch.manual_seed(seed)
            if torch.cuda.is_available():
                torch.cuda.manual_seed_all(seed)
            if deterministic:
                torch.backends.cudnn.deterministic = True
                torch.backends.cudnn.benchmark = False
        '''),
    ("count_parameters", True, '''
        def count_parameters(model, trainable_only=True):
            params = model.parameters()
            if trainable_only:
                params = (p for p in params if p.requires_grad)
            return sum(p.numel() for p in params)
        '''),
    ("init_weights", True, '''
        def init_weights(m):
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0)
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, {b})
                nn.init.constant_(m.bias, 0)
        '''),
    ("get_lr", True, '''
        def get_lr(optimizer):
            for param_group in optimizer.param_groups:
                return param_group["lr"]
        '''),
    ("adjust_learning_rate", False, '''
        def adjust_learning_rate(optimizer, epoch, base_lr, schedule=({c}, {d}), gamma=0.1):
            """Step decay: multiply the rate by gamma at every epoch in schedule."""
            lr = base_lr
            for milestone in schedule:
                if epoch >= milestone:
                    lr *= gamma
            for param_group in optimizer.param_groups:
                param_group["lr"] = lr
            return lr
        '''),
    ("format_time", False, '''
        def format_time(seconds):
            days = int(seconds / 3600 / 24)
            seconds = seconds - days * 3600 * 24
            hours = int(seconds / 3600)
            seconds = seconds - hours * 3600
            minutes = int(seconds / 60)
            seconds = seconds - minutes * 60
            secondsf = int(seconds)
            millis = int((seconds - secondsf) * 1000)
            parts = []
            for value, unit in ((days, "D"), (hours, "h"), (minutes, "m"), (secondsf, "s"), (millis, "ms")):
                if value > 0 and len(parts) < 2:
                    parts.append("%d%s" % (value, unit))
            return "".join(parts) or "0ms"
        '''),
    ("progress_bar", False, '''
        def progress_bar(current, total, msg=None, width={a}):
            filled = int(width * (current + 1) / total)
            bar = "=" * filled + ">" + "." * (width - filled - 1)
            line = " [%s] %d/%d" % (bar, current + 1, total)
            if msg:
                line += " | " + msg
            sys.stdout.write("\\r" + line)
            if current + 1 >= total:
                sys.stdout.write("\\n")
            sys.stdout.flush()
        '''),
    ("Logger", False, '''
        class Logger(object):
            """Appends one row per epoch to a CSV file and echoes it."""

            def __init__(self, path, fields=("epoch", "train_loss", "val_loss", "val_acc"), resume=False):
                self.path = path
                self.fields = list(fields)
                mode = "a" if resume and os.path.exists(path) else "w"
                self.file = open(path, mode)
                if mode == "w":
                    self.file.write(",".join(self.fields) + "\\n")

            def log(self, **values):
                row = [str(values.get(f, "")) for f in self.fields]
                self.file.write(",".join(row) + "\\n")
                self.file.flush()
                print("  ".join("%s=%s" % (f, values.get(f)) for f in self.fields))

            def close(self):
                self.file.close()
        '''),
    ("EarlyStopping", False, '''
        class EarlyStopping:
            def __init__(self, patience={a}, min_delta=0.0, mode="min"):
                self.patience = patience
                self.min_delta = min_delta
                self.mode = mode
                self.best = None
                self.bad_epochs = 0

            def step(self, metric):
                if self.best is None:
                    self.best = metric
                    return False
                improved = metric < self.best - self.min_delta if self.mode == "min" else metric > self.best + self.min_delta
                if improved:
                    self.best = metric
                    self.bad_epochs = 0
                else:
                    self.bad_epochs += 1
                return self.bad_epochs >= self.patience
        '''),
    ("Timer", False, '''
        class Timer:
            def __init__(self):
                self.times = []
                self.start()

            def start(self):
                self.tik = time.time()

            def stop(self):
                self.times.append(time.time() - self.tik)
                return self.times[-1]

            def avg(self):
                return sum(self.times) / len(self.times) if self.times else 0.0

            def total(self):
                return sum(self.times)
        '''),
    ("load_config", False, '''
        def load_config(path, overrides=None):
            with open(path) as f:
                if path.endswith((".yml", ".yaml")):
                    import yaml
                    cfg = yaml.safe_load(f)
                else:
                    cfg = json.load(f)
            for item in overrides or []:
                key, _, value = item.partition("=")
                node = cfg
                parts = key.split(".")
                for part in parts[:-1]:
                    node = node.setdefault(part, {{}})
                try:
                    node[parts[-1]] = json.loads(value)
                except ValueError:
                    node[parts[-1]] = value
            return cfg
        '''),
    ("plot_history", False, '''
        def plot_history(history, out_path="{a}.png"):
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
            fig, axes = plt.subplots(1, 2, figsize=(10, 4))
            axes[0].plot(history["train_loss"], label="train")
            axes[0].plot(history["val_loss"], label="val")
            axes[0].set_xlabel("epoch")
            axes[0].set_ylabel("loss")
            axes[0].legend()
            axes[1].plot(history["val_acc"], color="tab:green")
            axes[1].set_xlabel("epoch")
            axes[1].set_ylabel("accuracy (%)")
            fig.tight_layout()
            fig.savefig(out_path, dpi={b})
            plt.close(fig)
        '''),
    ("ConfusionMatrix", False, '''
        class ConfusionMatrix:
            def __init__(self, num_classes):
                self.num_classes = num_classes
                self.mat = np.zeros((num_classes, num_classes), dtype=np.int64)

            def update(self, preds, targets):
                for p, t in zip(preds, targets):
                    self.mat[int(t), int(p)] += 1

            def per_class_accuracy(self):
                totals = self.mat.sum(axis=1)
                return np.divide(np.diag(self.mat), np.maximum(totals, 1))

            def summary(self, class_names=None):
                names = class_names or [str(i) for i in range(self.num_classes)]
                lines = []
                for name, acc in zip(names, self.per_class_accuracy()):
                    lines.append("%-12s %6.2f%%" % (name, 100.0 * acc))
                return "\\n".join(lines)
        '''),
    ("mixup", True, '''
        def mixup_data(x, y, alpha={b}, device="cpu"):
            lam = np.random.beta(alpha, alpha) if alpha > 0 else 1.0
            index = torch.randperm(x.size(0), device=device)
            mixed_x = lam * x + (1 - lam) * x[index, :]
            return mixed_x, y, y[index], lam


        def mixup_criterion(criterion, pred, y_a, y_b, lam):
            return lam * criterion(pred, y_a) + (1 - lam) * criterion(pred, y_b)
        '''),
    ("LabelSmoothingLoss", True, '''
        class LabelSmoothingLoss(nn.Module):
            def __init__(self, classes, smoothing={b}, dim=-1):
                super().__init__()
                self.confidence = 1.0 - smoothing
                self.smoothing = smoothing
                self.cls = classes
                self.dim = dim

            def forward(self, pred, target):
                pred = pred.log_softmax(dim=self.dim)
                with torch.no_grad():
                    true_dist = torch.zeros_like(pred)
                    true_dist.fill_(self.smoothing / (self.cls - 1))
                    true_dist.scatter_(1, target.data.unsqueeze(1), self.confidence)
                return torch.mean(torch.sum(-true_dist * pred, dim=self.dim))
        '''),
    ("ModelEMA", True, '''
        class ModelEMA:
            """Exponential moving average of a model's weights."""

            def __init__(self, model, decay=0.{a}9):
                self.decay = decay
                self.shadow = {{k: v.detach().clone() for k, v in model.state_dict().items()}}

            @torch.no_grad()
            def update(self, model):
                for k, v in model.state_dict().items():
                    if v.dtype.is_floating_point:
                        self.shadow[k].mul_(self.decay).add_(v.detach(), alpha=1 - self.decay)
                    else:
                        self.shadow[k].copy_(v)

            def apply_to(self, model):
                model.load_state_dict(self.shadow)
        '''),
    ("mkdir_p", False, '''
        def mkdir_p(path):
            """make dir if not exist"""
            try:
                os.makedirs(path)
            except OSError as exc:
                if exc.errno == errno.EEXIST and os.path.isdir(path):
                    pass
                else:
                    raise
        '''),
    ("get_device", True, '''
        def get_device(prefer_gpu=True):
            if prefer_gpu and torch.cuda.is_available():
                return torch.device("cuda")
            if prefer_gpu and getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
                return torch.device("mps")
            return torch.device("cpu")
        '''),
    ("WarmupCosine", False, '''
        class WarmupCosine:
            def __init__(self, optimizer, warmup_epochs={c}, total_epochs={d}, base_lr=0.1, min_lr=1e-5):
                self.optimizer = optimizer
                self.warmup = warmup_epochs
                self.total = total_epochs
                self.base_lr = base_lr
                self.min_lr = min_lr

            def lr_at(self, epoch):
                if epoch < self.warmup:
                    return self.base_lr * (epoch + 1) / self.warmup
                progress = (epoch - self.warmup) / max(1, self.total - self.warmup)
                return self.min_lr + 0.5 * (self.base_lr - self.min_lr) * (1 + math.cos(math.pi * progress))

            def step(self, epoch):
                lr = self.lr_at(epoch)
                for group in self.optimizer.param_groups:
                    group["lr"] = lr
                return lr
        '''),
    ("moving_average", False, '''
        def moving_average(values, window={a}):
            out = []
            acc = 0.0
            for i, v in enumerate(values):
                acc += v
                if i >= window:
                    acc -= values[i - window]
                out.append(acc / min(i + 1, window))
            return out
        '''),
]

SCRIPT_STD = ["argparse", "os", "time", "shutil", "math", "random", "sys", "json", "errno"]
UTIL_IMPORTS = "import errno\nimport json\nimport math\nimport os\nimport random\nimport shutil\nimport sys\nimport time\n\nimport numpy as np"

ARGS = [
    ("--batch-size", "type=int, default={bs}", "input batch size for training (default: {bs})"),
    ("--test-batch-size", "type=int, default=1000", "input batch size for testing (default: 1000)"),
    ("--epochs", "type=int, default={ep}", "number of epochs to train (default: {ep})"),
    ("--lr", "type=float, default={lr}", "learning rate (default: {lr})"),
    ("--momentum", "type=float, default=0.9", "SGD momentum (default: 0.9)"),
    ("--weight-decay", "type=float, default=5e-4", "weight decay (default: 5e-4)"),
    ("--gamma", "type=float, default=0.7", "learning rate step gamma (default: 0.7)"),
    ("--no-cuda", "action='store_true', default=False", "disables CUDA training"),
    ("--dry-run", "action='store_true', default=False", "quickly check a single pass"),
    ("--seed", "type=int, default=1", "random seed (default: 1)"),
    ("--log-interval", "type=int, default=10", "how many batches to wait before logging training status"),
    ("--save-model", "action='store_true', default=False", "for saving the current model"),
    ("--data", "type=str, default='./data'", "where the dataset is downloaded"),
    ("--workers", "type=int, default=2", "number of data loading workers"),
    ("--resume", "type=str, default=''", "path to latest checkpoint (default: none)"),
    ("--optimizer", "type=str, default='sgd', choices=['sgd', 'adam', 'adamw']", "optimizer"),
    ("--out-dir", "type=str, default='runs'", "where checkpoints and logs go"),
]


class Files(Gen):
    """Whole files, built from sections."""

    # -- sections ---------------------------------------------------------------
    def util_section(self, name_tmpl) -> str:
        _, _, tmpl = name_tmpl
        vals = dict(a=self.pick([5, 7, 10, 20, 42, 50]), b=self.pick([0.01, 0.1, 0.2, 0.4]), c=self.pick([5, 30, 60]),
                    d=self.pick([90, 120, 150, 200]))
        return block(tmpl.format(**vals))

    def train_fn(self, style=None) -> str:
        style = style or self.pick(["examples", "meter", "amp", "tqdm"])
        crit = self.pick(["F.nll_loss(output, target)", "F.cross_entropy(output, target)", "criterion(output, target)"])
        if style == "examples":
            return block(f'''
                def train(args, model, device, train_loader, optimizer, epoch, criterion=None):
                    model.train()
                    for batch_idx, (data, target) in enumerate(train_loader):
                        data, target = data.to(device), target.to(device)
                        optimizer.zero_grad()
                        output = model(data)
                        loss = {crit}
                        loss.backward()
                        optimizer.step()
                        if batch_idx % args.log_interval == 0:
                            print('Train Epoch: {{}} [{{}}/{{}} ({{:.0f}}%)]\\tLoss: {{:.6f}}'.format(
                                epoch, batch_idx * len(data), len(train_loader.dataset),
                                100. * batch_idx / len(train_loader), loss.item()))
                            if args.dry_run:
                                break
                ''')
        if style == "amp":
            return block(f'''
                def train_one_epoch(model, loader, optimizer, device, epoch, criterion=None, scaler=None, clip={self.pick([1.0, 5.0])}):
                    model.train()
                    running, seen, correct = 0.0, 0, 0
                    for step, (data, target) in enumerate(loader):
                        data = data.to(device, non_blocking=True)
                        target = target.to(device, non_blocking=True)
                        optimizer.zero_grad(set_to_none=True)
                        with torch.autocast(device_type=device.type, enabled=scaler is not None):
                            output = model(data)
                            loss = {crit}
                        if scaler is not None:
                            scaler.scale(loss).backward()
                            scaler.unscale_(optimizer)
                            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
                            scaler.step(optimizer)
                            scaler.update()
                        else:
                            loss.backward()
                            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
                            optimizer.step()
                        running += loss.item() * data.size(0)
                        seen += data.size(0)
                        correct += (output.argmax(1) == target).sum().item()
                    print("epoch %d: loss %.4f acc %.2f%%" % (epoch, running / seen, 100.0 * correct / seen))
                    return running / seen, 100.0 * correct / seen
                ''')
        if style == "tqdm":
            return block('''
                def train_epoch(model, loader, optimizer, criterion, device, epoch):
                    model.train()
                    total_loss = 0.0
                    total = 0
                    correct = 0
                    pbar = tqdm(loader, desc="epoch %d" % epoch, leave=False)
                    for inputs, targets in pbar:
                        inputs, targets = inputs.to(device), targets.to(device)
                        optimizer.zero_grad()
                        outputs = model(inputs)
                        loss = criterion(outputs, targets)
                        loss.backward()
                        optimizer.step()
                        total_loss += loss.item() * targets.size(0)
                        _, predicted = outputs.max(1)
                        total += targets.size(0)
                        correct += predicted.eq(targets).sum().item()
                        pbar.set_postfix(loss=total_loss / total, acc=100.0 * correct / total)
                    return total_loss / total, 100.0 * correct / total
                ''')
        return block('''
            def train(model, loader, optimizer, criterion, device, epoch, print_freq=50):
                model.train()
                losses, top1 = AverageMeter("loss"), AverageMeter("acc@1")
                end = time.time()
                for i, (images, labels) in enumerate(loader):
                    images, labels = images.to(device), labels.to(device)
                    logits = model(images)
                    loss = criterion(logits, labels)
                    acc = (logits.argmax(dim=1) == labels).float().mean().item() * 100
                    losses.update(loss.item(), images.size(0))
                    top1.update(acc, images.size(0))
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                    if i % print_freq == 0:
                        print("[%d][%d/%d] %s %s time %.3f" % (epoch, i, len(loader), losses, top1, time.time() - end))
                    end = time.time()
                return losses.avg, top1.avg
            ''')

    def test_fn(self) -> str:
        if self.chance(0.5):
            return block('''
                def test(model, device, test_loader):
                    model.eval()
                    test_loss = 0
                    correct = 0
                    with torch.no_grad():
                        for data, target in test_loader:
                            data, target = data.to(device), target.to(device)
                            output = model(data)
                            test_loss += F.cross_entropy(output, target, reduction='sum').item()
                            pred = output.argmax(dim=1, keepdim=True)
                            correct += pred.eq(target.view_as(pred)).sum().item()
                    test_loss /= len(test_loader.dataset)
                    acc = 100. * correct / len(test_loader.dataset)
                    print('\\nTest set: Average loss: {:.4f}, Accuracy: {}/{} ({:.0f}%)\\n'.format(
                        test_loss, correct, len(test_loader.dataset), acc))
                    return test_loss, acc
                ''')
        return block('''
            @torch.no_grad()
            def evaluate(model, loader, device, criterion=None):
                model.eval()
                criterion = criterion or nn.CrossEntropyLoss()
                loss_sum, correct, n = 0.0, 0, 0
                for x, y in loader:
                    x, y = x.to(device), y.to(device)
                    out = model(x)
                    loss_sum += criterion(out, y).item() * y.size(0)
                    correct += (out.argmax(1) == y).sum().item()
                    n += y.size(0)
                return loss_sum / n, 100.0 * correct / n
            ''')

    def transforms_text(self, ds, train: bool, indent=4) -> str:
        name, shape, _, mean, std, _ = ds
        steps = []
        if train and shape[1] >= 32 and self.chance(0.7):
            steps.append(f"transforms.RandomCrop({shape[1]}, padding=4)")
            steps.append("transforms.RandomHorizontalFlip()")
        elif train and self.chance(0.3):
            steps.append(f"transforms.RandomRotation({self.pick([5, 10, 15])})")
        steps.append("transforms.ToTensor()")
        steps.append(f"transforms.Normalize({mean}, {std})")
        pad = " " * (indent + 4)
        return "transforms.Compose([\n" + "".join(f"{pad}{s},\n" for s in steps) + " " * indent + "])"

    def dataset_call(self, ds, train: bool, transform_var: str, root="args.data") -> str:
        name, _, _, _, _, split_kw = ds
        if split_kw == "split":
            split = "'train'" if train else "'test'"
            return f"datasets.{name}({root}, split={split}, download=True, transform={transform_var})"
        return f"datasets.{name}({root}, train={train}, download=True, transform={transform_var})"

    def argparse_block(self, desc: str, n=None) -> Tuple[str, List[str]]:
        vals = dict(bs=self.pick([32, 64, 128, 256]), ep=self.pick([10, 14, 30, 100, 200]), lr=self.pick([0.1, 0.01, 1.0, 0.001]))
        must = ["--batch-size", "--test-batch-size", "--epochs", "--lr", "--seed", "--log-interval", "--no-cuda", "--data", "--dry-run",
                "--save-model", "--workers", "--momentum", "--weight-decay", "--gamma", "--resume", "--optimizer", "--out-dir"]
        chosen = [a for a in ARGS if a[0] in must[:9]]
        optional = [a for a in ARGS if a[0] in must[9:]]
        chosen += self.rng.sample(optional, self.rng.randint(2, len(optional)))
        L = [f"    parser = argparse.ArgumentParser(description='{desc}')"]
        for flag, kw, hlp in chosen:
            L.append(f"    parser.add_argument('{flag}', {kw.format(**vals)},")
            L.append(f"                        help='{hlp.format(**vals)}')")
        L.append("    args = parser.parse_args()")
        return "\n".join(L), [a[0] for a in chosen]

    def main_fn(self, ds, model_expr: str, flags: List[str], arg_text: str, train_style: str) -> str:
        opt = self.pick(["sgd", "adam", "adadelta"])
        opt_line = {"sgd": "optimizer = optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=5e-4)",
                    "adam": "optimizer = optim.Adam(model.parameters(), lr=args.lr)",
                    "adadelta": "optimizer = optim.Adadelta(model.parameters(), lr=args.lr)"}[opt]
        if "--optimizer" in flags:
            opt_line = ("if args.optimizer == 'adam':\n        optimizer = optim.Adam(model.parameters(), lr=args.lr)\n"
                        "    elif args.optimizer == 'adamw':\n        optimizer = optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.05)\n"
                        "    else:\n        optimizer = optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=5e-4)")
        sched = self.pick(["StepLR(optimizer, step_size=1, gamma=0.7)", "CosineAnnealingLR(optimizer, T_max=args.epochs)",
                           "MultiStepLR(optimizer, milestones=[30, 60, 90], gamma=0.1)"])
        L = ["def main():", arg_text, "    use_cuda = not args.no_cuda and torch.cuda.is_available()", "    torch.manual_seed(args.seed)",
             "    device = torch.device('cuda' if use_cuda else 'cpu')", "",
             "    train_kwargs = {'batch_size': args.batch_size, 'shuffle': True}", "    test_kwargs = {'batch_size': args.test_batch_size}",
             "    if use_cuda:", "        cuda_kwargs = {'num_workers': 1, 'pin_memory': True}", "        train_kwargs.update(cuda_kwargs)",
             "        test_kwargs.update(cuda_kwargs)", "",
             "    train_transform = " + self.transforms_text(ds, True), "    test_transform = " + self.transforms_text(ds, False),
             "    train_set = " + self.dataset_call(ds, True, "train_transform"), "    test_set = " + self.dataset_call(ds, False, "test_transform"),
             "    train_loader = torch.utils.data.DataLoader(train_set, **train_kwargs)",
             "    test_loader = torch.utils.data.DataLoader(test_set, **test_kwargs)", "", f"    model = {model_expr}.to(device)",
             "    " + opt_line, f"    scheduler = {sched}", "    criterion = nn.CrossEntropyLoss()", "    best_acc = 0.0"]
        if "--resume" in flags:
            L += ["    start_epoch = 1", "    if args.resume and os.path.isfile(args.resume):",
                  "        checkpoint = torch.load(args.resume, map_location=device)",
                  "        model.load_state_dict(checkpoint['state_dict'])", "        optimizer.load_state_dict(checkpoint['optimizer'])",
                  "        start_epoch = checkpoint['epoch'] + 1", "        best_acc = checkpoint.get('best_acc', 0.0)",
                  "        print('=> resumed from epoch %d' % start_epoch)"]
        else:
            L.append("    start_epoch = 1")
        L.append("")
        L.append("    for epoch in range(start_epoch, args.epochs + 1):")
        call = {"examples": "train(args, model, device, train_loader, optimizer, epoch, criterion)",
                "amp": "train_one_epoch(model, train_loader, optimizer, device, epoch, criterion)",
                "tqdm": "train_epoch(model, train_loader, optimizer, criterion, device, epoch)",
                "meter": "train(model, train_loader, optimizer, criterion, device, epoch)"}[train_style]
        L.append(f"        {call}")
        L.append("        _, acc = " + self.pick(["test(model, device, test_loader)", "test(model, device, test_loader)"]))
        L += ["        scheduler.step()", "        if acc > best_acc:", "            best_acc = acc",
              "            torch.save({'epoch': epoch, 'state_dict': model.state_dict(), 'optimizer': optimizer.state_dict(),",
              "                        'best_acc': best_acc}, 'best.pt')", "", "    if args.save_model:",
              f"        torch.save(model.state_dict(), '{ds[0].lower()}_model.pt')", "    print('best accuracy: %.2f%%' % best_acc)"]
        return "\n".join(L)

    def smoke_test(self, ctor: str, shape, idx: int) -> str:
        var = self.pick(["net", "model", "m"])
        b = self.pick([1, 2, 4, 8])
        dims = ", ".join(str(d) for d in (b,) + tuple(shape))
        body = self.pick([
            f"    {var} = {ctor}\n    x = torch.randn({dims})\n    y = {var}(x)\n    print(y.size())",
            f"    {var} = {ctor}\n    out = {var}(torch.randn({dims}))\n    print(out.shape)",
            f"    {var} = {ctor}\n    {var}.eval()\n    with torch.no_grad():\n        y = {var}(torch.rand({dims}))\n"
            f"    print(y.shape, sum(p.numel() for p in {var}.parameters()))",
        ])
        return f"def test_{idx}():\n{body}"

    # -- whole files ----------------------------------------------------------------------
    TORCH_IMPORTS = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F"

    def header(self, what: str, extra_std=(), torch_imports=True, more=()) -> str:
        doc = f'"""{what}\n\n{self.pick(["Usage: see README.", "Author: the lab.", "Adapted for our experiments.", "Run with --help for options."])}\n"""'
        std = sorted(set(extra_std))
        parts = [doc]
        if std:
            parts.append("\n".join(f"import {m}" for m in std))
        if torch_imports:
            tl = [self.pick([self.TORCH_IMPORTS, "import torch\nfrom torch import nn\nfrom torch.nn import functional as F"])]
            tl += list(more)
            parts.append("\n".join(tl))
        elif more:
            parts.append("\n".join(more))
        return "\n\n".join(parts)

    def assemble(self, head: str, sections: List[str], target: int, filler=None, tail: Optional[str] = None, hard_max=400) -> str:
        def text(secs):
            body = head + "\n\n\n" + "\n\n\n".join(secs)
            if tail:
                body += "\n\n\n" + tail
            return body + "\n"

        cur = text(sections)
        tries = 0
        while filler is not None and cur.count("\n") < target and tries < 40:
            tries += 1
            extra = filler()
            if extra is None:
                break
            nxt = text(sections + [extra])
            if nxt.count("\n") > hard_max:
                continue
            sections = sections + [extra]
            cur = nxt
        return cur

    def target(self, lo=100, hi=400, mode=210) -> int:
        return int(self.rng.triangular(lo, hi, mode))

    def util_filler(self, torch_ok=True):
        pool = [u for u in self.rng.sample(UTILS, len(UTILS)) if torch_ok or not u[1]]

        def next_util():
            return self.util_section(pool.pop()) if pool else None
        return next_util

    def models_file(self, ds, bug=False, target=None, smoke=None) -> Tuple[str, List[str]]:
        shape = ds[1]
        once = set()
        ctors: List[str] = []
        bug_left = [bug]

        def one():
            fams = ["cnn", "cnn", "mlp", "vgg", "resnet", "inception", "unet", "ae", "seq"]
            fams = [f for f in fams if f not in once]
            fam = self.pick(fams)
            b = bug_left[0] and fam not in ("seq",)
            if b:
                bug_left[0] = False
            if fam in ("vgg", "resnet", "inception", "unet", "ae"):
                once.add(fam)
            if fam == "cnn":
                src, name = self.cnn_class(shape, ds[2], bug=self.pick(["linear", "conv", "bn"]) if b else None)
                ctors.append(f"{name}()")
            elif fam == "mlp":
                src, name = self.mlp_class(shape, bug=b)
                ctors.append(f"{name}()")
            elif fam == "vgg":
                src, name, key = self.vgg_module(shape, b)
                ctors.append(f"{name}({key!r})")
            elif fam == "resnet":
                src, facts = self.resnet_module(shape, b)
                ctors.append(f"{facts[0]}()")
            elif fam == "inception":
                src, name = self.inception_module(shape, b)
                ctors.append(f"{name}()")
            elif fam == "unet":
                src, name = self.unet_module(shape, b)
                ctors.append(f"{name}()")
            elif fam == "ae":
                src, name = self.ae_module(shape, b)
                ctors.append(f"{name}()")
            else:
                src, name = self.seq_builder(shape, bug="conv" if b else None)
                ctors.append(f"{name}()")
            return src

        target = target or self.target(120, 400, 230)
        hard_max = 400 if target < 300 else target + 20
        head = self.header(f"{self.pick(['Model definitions', 'Network architectures', 'Models'])} for {ds[0]}.", ["math"])
        smoke = bug or (self.chance(0.6) if smoke is None else smoke)
        pairs: List[Tuple[str, str, str]] = []  # (source, constructor, smoke test)

        def add_one():
            src = one()
            pairs.append((src, ctors[-1], self.smoke_test(ctors[-1], shape, len(pairs) + 1)))

        def render(ps) -> str:
            out = head + "\n\n\n" + "\n\n\n".join(p[0] for p in ps)
            if smoke:
                out += "\n\n\n" + "\n\n\n".join(p[2] for p in ps)
                out += "\n\n\nif __name__ == '__main__':\n" + "".join(f"    test_{i}()\n" for i in range(1, len(ps) + 1))
            return out.rstrip("\n") + "\n"

        add_one()
        while bug_left[0]:
            add_one()
        tries = 0
        while render(pairs).count("\n") < target and tries < 40:
            tries += 1
            saved = (set(once), list(ctors), bug_left[0], dict(self.used_names))
            add_one()
            if render(pairs).count("\n") > hard_max:
                pairs.pop()
                once.clear()
                once.update(saved[0])
                ctors[:] = saved[1]
                self.used_names = saved[3]
        return render(pairs), [p[1] for p in pairs]

    def train_inline_file(self, ds, bug=False) -> str:
        shape = ds[1]
        if self.chance(0.4):
            fam_src, ctor, _ = self.any_model(shape, bug=bug)
        else:
            fam_src, ctor = self.cnn_class(shape, ds[2], bug=self.pick(["linear", "conv", "bn"]) if bug else None)
        if not ctor.endswith(")"):
            ctor = ctor + "()"
        style = self.pick(["examples", "meter", "amp", "tqdm"])
        more = ["import torch.optim as optim", "from torch.optim.lr_scheduler import CosineAnnealingLR, MultiStepLR, StepLR",
                "from torchvision import datasets, transforms"]
        if style == "tqdm":
            more.append("from tqdm import tqdm")
        head = self.header(f"Train a {ds[0]} classifier.", SCRIPT_STD, more=more + ["import numpy as np"])
        arg_text, flags = self.argparse_block(f"PyTorch {ds[0]} Example")
        secs = [fam_src]
        if style == "meter":
            secs.append(self.util_section(UTILS[0]))
        test = self.test_fn().replace("def evaluate(model, loader, device, criterion=None)", "def test(model, device, loader, criterion=None)")
        secs += [self.train_fn(style), test]
        main = self.main_fn(ds, ctor, flags, arg_text, style)
        pool = [u for u in self.rng.sample(UTILS, len(UTILS)) if u[0] != "AverageMeter"]

        def filler():
            return self.util_section(pool.pop()) if pool else None
        text = self.assemble(head, secs, self.target(160, 400, 260), filler=filler, tail=main + "\n\n\nif __name__ == '__main__':\n    main()")
        return text

    def train_imported_file(self, ds, module: str, factories: List[str]) -> str:
        more = ["import torch.backends.cudnn as cudnn", "import torch.optim as optim", "import torchvision", "import torchvision.transforms as transforms",
                f"from {module} import {', '.join(factories)}"]
        head = self.header(f"Train {', '.join(factories)} on {ds[0]} with PyTorch.", SCRIPT_STD, more=more + ["import numpy as np"])
        table = "MODELS = {\n" + "".join(f"    '{f.replace('()', '')}': {f.replace('()', '')},\n" for f in factories) + "}"
        name, shape, ncls, mean, std, split = ds
        tr = "transform_train = " + self.transforms_text(ds, True, indent=0)
        te = "transform_test = " + self.transforms_text(ds, False, indent=0)
        kw = ("split='train'", "split='test'") if split == "split" else ("train=True", "train=False")
        style = self.pick(["tqdm", "meter", "amp"])
        secs = [table, tr + "\n" + te]
        if style == "meter":
            secs.append(self.util_section(UTILS[0]))
        if style == "tqdm":
            head += "\nfrom tqdm import tqdm"
        secs += [self.train_fn(style), self.test_fn()]
        call = {"amp": "train_one_epoch(model, trainloader, optimizer, device, epoch, criterion)",
                "tqdm": "train_epoch(model, trainloader, optimizer, criterion, device, epoch)",
                "meter": "train(model, trainloader, optimizer, criterion, device, epoch)"}[style]
        evalname = "evaluate(model, testloader, device, criterion)" if "def evaluate" in secs[-1] else "test(model, device, testloader)"
        main = block(f'''
            def main():
                parser = argparse.ArgumentParser(description='{name} training')
                parser.add_argument('--arch', default='{factories[0]}', choices=sorted(MODELS))
                parser.add_argument('--lr', default={self.pick([0.1, 0.05, 0.01])}, type=float, help='learning rate')
                parser.add_argument('--epochs', default={self.pick([100, 160, 200])}, type=int)
                parser.add_argument('--batch-size', default={self.pick([64, 128, 256])}, type=int)
                parser.add_argument('--resume', '-r', action='store_true', help='resume from checkpoint')
                parser.add_argument('--data', default='./data')
                args = parser.parse_args()

                device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
                best_acc = 0
                start_epoch = 0

                print('==> Preparing data..')
                trainset = torchvision.datasets.{name}(root=args.data, {kw[0]}, download=True, transform=transform_train)
                trainloader = torch.utils.data.DataLoader(trainset, batch_size=args.batch_size, shuffle=True, num_workers=2)
                testset = torchvision.datasets.{name}(root=args.data, {kw[1]}, download=True, transform=transform_test)
                testloader = torch.utils.data.DataLoader(testset, batch_size=100, shuffle=False, num_workers=2)

                print('==> Building model..')
                model = MODELS[args.arch](num_classes={ncls})
                model = model.to(device)
                if device.type == 'cuda':
                    model = torch.nn.DataParallel(model)
                    cudnn.benchmark = True

                if args.resume:
                    print('==> Resuming from checkpoint..')
                    assert os.path.isdir('checkpoint'), 'Error: no checkpoint directory found!'
                    checkpoint = torch.load('./checkpoint/ckpt.pth')
                    model.load_state_dict(checkpoint['net'])
                    best_acc = checkpoint['acc']
                    start_epoch = checkpoint['epoch']

                criterion = nn.CrossEntropyLoss()
                optimizer = optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=5e-4)
                scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)

                for epoch in range(start_epoch, start_epoch + args.epochs):
                    {call}
                    _, acc = {evalname}
                    scheduler.step()
                    if acc > best_acc:
                        print('Saving..')
                        state = {{'net': model.state_dict(), 'acc': acc, 'epoch': epoch}}
                        os.makedirs('checkpoint', exist_ok=True)
                        torch.save(state, './checkpoint/ckpt.pth')
                        best_acc = acc
                print('best acc %.2f' % best_acc)
            ''')
        pool = [u for u in self.rng.sample(UTILS, len(UTILS)) if u[0] != "AverageMeter"]

        def filler():
            return self.util_section(pool.pop()) if pool else None
        return self.assemble(head, secs, self.target(140, 380, 220), filler=filler, tail=main + "\n\n\nif __name__ == '__main__':\n    main()")

    def gan_file(self, ds, bug=False) -> str:
        src, gen, disc, z = self.dcgan_module(ds[1], bug)
        name = ds[0]
        head = self.header(f"DCGAN-style generator and discriminator trained on {name}.", ["argparse", "os", "random"],
                           more=["import torch.optim as optim", "import torchvision.datasets as dset", "import torchvision.transforms as transforms",
                                 "import torchvision.utils as vutils"])
        size = ds[1][1]
        c = ds[1][0]
        norm = "(0.5,)" if c == 1 else "(0.5, 0.5, 0.5)"
        kw = "split='train'" if ds[5] == "split" else "train=True"
        init = block('''
            def weights_init(m):
                classname = m.__class__.__name__
                if classname.find('Conv') != -1:
                    nn.init.normal_(m.weight.data, 0.0, 0.02)
                elif classname.find('BatchNorm') != -1:
                    nn.init.normal_(m.weight.data, 1.0, 0.02)
                    nn.init.constant_(m.bias.data, 0)
            ''')
        noise = f"torch.randn(b_size, {z}, 1, 1, device=device)" if size != 28 else f"torch.randn(b_size, {z}, device=device)"
        fixed = f"torch.randn(64, {z}, 1, 1, device=device)" if size != 28 else f"torch.randn(64, {z}, device=device)"
        main = block(f'''
            def main():
                parser = argparse.ArgumentParser()
                parser.add_argument('--dataroot', default='./data')
                parser.add_argument('--batch-size', type=int, default={self.pick([64, 128])})
                parser.add_argument('--niter', type=int, default={self.pick([25, 50])})
                parser.add_argument('--lr', type=float, default=0.0002)
                parser.add_argument('--beta1', type=float, default=0.5)
                parser.add_argument('--outf', default='out')
                parser.add_argument('--manual-seed', type=int, default={self.pick([999, 1234, 42])})
                opt = parser.parse_args()
                random.seed(opt.manual_seed)
                torch.manual_seed(opt.manual_seed)
                os.makedirs(opt.outf, exist_ok=True)
                device = torch.device('cuda:0' if torch.cuda.is_available() else 'cpu')

                dataset = dset.{name}(root=opt.dataroot, {kw}, download=True,
                                     transform=transforms.Compose([
                                         transforms.Resize({size}),
                                         transforms.ToTensor(),
                                         transforms.Normalize({norm}, {norm}),
                                     ]))
                dataloader = torch.utils.data.DataLoader(dataset, batch_size=opt.batch_size, shuffle=True, num_workers=2)

                netG = {gen}().to(device)
                netG.apply(weights_init)
                netD = {disc}().to(device)
                netD.apply(weights_init)
                criterion = nn.BCELoss()
                fixed_noise = {fixed}
                real_label, fake_label = 1.0, 0.0
                optimizerD = optim.Adam(netD.parameters(), lr=opt.lr, betas=(opt.beta1, 0.999))
                optimizerG = optim.Adam(netG.parameters(), lr=opt.lr, betas=(opt.beta1, 0.999))

                for epoch in range(opt.niter):
                    for i, (real, _) in enumerate(dataloader, 0):
                        # (1) update D: maximize log(D(x)) + log(1 - D(G(z)))
                        netD.zero_grad()
                        real = real.to(device)
                        b_size = real.size(0)
                        label = torch.full((b_size,), real_label, dtype=torch.float, device=device)
                        output = netD(real).view(-1)
                        errD_real = criterion(output, label)
                        errD_real.backward()
                        D_x = output.mean().item()
                        noise = {noise}
                        fake = netG(noise)
                        label.fill_(fake_label)
                        output = netD(fake.detach()).view(-1)
                        errD_fake = criterion(output, label)
                        errD_fake.backward()
                        D_G_z1 = output.mean().item()
                        errD = errD_real + errD_fake
                        optimizerD.step()
                        # (2) update G: maximize log(D(G(z)))
                        netG.zero_grad()
                        label.fill_(real_label)
                        output = netD(fake).view(-1)
                        errG = criterion(output, label)
                        errG.backward()
                        D_G_z2 = output.mean().item()
                        optimizerG.step()
                        if i % 50 == 0:
                            print('[%d/%d][%d/%d] Loss_D: %.4f Loss_G: %.4f D(x): %.4f D(G(z)): %.4f / %.4f'
                                  % (epoch, opt.niter, i, len(dataloader), errD.item(), errG.item(), D_x, D_G_z1, D_G_z2))
                    with torch.no_grad():
                        samples = netG(fixed_noise).detach().cpu()
                    vutils.save_image(samples, '%s/fake_samples_epoch_%03d.png' % (opt.outf, epoch), normalize=True)
                    torch.save(netG.state_dict(), '%s/netG_epoch_%d.pth' % (opt.outf, epoch))
                    torch.save(netD.state_dict(), '%s/netD_epoch_%d.pth' % (opt.outf, epoch))
            ''')
        return self.assemble(head, [src, init], 0, tail=main + "\n\n\nif __name__ == '__main__':\n    main()")

    def rnn_file(self) -> str:
        src, cls = self.rnn_module()
        head = self.header("Text classification with a recurrent network.", ["argparse", "collections", "csv", "re", "time"],
                           more=["from torch.nn.utils.rnn import pad_sequence", "from torch.utils.data import DataLoader, Dataset"])
        vocab = block(f'''
            TOKEN_RE = re.compile(r"[a-z0-9']+")


            def tokenize(text):
                return TOKEN_RE.findall(text.lower())


            class Vocab:
                def __init__(self, counter, min_freq={self.pick([1, 2, 5])}, specials=("<pad>", "<unk>")):
                    self.itos = list(specials)
                    for tok, freq in counter.most_common():
                        if freq >= min_freq and tok not in specials:
                            self.itos.append(tok)
                    self.stoi = {{t: i for i, t in enumerate(self.itos)}}

                def __len__(self):
                    return len(self.itos)

                def encode(self, tokens):
                    unk = self.stoi["<unk>"]
                    return [self.stoi.get(t, unk) for t in tokens]


            class CsvTextDataset(Dataset):
                def __init__(self, path, vocab=None, max_len={self.pick([128, 256, 400])}):
                    with open(path, newline="") as f:
                        rows = [(int(r[0]), r[1]) for r in csv.reader(f) if r]
                    self.labels = [r[0] for r in rows]
                    self.texts = [tokenize(r[1])[:max_len] for r in rows]
                    if vocab is None:
                        vocab = Vocab(collections.Counter(t for text in self.texts for t in text))
                    self.vocab = vocab

                def __len__(self):
                    return len(self.texts)

                def __getitem__(self, i):
                    ids = torch.tensor(self.vocab.encode(self.texts[i]) or [1], dtype=torch.long)
                    return ids, self.labels[i]


            def collate(batch):
                seqs, labels = zip(*batch)
                lengths = torch.tensor([len(s) for s in seqs])
                padded = pad_sequence(seqs, batch_first=True, padding_value=0)
                return padded, lengths, torch.tensor(labels)
            ''')
        loop = block(f'''
            def run_epoch(model, loader, criterion, optimizer=None, device="cpu"):
                training = optimizer is not None
                model.train(training)
                total, correct, loss_sum = 0, 0, 0.0
                start = time.time()
                for tokens, lengths, labels in loader:
                    tokens, lengths, labels = tokens.to(device), lengths.to(device), labels.to(device)
                    with torch.set_grad_enabled(training):
                        logits = model(tokens, lengths)
                        loss = criterion(logits, labels)
                    if training:
                        optimizer.zero_grad()
                        loss.backward()
                        nn.utils.clip_grad_norm_(model.parameters(), {self.pick([0.5, 1.0, 5.0])})
                        optimizer.step()
                    loss_sum += loss.item() * labels.size(0)
                    correct += (logits.argmax(1) == labels).sum().item()
                    total += labels.size(0)
                return loss_sum / total, correct / total, time.time() - start


            def main():
                parser = argparse.ArgumentParser()
                parser.add_argument("--train", default="data/train.csv")
                parser.add_argument("--valid", default="data/valid.csv")
                parser.add_argument("--epochs", type=int, default={self.pick([5, 10, 20])})
                parser.add_argument("--batch-size", type=int, default={self.pick([32, 64])})
                parser.add_argument("--lr", type=float, default={self.pick([0.001, 0.002])})
                args = parser.parse_args()
                device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
                train_set = CsvTextDataset(args.train)
                valid_set = CsvTextDataset(args.valid, vocab=train_set.vocab)
                train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, collate_fn=collate)
                valid_loader = DataLoader(valid_set, batch_size=args.batch_size, collate_fn=collate)
                model = {cls}(len(train_set.vocab)).to(device)
                criterion = nn.CrossEntropyLoss()
                optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
                for epoch in range(1, args.epochs + 1):
                    tl, ta, tt = run_epoch(model, train_loader, criterion, optimizer, device)
                    vl, va, _ = run_epoch(model, valid_loader, criterion, None, device)
                    print(f"epoch {{epoch:2d}} train loss {{tl:.3f}} acc {{ta:.3f}} | valid loss {{vl:.3f}} acc {{va:.3f}} ({{tt:.1f}}s)")
                torch.save(model.state_dict(), "{cls.lower()}.pt")
            ''')
        return self.assemble(head, [vocab, src], 0, tail=loop + "\n\n\nif __name__ == '__main__':\n    main()")

    def data_file(self, ds) -> str:
        name, shape, ncls, mean, std, split = ds
        head = self.header(f"Data loading for {name} and our own image folders.", ["os", "random", "math"],
                           more=["import numpy as np", "from PIL import Image", "from torch.utils.data import DataLoader, Dataset, random_split",
                                 "from torch.utils.data import WeightedRandomSampler", "from torchvision import datasets, transforms"])
        kw = ("split='train'", "split='test'") if split == "split" else ("train=True", "train=False")
        secs = [f"MEAN = {mean}\nSTD = {std}\nNUM_CLASSES = {ncls}",
                "def build_transforms(train=True):\n    if train:\n        return " + self.transforms_text(ds, True, indent=8) +
                "\n    return " + self.transforms_text(ds, False, indent=4),
                block(f'''
                    def get_loaders(data_dir="./data", batch_size={self.pick([64, 128])}, num_workers={self.pick([2, 4])}, val_fraction=0.1, seed=0):
                        full = datasets.{name}(data_dir, {kw[0]}, download=True, transform=build_transforms(True))
                        n_val = int(len(full) * val_fraction)
                        gen = torch.Generator().manual_seed(seed)
                        train_set, val_set = random_split(full, [len(full) - n_val, n_val], generator=gen)
                        test_set = datasets.{name}(data_dir, {kw[1]}, download=True, transform=build_transforms(False))
                        train_loader = DataLoader(train_set, batch_size=batch_size, shuffle=True, num_workers=num_workers,
                                                  pin_memory=torch.cuda.is_available(), drop_last=True)
                        val_loader = DataLoader(val_set, batch_size=batch_size, shuffle=False, num_workers=num_workers)
                        test_loader = DataLoader(test_set, batch_size=batch_size, shuffle=False, num_workers=num_workers)
                        return train_loader, val_loader, test_loader
                    ''')]
        extras = [
            block('''
                class CsvImageDataset(Dataset):
                    """Images listed in a CSV file: path,label per row."""

                    def __init__(self, csv_file, root_dir, transform=None):
                        import pandas as pd
                        self.frame = pd.read_csv(csv_file)
                        self.root_dir = root_dir
                        self.transform = transform

                    def __len__(self):
                        return len(self.frame)

                    def __getitem__(self, idx):
                        if torch.is_tensor(idx):
                            idx = idx.tolist()
                        path = os.path.join(self.root_dir, self.frame.iloc[idx, 0])
                        image = Image.open(path).convert("RGB")
                        label = int(self.frame.iloc[idx, 1])
                        if self.transform:
                            image = self.transform(image)
                        return image, label
                '''),
            block('''
                class NumpyDataset(Dataset):
                    def __init__(self, npz_path, key_x="x", key_y="y", normalize=True):
                        data = np.load(npz_path)
                        x = data[key_x].astype(np.float32)
                        if normalize:
                            x = (x - x.mean()) / (x.std() + 1e-8)
                        if x.ndim == 3:
                            x = x[:, None, :, :]
                        self.x = torch.from_numpy(x)
                        self.y = torch.from_numpy(data[key_y].astype(np.int64))

                    def __len__(self):
                        return self.x.shape[0]

                    def __getitem__(self, i):
                        return self.x[i], self.y[i]
                '''),
            block('''
                def compute_mean_std(dataset, batch_size=256):
                    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False)
                    n = 0
                    mean = 0.0
                    sq = 0.0
                    for x, _ in loader:
                        x = x.view(x.size(0), x.size(1), -1)
                        n += x.size(0)
                        mean += x.mean(2).sum(0)
                        sq += (x ** 2).mean(2).sum(0)
                    mean /= n
                    std = (sq / n - mean ** 2).sqrt()
                    return mean.tolist(), std.tolist()
                '''),
            block('''
                def make_weighted_sampler(labels, num_classes=None):
                    labels = np.asarray(labels)
                    num_classes = num_classes or int(labels.max()) + 1
                    counts = np.bincount(labels, minlength=num_classes).astype(np.float64)
                    weights = 1.0 / np.maximum(counts, 1)
                    sample_weights = weights[labels]
                    return WeightedRandomSampler(torch.as_tensor(sample_weights, dtype=torch.double), len(sample_weights))
                '''),
            block('''
                class TwoCropTransform:
                    """Two random views of one image (contrastive pretraining)."""

                    def __init__(self, transform):
                        self.transform = transform

                    def __call__(self, x):
                        return [self.transform(x), self.transform(x)]
                '''),
            block('''
                class InfiniteLoader:
                    def __init__(self, loader):
                        self.loader = loader
                        self.iterator = iter(loader)

                    def __iter__(self):
                        return self

                    def __next__(self):
                        try:
                            return next(self.iterator)
                        except StopIteration:
                            self.iterator = iter(self.loader)
                            return next(self.iterator)
                '''),
            block(f'''
                class FolderDataset(Dataset):
                    EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp")

                    def __init__(self, root, transform=None, classes=None):
                        self.root = root
                        self.classes = classes or sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
                        self.class_to_idx = {{c: i for i, c in enumerate(self.classes)}}
                        self.samples = []
                        for c in self.classes:
                            folder = os.path.join(root, c)
                            for fname in sorted(os.listdir(folder)):
                                if fname.lower().endswith(self.EXTENSIONS):
                                    self.samples.append((os.path.join(folder, fname), self.class_to_idx[c]))
                        self.transform = transform or transforms.Compose([transforms.Resize({self.pick([64, 96, 128])}), transforms.ToTensor()])

                    def __len__(self):
                        return len(self.samples)

                    def __getitem__(self, index):
                        path, target = self.samples[index]
                        with open(path, "rb") as f:
                            img = Image.open(f).convert("RGB")
                        return self.transform(img), target
                '''),
            block('''
                def show_batch(loader, n=16, path="batch.png"):
                    import matplotlib.pyplot as plt
                    images, labels = next(iter(loader))
                    images = images[:n]
                    grid = int(math.ceil(math.sqrt(len(images))))
                    fig, axes = plt.subplots(grid, grid, figsize=(grid * 2, grid * 2))
                    for ax, img, lab in zip(axes.flat, images, labels):
                        img = img.permute(1, 2, 0).numpy()
                        img = np.clip(img * np.array(STD) + np.array(MEAN), 0, 1)
                        ax.imshow(img.squeeze(), cmap="gray" if img.shape[-1] == 1 else None)
                        ax.set_title(str(int(lab)))
                        ax.axis("off")
                    fig.savefig(path)
                '''),
        ]
        extras = self.rng.sample(extras, len(extras))

        def filler():
            return extras.pop() if extras else None
        return self.assemble(head, secs, self.target(100, 330, 170), filler=filler)

    def utils_file(self, torch_ok: bool) -> str:
        head = self.header("Assorted helpers: meters, logging, checkpoints, schedules." if torch_ok else "Helpers that do not need the deep learning stack.",
                           [], torch_imports=torch_ok, more=())
        head = head.replace('"""\n\n', '"""\n\n' + UTIL_IMPORTS + "\n\n", 1) if torch_ok else head + "\n\n" + UTIL_IMPORTS
        fill = self.util_filler(torch_ok)
        first = fill()
        return self.assemble(head, [first], self.target(100, 350, 170), filler=fill)

    def tutorial_file(self, bug=False) -> str:
        kind = self.pick(["regression", "classification"])
        n_h = self.pick([10, 20, 32, 64, 100])
        head = self.header(f"Tutorial: {kind} with a small nn.Sequential on synthetic data.", ["math", "time"],
                           more=["import matplotlib.pyplot as plt", "import numpy as np"])
        if kind == "regression":
            data = block(f'''
                torch.manual_seed({self.pick([1, 2, 7])})
                x = torch.unsqueeze(torch.linspace(-1, 1, {self.pick([100, 200, 500])}), dim=1)
                y = x.pow(2) + 0.2 * torch.rand(x.size())
                ''')
            n_in, n_out, loss = 1, 1, "torch.nn.MSELoss()"
        else:
            data = block(f'''
                n_data = torch.ones({self.pick([100, 200])}, 2)
                x0 = torch.normal(2 * n_data, 1)
                y0 = torch.zeros(n_data.size(0))
                x1 = torch.normal(-2 * n_data, 1)
                y1 = torch.ones(n_data.size(0))
                x = torch.cat((x0, x1), 0).type(torch.FloatTensor)
                y = torch.cat((y0, y1), ).type(torch.LongTensor)
                ''')
            n_in, n_out, loss = 2, 2, "torch.nn.CrossEntropyLoss()"
        h2 = self.pick([n_h, n_h // 2 or 1])
        wrong = n_h + 3 if bug else n_h
        net = (f"net = torch.nn.Sequential(\n    torch.nn.Linear({n_in}, {n_h}),\n    torch.nn.ReLU(),\n"
               f"    torch.nn.Linear({wrong}, {h2}),{BUG + 'CNS001' if bug else ''}\n    torch.nn.ReLU(),\n    torch.nn.Linear({h2}, {n_out}),\n)\nprint(net)")
        loop = block(f'''
            optimizer = torch.optim.SGD(net.parameters(), lr={self.pick([0.02, 0.1, 0.2, 0.5])})
            loss_func = {loss}

            plt.ion()
            for t in range({self.pick([100, 200, 300])}):
                prediction = net(x)
                loss = loss_func(prediction, y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                if t % 10 == 0:
                    plt.cla()
                    plt.scatter(x.data.numpy()[:, 0], x.data.numpy()[:, -1] if x.size(1) > 1 else y.data.numpy())
                    plt.text(0.5, 0, 'Loss=%.4f' % loss.data.numpy(), fontdict={{'size': 20, 'color': 'red'}})
                    plt.pause(0.1)
            plt.ioff()
            plt.show()
            ''')
        save = block('''
            def save_and_restore(net, path='net.pkl'):
                torch.save(net, path)
                torch.save(net.state_dict(), path.replace('.pkl', '_params.pkl'))
                net2 = torch.load(path)
                net3 = torch.nn.Sequential(*[m for m in net2.children()])
                net3.load_state_dict(torch.load(path.replace('.pkl', '_params.pkl')))
                return net2, net3
            ''')
        head = head.replace("import torch.nn as nn\nimport torch.nn.functional as F", "import torch.nn.functional as F")
        keep = ("moving_average", "Timer", "format_time", "get_device", "count_parameters", "plot_history")
        pool = [u for u in self.rng.sample(UTILS, len(UTILS)) if u[0] in keep]

        def filler():
            return self.util_section(pool.pop()) if pool else None
        return self.assemble(head, [data, net, save, loop], self.target(100, 220, 120), filler=filler)

    def eval_file(self, ds, module: str, factory: str) -> str:
        name, shape, ncls, mean, std, split = ds
        head = self.header(f"Evaluate a trained checkpoint on the {name} test set and export it.", ["argparse", "json", "os", "time"],
                           more=["import numpy as np", "from torch.utils.data import DataLoader", "from torchvision import datasets, transforms",
                                 f"from {module} import {factory}"])
        kw = "split='test'" if split == "split" else "train=False"
        dims = ", ".join(str(d) for d in (1,) + tuple(shape))
        body = block(f'''
            CLASSES = [str(i) for i in range({ncls})]


            def per_class_accuracy(model, loader, device, num_classes={ncls}):
                correct = np.zeros(num_classes, dtype=np.int64)
                total = np.zeros(num_classes, dtype=np.int64)
                confusion = np.zeros((num_classes, num_classes), dtype=np.int64)
                model.eval()
                with torch.no_grad():
                    for images, labels in loader:
                        images = images.to(device)
                        preds = model(images).argmax(1).cpu().numpy()
                        labels = labels.numpy()
                        for p, t in zip(preds, labels):
                            confusion[t, p] += 1
                            total[t] += 1
                            correct[t] += int(p == t)
                return correct / np.maximum(total, 1), confusion


            def benchmark_latency(model, device, runs={self.pick([20, 50, 100])}, batch_size=1):
                x = torch.randn(batch_size, {', '.join(str(d) for d in shape)}, device=device)
                model.eval()
                with torch.no_grad():
                    for _ in range(5):
                        model(x)
                    if device.type == "cuda":
                        torch.cuda.synchronize()
                    start = time.time()
                    for _ in range(runs):
                        model(x)
                    if device.type == "cuda":
                        torch.cuda.synchronize()
                return (time.time() - start) / runs * 1000.0


            def export_onnx(model, path, opset={self.pick([11, 13, 17])}):
                dummy = torch.randn({dims})
                model.eval()
                torch.onnx.export(model, dummy, path, input_names=["input"], output_names=["logits"],
                                  dynamic_axes={{"input": {{0: "batch"}}, "logits": {{0: "batch"}}}}, opset_version=opset)
                return path


            def main():
                parser = argparse.ArgumentParser(description="evaluate a checkpoint")
                parser.add_argument("checkpoint")
                parser.add_argument("--data", default="./data")
                parser.add_argument("--batch-size", type=int, default=256)
                parser.add_argument("--onnx", default="")
                parser.add_argument("--report", default="report.json")
                args = parser.parse_args()
                device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
                model = {factory}(num_classes={ncls})
                state = torch.load(args.checkpoint, map_location="cpu")
                model.load_state_dict(state.get("net", state.get("state_dict", state)))
                model.to(device)
                tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize({mean}, {std})])
                test_set = datasets.{name}(args.data, {kw}, download=True, transform=tf)
                loader = DataLoader(test_set, batch_size=args.batch_size, shuffle=False, num_workers=2)
                acc, confusion = per_class_accuracy(model, loader, device)
                for cls, a in zip(CLASSES, acc):
                    print("%-10s %.2f%%" % (cls, 100 * a))
                latency = benchmark_latency(model, device)
                print("mean accuracy %.2f%%, latency %.2f ms" % (100 * acc.mean(), latency))
                with open(args.report, "w") as f:
                    json.dump({{"per_class": acc.tolist(), "confusion": confusion.tolist(), "latency_ms": latency}}, f, indent=2)
                if args.onnx:
                    export_onnx(model.cpu(), args.onnx)
            ''')
        keep = ("AverageMeter", "Timer", "format_time", "get_device", "ConfusionMatrix", "load_config", "count_parameters", "moving_average")
        pool = [u for u in self.rng.sample(UTILS, len(UTILS)) if u[0] in keep]

        def filler():
            return self.util_section(pool.pop()) if pool else None
        return self.assemble(head, [body], self.target(110, 260, 140), filler=filler, tail="if __name__ == '__main__':\n    main()")


def strip_bugs(text: str) -> Tuple[str, List[Tuple[int, str]]]:
    out, bugs = [], []
    for i, line in enumerate(text.split("\n"), 1):
        if BUG in line:
            line, code = line.split(BUG)
            bugs.append((i, code.strip()))
        out.append(line.rstrip())
    return "\n".join(out), bugs


def generate(out_dir: str, n_files: int = 170, seed: int = 0) -> dict:
    """Write the corpus under out_dir; returns the manifest (also written as MANIFEST.json)."""
    rng = random.Random(seed)
    files: Dict[str, str] = {}
    kinds: Dict[str, str] = {}
    names = rng.sample(PROJECT_NAMES, len(PROJECT_NAMES))
    p = 0
    bug_budget = max(4, n_files // 25)
    bug_slots = set(rng.sample(range(n_files), min(n_files, bug_budget * 3)))  # file indexes that get a bug if they hold a model

    def add(path, text, kind):
        files[path] = text
        kinds[path] = kind

    def want_bug():
        return len(files) in bug_slots and sum(1 for t in files.values() if BUG in t) < bug_budget

    # the editor file: one ~300-line model module
    g = Files(seed * 7919 + 1)
    for attempt in range(60):
        g.used_names = {}
        text, _ = g.models_file(DATASETS[3], bug=False, target=300, smoke=True)
        if 285 <= text.count("\n") <= 320:
            break
    add("editor/model_300.py", text, "editor")

    while len(files) < n_files:
        proj = f"{p:02d}_{names[p % len(names)]}"
        g = Files(seed * 1009 + p)
        ds = g.pick(DATASETS)
        p += 1
        plan = ["train_inline", "models", "models", "train_imported", "data", "utils_torch", "utils_plain", "eval", "tutorial", "models"]
        plan += g.rng.sample(["gan", "rnn", "train_inline", "models", "models", "data", "tutorial", "utils_torch", "gan", "train_inline"],
                             g.rng.randint(2, 6))
        model_mods: List[Tuple[str, List[str]]] = []
        for kind in plan:
            if len(files) >= n_files:
                break
            g.used_names = {}
            idx = len([k for k in files if k.startswith(proj + "/")])
            if kind == "models":
                stem = g.pick(["cnn", "nets", "resnet", "vgg", "small", "baselines", "arch", "zoo", "blocks"]) + f"_{idx}"
                text, ctors = g.models_file(ds, bug=want_bug())
                path = f"{proj}/models/{stem}.py"
                model_mods.append((f"models.{stem}", [c.split("(")[0] for c in ctors]))
            elif kind == "train_inline":
                text = g.train_inline_file(ds, bug=want_bug())
                path = f"{proj}/{g.pick(['main', 'train', 'run', 'mnist_style', 'baseline'])}_{idx}.py"
            elif kind == "train_imported":
                if not model_mods:
                    continue
                mod, ctors = model_mods[0]
                text = g.train_imported_file(ds, mod, [c for c in ctors if c and c[0].islower()] or ctors[:2])
                path = f"{proj}/train.py"
            elif kind == "eval":
                if not model_mods:
                    continue
                mod, ctors = model_mods[-1]
                text = g.eval_file(ds, mod, ctors[0])
                path = f"{proj}/evaluate.py"
            elif kind == "data":
                text = g.data_file(ds)
                path = f"{proj}/data/{g.pick(['datasets', 'loaders', 'dataio'])}_{idx}.py"
            elif kind == "utils_torch":
                text = g.utils_file(True)
                path = f"{proj}/utils/{g.pick(['misc', 'helpers', 'train_utils', 'tools'])}_{idx}.py"
            elif kind == "utils_plain":
                text = g.utils_file(False)
                path = f"{proj}/utils/{g.pick(['logging_utils', 'timing', 'meters', 'config'])}_{idx}.py"
            elif kind == "tutorial":
                text = g.tutorial_file(bug=want_bug())
                path = f"{proj}/tutorials/{g.pick(['t_regression', 't_classify', 'lesson'])}_{idx}.py"
            elif kind == "gan":
                gds = ds if ds[1][1] in (28, 32, 64) else DATASETS[3]
                text = g.gan_file(gds, bug=want_bug())
                path = f"{proj}/gan/{g.pick(['dcgan', 'gan', 'train_gan'])}_{idx}.py"
            else:
                text = g.rnn_file()
                path = f"{proj}/text/{g.pick(['lstm', 'rnn_classifier', 'sentiment'])}_{idx}.py"
            if path in files:
                continue
            add(path, text, kind)

    manifest = {"seed": seed, "files": [], "total_lines": 0, "seeded_bugs": 0}
    for path in sorted(files):
        text, bugs = strip_bugs(files[path])
        ast.parse(text, filename=path)  # every generated file must be valid Python
        full = os.path.join(out_dir, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(text)
        n = text.count("\n")
        manifest["files"].append({"path": path, "kind": kinds[path], "lines": n, "bugs": bugs})
        manifest["total_lines"] += n
        manifest["seeded_bugs"] += len(bugs)
    with open(os.path.join(out_dir, "MANIFEST.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    return manifest

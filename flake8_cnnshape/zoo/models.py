"""torchvision.models: every builder the analysis knows, and get_model."""
from .convnext import convnext_base, convnext_large, convnext_small, convnext_tiny
from .densenet import densenet121, densenet161, densenet169, densenet201
from .efficientnet import (efficientnet_b0, efficientnet_b1, efficientnet_b2, efficientnet_b3, efficientnet_b4,
                           efficientnet_b5, efficientnet_b6, efficientnet_b7, efficientnet_v2_l, efficientnet_v2_m,
                           efficientnet_v2_s)
from .inception import googlenet, inception_v3
from .maxvit import maxvit_t
from .mnasnet import mnasnet0_5, mnasnet0_75, mnasnet1_0, mnasnet1_3
from .mobilenet import mobilenet_v2, mobilenet_v3_large, mobilenet_v3_small
from .regnet import (regnet_x_1_6gf, regnet_x_3_2gf, regnet_x_8gf, regnet_x_16gf, regnet_x_32gf, regnet_x_400mf,
                     regnet_x_800mf, regnet_y_1_6gf, regnet_y_3_2gf, regnet_y_8gf, regnet_y_16gf, regnet_y_32gf,
                     regnet_y_128gf, regnet_y_400mf, regnet_y_800mf)
from .resnet import (resnet18, resnet34, resnet50, resnet101, resnet152, resnext50_32x4d, resnext101_32x8d,
                     resnext101_64x4d, wide_resnet50_2, wide_resnet101_2)
from .shufflenet import shufflenet_v2_x0_5, shufflenet_v2_x1_0, shufflenet_v2_x1_5, shufflenet_v2_x2_0
from .swin import swin_b, swin_s, swin_t, swin_v2_b, swin_v2_s, swin_v2_t
from .squeezenet import squeezenet1_0, squeezenet1_1
from .video import mc3_18, r2plus1d_18, r3d_18
from .vit import vit_b_16, vit_b_32, vit_h_14, vit_l_16, vit_l_32
from .vgg import alexnet, vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn

BUILDERS = {
    "alexnet": alexnet,
    "convnext_tiny": convnext_tiny, "convnext_small": convnext_small, "convnext_base": convnext_base,
    "convnext_large": convnext_large,
    "densenet121": densenet121, "densenet161": densenet161, "densenet169": densenet169, "densenet201": densenet201,
    "efficientnet_b0": efficientnet_b0, "efficientnet_b1": efficientnet_b1, "efficientnet_b2": efficientnet_b2,
    "efficientnet_b3": efficientnet_b3, "efficientnet_b4": efficientnet_b4, "efficientnet_b5": efficientnet_b5,
    "efficientnet_b6": efficientnet_b6, "efficientnet_b7": efficientnet_b7,
    "efficientnet_v2_s": efficientnet_v2_s, "efficientnet_v2_m": efficientnet_v2_m, "efficientnet_v2_l": efficientnet_v2_l,
    "googlenet": googlenet, "inception_v3": inception_v3,
    "maxvit_t": maxvit_t,
    "mnasnet0_5": mnasnet0_5, "mnasnet0_75": mnasnet0_75, "mnasnet1_0": mnasnet1_0, "mnasnet1_3": mnasnet1_3,
    "mobilenet_v2": mobilenet_v2, "mobilenet_v3_large": mobilenet_v3_large, "mobilenet_v3_small": mobilenet_v3_small,
    "mc3_18": mc3_18, "r2plus1d_18": r2plus1d_18, "r3d_18": r3d_18,
    "regnet_y_400mf": regnet_y_400mf, "regnet_y_800mf": regnet_y_800mf, "regnet_y_1_6gf": regnet_y_1_6gf,
    "regnet_y_3_2gf": regnet_y_3_2gf, "regnet_y_8gf": regnet_y_8gf,
    "regnet_y_16gf": regnet_y_16gf, "regnet_y_32gf": regnet_y_32gf, "regnet_y_128gf": regnet_y_128gf,
    "regnet_x_400mf": regnet_x_400mf, "regnet_x_800mf": regnet_x_800mf,
    "regnet_x_1_6gf": regnet_x_1_6gf, "regnet_x_3_2gf": regnet_x_3_2gf, "regnet_x_8gf": regnet_x_8gf,
    "regnet_x_16gf": regnet_x_16gf, "regnet_x_32gf": regnet_x_32gf,
    "resnet18": resnet18, "resnet34": resnet34, "resnet50": resnet50, "resnet101": resnet101, "resnet152": resnet152,
    "resnext50_32x4d": resnext50_32x4d, "resnext101_32x8d": resnext101_32x8d, "resnext101_64x4d": resnext101_64x4d,
    "wide_resnet50_2": wide_resnet50_2, "wide_resnet101_2": wide_resnet101_2,
    "shufflenet_v2_x0_5": shufflenet_v2_x0_5, "shufflenet_v2_x1_0": shufflenet_v2_x1_0,
    "shufflenet_v2_x1_5": shufflenet_v2_x1_5, "shufflenet_v2_x2_0": shufflenet_v2_x2_0,
    "swin_t": swin_t, "swin_s": swin_s, "swin_b": swin_b, "swin_v2_t": swin_v2_t, "swin_v2_s": swin_v2_s,
    "swin_v2_b": swin_v2_b,
    "squeezenet1_0": squeezenet1_0, "squeezenet1_1": squeezenet1_1,
    "vgg11": vgg11, "vgg11_bn": vgg11_bn, "vgg13": vgg13, "vgg13_bn": vgg13_bn,
    "vgg16": vgg16, "vgg16_bn": vgg16_bn, "vgg19": vgg19, "vgg19_bn": vgg19_bn,
    "vit_b_16": vit_b_16, "vit_b_32": vit_b_32, "vit_l_16": vit_l_16, "vit_l_32": vit_l_32, "vit_h_14": vit_h_14,
}


def get_model(name, **config):
    return BUILDERS[name.lower()](**config)

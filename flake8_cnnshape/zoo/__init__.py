"""Shape-equivalent sources of torchvision's classification and video models.

These files are never imported: the analysis reads them as it reads another
file of a project (interp/project.py), when a file builds a torchvision model
(`torchvision.models.resnet18(weights=...)`), so that the layers a user adds
after one (`model.fc = nn.Linear(...)`) are checked against what it gives.
Each builder keeps torchvision's top-level children (their names, order and
output shapes) and parameter counts; the tests check both against torchvision
itself on the meta device, at many input sizes. Weights change no shape: they
are accepted and ignored.
"""

"""flake8-cnnshape: find PyTorch layer size mismatches without running torch."""
__version__ = "0.1.0"

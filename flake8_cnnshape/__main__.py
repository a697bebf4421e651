"""`python -m flake8_cnnshape`: the `cnnshape` command, where no script is on PATH."""
import sys

from .cli import main

sys.exit(main())

"""The flake8 face stays light: loading the plugin imports no analysis code,
and the off-by-default list it registers is the one the reports use."""
import subprocess
import sys

from flake8_cnnshape import diagnostics, plugin


def test_off_by_default_lists_agree():
    assert plugin.OFF_BY_DEFAULT == diagnostics.OFF_BY_DEFAULT


def test_loading_the_plugin_imports_no_analysis():
    code = "import sys, flake8_cnnshape.plugin; print(sorted(m for m in sys.modules if m.startswith('flake8_cnnshape')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['flake8_cnnshape', 'flake8_cnnshape.plugin']"

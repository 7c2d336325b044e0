"""Stand-in for get-pip.py, which ansible-test downloads from a host that may be unreachable.

ansible-test runs this file with runpy inside a fresh virtualenv's interpreter, passing pip's install arguments.
ensurepip must run in a subprocess: run in-process it leaves pip with broken CA settings.
"""
import subprocess
import sys

IGNORED = {"--no-setuptools", "--no-wheel"}
arguments = [argument for argument in sys.argv[1:] if argument not in IGNORED]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
subprocess.check_call([sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--quiet"] + arguments)

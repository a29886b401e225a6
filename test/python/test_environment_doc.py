"""docs/environment.md lists every FFTCONV_* variable the sources read, and
no other."""

import os
import re
import subprocess

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
VARIABLE = re.compile(r"FFTCONV_[A-Z][A-Z0-9_]*[A-Z0-9]")
# Where a source reads the environment: os.environ / os.getenv in Python,
# getenv in C and C++, $NAME or ${NAME...} in shell.
READS = re.compile(
    r"""(?:environ(?:\.get)?[\[(]\s*|getenv\(\s*)["'](FFTCONV_\w+)["']|\$\{?(FFTCONV_\w+)""")
SOURCES = (".py", ".sh", ".cpp", ".h", ".c")


def read_variables():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    found = set()
    for name in files:
        if not name.endswith(SOURCES) or name.startswith("docs/"):
            continue
        with open(os.path.join(ROOT, name), errors="replace") as f:
            text = f.read()
        found |= {a or b for a, b in READS.findall(text)}
    return found


def test_every_variable_is_documented():
    with open(os.path.join(ROOT, "docs", "environment.md")) as f:
        documented = set(VARIABLE.findall(f.read()))
    read = read_variables()
    assert read - documented == set(), "read but not in docs/environment.md"
    assert documented - read == set(), "in docs/environment.md but read nowhere"

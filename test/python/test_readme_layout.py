"""README.md's layout table matches the tree: every path it names exists,
and every tool, script, Python module, doc and include/fftconv entry is
named in it."""

import itertools
import os
import re

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def layout_table():
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    start = text.index("## Layout")
    return text[start : text.index("\n## ", start + 1) if "\n## " in text[start + 1 :] else len(text)]


def expand(path):
    """`a/{b,c}/d` -> a/b/d, a/c/d."""
    parts = re.split(r"\{([^}]*)\}", path)
    choices = [[p] if i % 2 == 0 else p.split(",") for i, p in enumerate(parts)]
    return ["".join(c) for c in itertools.product(*choices)]


def test_named_paths_exist():
    table = layout_table()
    first_cells = [line.split("|")[1] for line in table.splitlines() if line.startswith("| `")]
    named = [p for cell in first_cells for p in re.findall(r"`([^`]+)`", cell)]
    assert named
    missing = [p for pattern in named for p in expand(pattern) if not os.path.exists(os.path.join(ROOT, p))]
    assert missing == []


def test_tree_is_named():
    table = layout_table()

    def entries(folder, keep=lambda name: True):
        return [n for n in sorted(os.listdir(os.path.join(ROOT, folder))) if keep(n) and not n.startswith(("_", "."))]

    expected = (
        [f"tools/{n}" for n in entries("tools", lambda n: n != "CMakeLists.txt")]
        + entries("scripts")
        + entries("python/fftconv", lambda n: n.endswith(".py"))
        + entries("docs")
        + [f"include/fftconv/{n}" for n in entries("include/fftconv", lambda n: n != "CMakeLists.txt")]
    )
    unnamed = [e for e in expected if os.path.basename(e) not in table]
    assert unnamed == []

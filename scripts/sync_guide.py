#!/usr/bin/env python3
"""Copy the demo addon's files into the developer guide and its model into the contract.

ihub/readme/USAGE.md shows ihub_demo_integration file by file in fenced blocks whose info
string names the file (```python models/ihub_integration_demo.py); the docstring of
``ihub.abstract_integration`` shows the demo's model as its example, without comments and
docstrings. Tests fail when either differs from the demo; run this script after changing the
demo to bring both up to date.
"""

import ast
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GUIDE = REPO / "ihub" / "readme" / "USAGE.md"
DEMO = REPO / "ihub_demo_integration"
CONTRACT = REPO / "ihub" / "models" / "ihub_abstract_integration.py"
DEMO_MODEL = DEMO / "models" / "ihub_integration_demo.py"
EXAMPLE = re.compile(
    r"(    Example \(``ihub_demo_integration``, whose tests keep the two equal\)::\n\n)"
    r"(.*?)(\n    ``AbstractIntegration`` is importable)",
    re.DOTALL,
)
FILE_BLOCK = re.compile(r"^(```\w+ ([\w./]+)\n)(.*?)^```$", re.MULTILINE | re.DOTALL)


def example_code(source):
    """``source`` without docstrings and comment lines, indented for the docstring."""
    skipped = set()
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if (
            isinstance(node, ast.ClassDef | ast.FunctionDef)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            skipped.update(range(body[0].lineno, body[0].end_lineno + 1))
    lines = [
        line
        for number, line in enumerate(source.splitlines(), 1)
        if number not in skipped and not line.strip().startswith("#")
    ]
    return "\n".join(f"        {line}" if line.strip() else "" for line in lines).strip("\n")


def sync(path, pattern, replace):
    text = path.read_text()
    synced = pattern.sub(replace, text)
    if synced != text:
        path.write_text(synced)
        print(f"updated {path.relative_to(REPO)}")


def main():
    sync(
        GUIDE,
        FILE_BLOCK,
        lambda m: m.group(1) + (DEMO / m.group(2)).read_text() + "```",
    )
    code = example_code(DEMO_MODEL.read_text())
    sync(CONTRACT, EXAMPLE, lambda m: m.group(1) + code + "\n" + m.group(3))
    return 0


if __name__ == "__main__":
    sys.exit(main())

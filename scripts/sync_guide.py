#!/usr/bin/env python3
"""Copy the demo addon's files into the developer guide and its model into the contract;
check that the scaffold template still makes the demo's skeleton.

ihub/readme/USAGE.md shows ihub_demo_integration file by file in fenced blocks whose info
string names the file (```python models/ihub_integration_demo.py); the docstring of
``ihub.abstract_integration`` shows the demo's model as its example, without comments and
docstrings. Tests fail when either differs from the demo; run this script after changing the
demo to bring both up to date.

The scaffold template (ihub/scaffold/ihub_integration, for ``odoo-bin scaffold -t``) cannot be
copied from the demo, whose run does something else; rendered with the name ``demo`` it must
give the demo's files, ids, type, access rights and class attributes. This script prints what
differs (exit code 1) for a person to fix; a test runs the same check.
"""

import ast
import csv
import re
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GUIDE = REPO / "ihub" / "readme" / "USAGE.md"
DEMO = REPO / "ihub_demo_integration"
CONTRACT = REPO / "ihub" / "models" / "ihub_abstract_integration.py"
DEMO_MODEL = DEMO / "models" / "ihub_integration_demo.py"
TEMPLATE = REPO / "ihub" / "scaffold" / "ihub_integration"
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


def scaffold(name, dest):
    """Render the template as ``odoo-bin scaffold -t TEMPLATE name dest`` does; the addon path."""
    from odoo.cli.scaffold import directory, snake, template  # noqa: PLC0415

    template(str(TEMPLATE)).render_to(snake(name), directory(str(dest)), params={"name": name})
    return Path(dest) / snake(name)


def class_attributes(source):
    """Names assigned in the body of the first class of ``source``, fields (``fields.X()``)
    aside: the flags and settings of the contract."""
    cls = next(node for node in ast.walk(ast.parse(source)) if isinstance(node, ast.ClassDef))
    return {
        target.id
        for node in cls.body
        if isinstance(node, ast.Assign)
        and not (
            isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Attribute)
            and isinstance(node.value.func.value, ast.Name)
            and node.value.func.value.id == "fields"
        )
        for target in node.targets
        if isinstance(target, ast.Name)
    }


def _xml_records(path):
    """{xml id: (model, inherited view, {field: text}, [xpath exprs])} of an Odoo data file."""
    records = {}
    for record in ET.parse(path).getroot().iter("record"):
        fields = {f.get("name"): f.get("ref") or (f.text or "").strip() for f in record}
        xpaths = [x.get("expr") for x in record.iter("xpath")]
        records[record.get("id")] = (record.get("model"), fields.pop("inherit_id", None), xpaths)
        if record.get("model") == "ihub.integration.type":
            records[record.get("id")] += (fields,)
    return records


def _manifest_data(path):
    return ast.literal_eval(path.read_text())["data"]


def template_differences():
    """What the scaffold template, rendered as ``demo``, does differently from the demo addon."""
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        addon = scaffold("demo", tmp)
        for path in sorted(p for p in addon.rglob("*") if p.is_file()):
            local = path.relative_to(addon)
            demo = DEMO / local
            if not demo.exists():
                problems.append(f"{local}: the demo has no such file")
            elif local.suffix == ".xml":
                theirs = _xml_records(demo)
                for xmlid, record in _xml_records(path).items():
                    if theirs.get(xmlid) != record:
                        problems.append(f"{local}: {xmlid} differs (model, view, xpath, type)")
            elif local.suffix == ".csv":
                with open(path) as ours, open(demo) as theirs:
                    if list(csv.reader(ours)) != list(csv.reader(theirs)):
                        problems.append(f"{local}: access rights differ")
            elif local.name == "__manifest__.py":
                missing = set(_manifest_data(path)) - set(_manifest_data(demo))
                if missing:
                    problems.append(f"{local}: data files the demo does not load: {missing}")
        model = "models/ihub_integration_demo.py"
        ours, theirs = (class_attributes((base / model).read_text()) for base in (addon, DEMO))
        if ours != theirs:
            problems.append(f"{model}: class attributes differ: {sorted(ours ^ theirs)}")
    return problems


def main():
    sync(
        GUIDE,
        FILE_BLOCK,
        lambda m: m.group(1) + (DEMO / m.group(2)).read_text() + "```",
    )
    code = example_code(DEMO_MODEL.read_text())
    sync(CONTRACT, EXAMPLE, lambda m: m.group(1) + code + "\n" + m.group(3))
    problems = template_differences()
    for problem in problems:
        print(f"{TEMPLATE.relative_to(REPO)} rendered as 'demo': {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

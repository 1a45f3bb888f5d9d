#!/usr/bin/env python3
"""Copy the demo addon's files into the developer guide's file blocks.

ihub/readme/USAGE.md shows ihub_demo_integration file by file in fenced blocks whose info
string names the file (```python models/ihub_integration_demo.py). A test fails when a block
and its file differ; run this script after changing the demo to bring the guide up to date.
"""

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GUIDE = REPO / "ihub" / "readme" / "USAGE.md"
DEMO = REPO / "ihub_demo_integration"
FILE_BLOCK = re.compile(r"^(```\w+ ([\w./]+)\n)(.*?)^```$", re.MULTILINE | re.DOTALL)


def main():
    text = GUIDE.read_text()
    synced = FILE_BLOCK.sub(lambda m: m.group(1) + (DEMO / m.group(2)).read_text() + "```", text)
    if synced != text:
        GUIDE.write_text(synced)
        print(f"updated {GUIDE.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

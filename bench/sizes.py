"""The size limits of the code (issue 10): modules over 400 lines and functions over 60, in
the library and the CLI. Prints one line each and a count; exits 0 either way (a report).

    python bench/sizes.py
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULE_LINES, FUNCTION_LINES = 400, 60


def main() -> int:
    modules, functions = [], []
    for path in sorted([*(ROOT / "src").rglob("*.py"), *(ROOT / "cli").rglob("*.py")]):
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(ROOT)
        lines = len(text.splitlines())
        if lines > MODULE_LINES:
            modules.append((lines, str(rel)))
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > FUNCTION_LINES:
                    functions.append((length, f"{rel}:{node.lineno} {node.name}"))
    for lines, where in sorted(modules, reverse=True):
        print(f"module   {lines:5d} lines  {where}")
    for lines, where in sorted(functions, reverse=True):
        print(f"function {lines:5d} lines  {where}")
    print(f"{len(modules)} modules over {MODULE_LINES} lines, {len(functions)} functions over {FUNCTION_LINES} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())

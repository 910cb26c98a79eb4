"""What a batch reads besides a plain CSV file (issue 14): Excel's ``sep=`` first line, and which
kind of input a path is.
"""

from __future__ import annotations

import re

# Excel's first line naming the delimiter (sep=; sep=, sep=| or a tab), written before the header
_SEP_LINE = re.compile(r"sep=(\\t|[,;\t|])[ \t]*\r?\n?$")


def sep_line(line: str) -> str | None:
    """The delimiter an Excel ``sep=`` line names (``sep=\\t`` spelt out is a tab), else None."""
    said = _SEP_LINE.match(line)
    if said is None:
        return None
    return "\t" if said.group(1) == "\\t" else said.group(1)

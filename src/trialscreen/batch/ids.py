"""Patient ids given on several rows of a batch: found as the rows are read, reported once in
the summary, grouped by id (the first rows of each listed, bounded), or made errors."""

from __future__ import annotations


class Ids:
    """The ids seen so far, to report those several rows give (the first rows of each, bounded)."""

    def __init__(self, index: int, error: bool):
        self.index, self.error = index, error
        self.first: dict = {}            # id -> the line of its first row
        self.repeats: dict = {}          # id -> [how many rows, the first lines listed]

    def repeat_of(self, cells: list, line: int) -> int | None:
        """The line of the first row with this row's id, when this row repeats it."""
        pid = cells[self.index].strip() if self.index < len(cells) else ""
        if not pid:
            return None
        first = self.first.setdefault(pid, line)
        if first == line:
            return None
        seen = self.repeats.setdefault(pid, [1, [first]])
        seen[0] += 1
        if len(seen[1]) < _LISTED:
            seen[1].append(line)
        return first

    def report(self) -> tuple:
        """(the sentences for the summary, how many rows repeat an earlier row's id)."""
        shown = sorted(self.repeats.items(), key=lambda kv: (-kv[1][0], kv[1][1][0]))
        out = [f"ID {pid} appears {n:,} times (rows {', '.join(map(str, lines))}{', ...' if n > len(lines) else ''})"
               + (": every row after the first is an error" if self.error else "")
               for pid, (n, lines) in shown[:_LISTED]]
        if len(shown) > _LISTED:
            out.append(f"... and {len(shown) - _LISTED:,} more ids given on several rows")
        return out, sum(n - 1 for n, _ in self.repeats.values())


_LISTED = 20

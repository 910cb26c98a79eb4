"""Patient ids a batch has met, so that an id given to several rows is said (issue 14).

One dictionary entry per distinct id (its first row) is all that grows with the file; for an id
met again, its count and its first few rows are kept, for a bounded number of such ids.
"""

from __future__ import annotations

MODES = ("warn", "error")
_ROWS_SHOWN = 10          # rows listed per repeated id
_IDS_KEPT = 10_000        # repeated ids whose rows are listed; the others are counted
_IDS_SAID = 20            # repeated ids said in the summary's warnings


class SeenIds:
    """The ids of a batch in input order. ``refuse``: a repeat is an error row (``--duplicate-ids
    error``) rather than screened and said in the summary."""

    def __init__(self, mode: str = "warn"):
        self.refuse = mode == "error"
        self.first: dict[str, int] = {}
        self.repeats: dict[str, list] = {}     # id -> [times given, its first rows ...]
        self.uncounted = 0                      # repeats of ids past _IDS_KEPT

    def see(self, pid: str, row: int) -> int | None:
        """Note ``pid`` at ``row``: the row that held it first when it was given before, else None."""
        first = self.first.setdefault(pid, row)
        if first == row:
            return None
        kept = self.repeats.get(pid)
        if kept is None:
            if len(self.repeats) >= _IDS_KEPT:
                self.uncounted += 1
                return first
            kept = self.repeats[pid] = [1, first]
        kept[0] += 1
        if len(kept) <= _ROWS_SHOWN:
            kept.append(row)
        return first

    def block(self, block: list, id_index: int) -> dict:
        """Note the ids of a block of rows [(row, cells or None, error)]; when repeats are refused,
        {index in the block: the row that held its id first} of the rows whose id was given before."""
        repeated = {}
        for i, (row, cells, _) in enumerate(block):
            if cells is not None and id_index < len(cells) and (pid := cells[id_index].strip()):
                first = self.see(pid, row)
                if first is not None and self.refuse:
                    repeated[i] = first
        return repeated

    def as_list(self) -> list[dict]:
        """Each repeated id, the most repeated first: its count and its first rows."""
        order = sorted(self.repeats.items(), key=lambda kv: (-kv[1][0], kv[1][1]))
        return [{"id": pid, "times": kept[0], "rows": kept[1:]} for pid, kept in order]

    def sentences(self, unit: str = "rows") -> list[str]:
        """What the summary says: one sentence per repeated id (the most repeated first, at most
        _IDS_SAID), and how many more there are."""
        said = []
        for entry in self.as_list()[:_IDS_SAID]:
            rows = ", ".join(map(str, entry["rows"])) + (", ..." if entry["times"] > len(entry["rows"]) else "")
            said.append(f"ID {entry['id']} appears {entry['times']:,} times ({unit} {rows})"
                        + ("; the repeats are error rows" if self.refuse else ""))
        more = len(self.repeats) - _IDS_SAID
        if more > 0 or self.uncounted:
            said.append(f"... and {max(more, 0):,} more ids given more than once"
                        + (f" (and {self.uncounted:,} further repeats)" if self.uncounted else ""))
        if said and not self.refuse:
            said[0] += " (each repeat is screened; --duplicate-ids error makes them error rows)"
        return said

    def refused(self, pid: str, first: int) -> str:
        """The error of a row repeating ``pid``, first given at row ``first``."""
        return f"the id {pid} was given before, in row {first}: a patient has one row (--duplicate-ids error)"

"""One exception hierarchy for the whole library.

Every error says *where* (file, line, column, row, field) and *what to do*.
Each class inherits from :class:`TrialscreenError` and from the matching
builtin, so ``except ValueError`` still works for callers who do not know us.
The command line turns these into one sentence on stderr and an exit code.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """Where a problem is. Every part is optional."""

    file: str | None = None
    line: int | None = None
    column: int | None = None
    row: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        parts = []
        if self.file:
            place = self.file
            if self.line is not None:
                place += f":{self.line}"
                if self.column is not None:
                    place += f":{self.column}"
            parts.append(place)
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.field:
            parts.append(f"field '{self.field}'")
        return ", ".join(parts)


@dataclass(frozen=True)
class Problem:
    """One finding of validation: a place, a message and a hint."""

    location: Location
    message: str
    hint: str = ""
    severity: str = "error"  # "error" or "warning"

    def __str__(self) -> str:
        where = str(self.location)
        text = f"{where}: {self.message}" if where else self.message
        if self.hint:
            text += f" ({self.hint})"
        return text

    def as_dict(self) -> dict:
        loc = self.location
        return {
            "severity": self.severity,
            "file": loc.file,
            "line": loc.line,
            "column": loc.column,
            "row": loc.row,
            "field": loc.field,
            "message": self.message,
            "hint": self.hint,
        }


# Patient values (a lab result, a date of birth) are kept out of error messages
# unless this is switched on (the command line's --verbose): messages end up in
# logs and tickets, and the field name and row number are enough to find them.
SHOW_VALUES = False


class TrialscreenError(Exception):
    """Base of every error the library raises on purpose.

    ``value`` is the offending input value, shown only when SHOW_VALUES is on.
    """

    exit_code = 1

    def __init__(self, message: str, location: Location | None = None, hint: str = "", value=None):
        self.message = message
        self.location = location or Location()
        self.hint = hint
        self.value = value
        super().__init__(message)

    def __str__(self) -> str:
        message = self.message
        if self.value is not None and SHOW_VALUES:
            message += f" (value: {self.value!r})"
        return str(Problem(self.location, message, self.hint))


class InputError(TrialscreenError, ValueError):
    """A file the user gave us is wrong: it cannot be screened as it is."""

    exit_code = 65  # EX_DATAERR


class FileReadError(TrialscreenError, OSError):
    """A file that does not exist or cannot be read."""

    exit_code = 66  # EX_NOINPUT


class PatientError(InputError):
    """A patient record is malformed or holds an impossible value."""


class UnitError(InputError):
    """A unit string that is unknown, ambiguous or of the wrong dimension."""


class _Problems:
    """An error that carries every problem found, not only the first."""

    problems: list

    def _take(self, problems: list[Problem]) -> Problem:
        self.problems = list(problems)
        return self.problems[0]

    def __str__(self) -> str:
        if not getattr(self, "problems", None):
            return super().__str__()  # type: ignore[misc]
        n = len(self.problems)
        head = str(self.problems[0])
        if n == 1:
            return head
        return f"{head} (and {n - 1} more problem{'s' if n > 2 else ''})"


class CriteriaError(_Problems, InputError):
    """A criteria file is invalid. Carries every problem, not only the first."""

    def __init__(self, problems: list[Problem]):
        first = self._take(problems)
        super().__init__(first.message, first.location, first.hint)


class MappingError(_Problems, InputError):
    """A --columns mapping that does not fit the file's header (an entry matching no column,
    a field that names nothing, a unit its lab cannot have): every problem, before any row."""

    def __init__(self, problems: list[Problem]):
        first = self._take(problems)
        super().__init__(first.message, first.location, first.hint)


class FileWriteError(TrialscreenError, OSError):
    """An output file that cannot be written."""

    exit_code = 73  # EX_CANTCREAT


class ResourceError(TrialscreenError, OSError):
    """The machine could not finish the run: a screening process was killed (out of memory)."""

    exit_code = 71  # EX_OSERR


class TrialNotFound(TrialscreenError, LookupError):
    """A trial id or path that names no criteria file."""

    exit_code = 2  # a usage error: the option's value names nothing


class UsageError(TrialscreenError, ValueError):
    """The command was called wrongly (bad option value, bad date)."""

    exit_code = 2  # the same code the command-line parser uses

"""Date cells as exports write them, to the ISO dates the record reader reads.

A mapping may say how a file (or one column) writes dates: a strftime format (``%d.%m.%Y``) or
the spelling spreadsheets use (``dd.mm.yyyy``, ``mm/dd/yyyy``, ``yyyy-mm-dd hh:mm:ss``). Without
one, ISO dates are read as they are and an ISO timestamp (``2025-05-28 14:30:00``,
``2025-05-28T14:30``) gives its date. A timestamp that carries a zone (``Z``, ``+02:00``)
becomes the date in the mapping's ``timezone`` (the site's); without one it is an error for its
cell, never a date guessed one day off.
"""

from __future__ import annotations

import functools
import re
from datetime import datetime, timezone

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_STAMP = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)\s*(Z|[+-]\d{2}:?\d{2})?$")
_TIME_PART = re.compile(r"^[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?$")
_TOKENS = re.compile(r"yyyy|yy|dd|d|mm|m|hh|h|ss|s|[^a-z]+|[a-z]+", re.IGNORECASE)
_CODES = {"yyyy": "%Y", "yy": "%y", "dd": "%d", "d": "%d", "hh": "%H", "h": "%H", "ss": "%S", "s": "%S"}


def date_format_of(text, location=None) -> str:
    """A mapping's date_format as a strftime format; a spelling such as dd.mm.yyyy is
    translated (``mm`` after ``hh`` is minutes, else the month). A format that cannot name a
    day, a month and a year is an InputError at ``location``."""
    from trialscreen.errors import InputError

    if not isinstance(text, str) or not text.strip():
        raise InputError("date_format must be text such as dd.mm.yyyy or %d.%m.%Y", location)
    text = text.strip()
    if "%" in text:
        fmt = text
    else:
        out, after_hour = [], False
        for token in _TOKENS.findall(text):
            low = token.lower()
            if low in ("mm", "m"):
                out.append("%M" if after_hour else "%m")
            elif low in _CODES:
                out.append(_CODES[low])
                after_hour = low in ("hh", "h")
            elif token.isalpha():
                raise InputError(f"date_format '{text}': '{token}' is not a part of a date", location,
                                 "use dd, mm, yyyy (yy), hh, mm, ss, or strftime codes such as %d.%m.%Y")
            else:
                out.append(token.replace("%", "%%"))
        fmt = "".join(out)
    named = ("%d" in fmt, any(c in fmt for c in ("%m", "%b", "%B")), "%Y" in fmt or "%y" in fmt)
    if not all(named):
        raise InputError(f"date_format '{text}' does not name a day, a month and a year", location,
                         "e.g. dd.mm.yyyy, mm/dd/yyyy, yyyy-mm-dd hh:mm:ss or %d.%m.%Y")
    try:
        datetime(2025, 5, 28, 14, 30).strftime(fmt)
    except ValueError as exc:
        raise InputError(f"date_format '{text}' is not a date format: {exc}", location) from None
    return fmt


def timezone_of(name, location=None) -> str:
    """An IANA zone name (Europe/Berlin, America/New_York, UTC) the machine knows."""
    from trialscreen.errors import InputError

    try:
        _zone(str(name))
    except (ValueError, KeyError, OSError):
        raise InputError(f"timezone '{name}' is not an IANA time zone", location,
                         "e.g. Europe/Berlin, America/Chicago or UTC: the zone of the site whose dates "
                         "these are") from None
    return str(name)


@functools.lru_cache(maxsize=16)
def _zone(name: str):
    from zoneinfo import ZoneInfo

    return timezone.utc if name.upper() == "UTC" else ZoneInfo(name)


def iso_date(text: str, fmt: str | None, zone: str | None) -> str:
    """The ISO date a date cell stands for; ValueError(what to do) if it cannot be read. A cell
    written YYYY-MM-DD is given back as it is: the record reader says if it is no day."""
    if fmt is None and _ISO_DATE.match(text):
        return text
    return local_moment(text, fmt, zone).date().isoformat()


def local_moment(text: str, fmt: str | None, zone: str | None) -> datetime:
    """The site's local date and time a date cell stands for (midnight when it gives no time);
    ValueError(what to do) if it cannot be read."""
    if fmt is None:
        if _ISO_DATE.match(text):
            try:
                return datetime.fromisoformat(text)
            except ValueError:
                raise ValueError("is not a date: there is no such day") from None
        m = _ISO_STAMP.match(text)
        if m is None:
            raise ValueError("is not a date (write dates as YYYY-MM-DD, or give the file's date_format in the "
                             "--columns mapping, e.g. date_format: dd.mm.yyyy)")
        written = text.replace(" ", "T", 1).replace("Z", "+00:00").replace(",", ".")
        if m.group(3) is not None:
            return _local(datetime.fromisoformat(written), zone)
        day = datetime.fromisoformat(m.group(1))     # a date that does not exist is no date
        try:
            return datetime.fromisoformat(written)
        except ValueError:
            return day                               # the date is what a rule reads
    try:
        stamp = datetime.strptime(text, fmt)
    except ValueError:
        stamp = _date_then_time(text, fmt)
    return _local(stamp, zone) if stamp.tzinfo is not None else stamp


def _date_then_time(text: str, fmt: str) -> datetime:
    """A cell with a time after the date its format names (28.05.2025 14:30 for %d.%m.%Y)."""
    for cut in range(len(text) - 1, 5, -1):
        if text[cut] in " T" and _TIME_PART.match(text[cut:]):
            try:
                day = datetime.strptime(text[:cut], fmt)
            except ValueError:
                break
            # the day and its time; with a zone, the instant (the caller takes it to the site's date)
            tail = text[cut + 1:].replace(" ", "").replace("Z", "+00:00").replace(",", ".")
            if len(tail.split(":")[0]) == 1:
                tail = "0" + tail                        # 9:00 as 09:00
            try:
                return datetime.fromisoformat(f"{day.date().isoformat()}T{tail}")
            except ValueError:
                return day                               # a time that is no time: the date is what a rule reads
    raise ValueError("is not a date written as the mapping's date_format says: correct the cell, or the "
                     "date_format")


def _local(stamp: datetime, zone: str | None) -> datetime:
    if zone is None:
        raise ValueError("a timestamp with a time zone (Z or an offset): say the site's timezone in the mapping "
                         "(timezone: Europe/Berlin), so its local date is known")
    return stamp.astimezone(_zone(zone)).replace(tzinfo=None)

"""Reading input bytes as text, and making input text safe to print.

Every input (patient JSON, criteria YAML, CSV) is UTF-8, with or without a
byte-order mark. UTF-16 is recognised and named, so the message can say what
to do. Text from input that is printed back (an id, a value in a reason) has
its control characters and terminal escape sequences escaped.
"""

from __future__ import annotations

import re

from trialscreen.errors import InputError, Location

MAX_BYTES = 5_000_000


def looks_utf16(data: bytes) -> bool:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    head = data[:400]
    return len(head) >= 4 and (head[1::2].count(0) > len(head) // 4 or head[0::2].count(0) > len(head) // 4)


def decode(data: bytes, name: str, error=InputError, limit: int = MAX_BYTES) -> str:
    """UTF-8 (a BOM is dropped) or a located error that says what to do. ``limit``: the largest
    input allowed (a FHIR bundle may be larger than a record)."""
    if len(data) > limit:
        raise error(f"the file is larger than {limit // 1_000_000} MB", Location(name),
                    hint="split it or check that it is the right file")
    if looks_utf16(data):
        raise error("the file is UTF-16", Location(name), hint="save it as UTF-8")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise error(f"the file is not UTF-8 (byte {exc.start + 1})", Location(name, line, col),
                    hint="save it as UTF-8") from None
    return text[1:] if text.startswith("\ufeff") else text


# control characters, C1 codes, undecodable bytes, and the bidirectional overrides and isolates
# (U+202A-U+202E, U+2066-U+2069) that would make an id or a value display in another order
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _escape(match) -> str:
    ch = match.group(0)
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte kept by surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text) -> str:
    """Text with control characters, terminal escapes and undecodable bytes escaped."""
    text = str(text)
    return _UNPRINTABLE.sub(_escape, text) if _UNPRINTABLE.search(text) else text


_JSON_UNSAFE = re.compile("[\x7f-\x9f\ud800-\udfff]")


def json_text(obj, indent=None) -> str:
    """JSON with non-ASCII text kept readable but DEL, C1 codes and undecodable
    bytes escaped (json already escapes the other control characters)."""
    import json

    text = json.dumps(obj, indent=indent, ensure_ascii=False, default=str)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)

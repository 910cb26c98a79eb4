"""The on-disk cache: compiled trials and parsed vocabularies kept between runs, so that a
one-patient screen need not import or run the YAML parser.

A cache never changes a result:
- an entry's key is a SHA-256 of everything its value depends on: the input bytes, the
  path it was read from, and a fingerprint of this package's code and data files and of
  the Python version (change any of them and the old entry is never looked up);
- an entry stores a SHA-256 of its own payload, checked on every read;
- anything unexpected (a missing, short, edited or unreadable file, a checksum mismatch,
  a payload that does not decode, or, for pickled entries, a class from outside this
  package) is a miss: the value is computed again as if there were no cache.
TRIALSCREEN_CACHE names the folder (default ~/.cache/trialscreen); a folder that cannot be
written only turns the saving off.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import sys
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

MAGIC = b"trialscreen-cache 1\n"
_PACKAGE = Path(__file__).resolve().parent
_SUFFIXES = (".py", ".yaml", ".txt", ".json")


def cache_dir() -> Path:
    base = os.environ.get("TRIALSCREEN_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "trialscreen")
    return Path(base)


@lru_cache(maxsize=None)
def fingerprint() -> bytes:
    """A digest of this package's code and data files and of the Python version."""
    digest = hashlib.sha256(sys.version.encode())
    for path in sorted(p for p in _PACKAGE.rglob("*") if p.suffix in _SUFFIXES and p.is_file()):
        digest.update(str(path.relative_to(_PACKAGE)).encode())
        digest.update(path.read_bytes())
    return digest.digest()


def key_of(kind: str, *parts: bytes | str) -> str:
    digest = hashlib.sha256(fingerprint())
    digest.update(kind.encode())
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


def read_entry(path: Path) -> bytes | None:
    """The payload of a cache file whose header and checksum are intact, else None."""
    try:
        blob = path.read_bytes()
    except OSError:
        return None
    head = len(MAGIC) + 32
    if len(blob) < head or not blob.startswith(MAGIC):
        return None
    payload = blob[head:]
    if hashlib.sha256(payload).digest() != blob[len(MAGIC):head]:
        return None
    return payload


def write_entry(path: Path, payload: bytes) -> None:
    """Write atomically (a temporary file renamed into place); failures turn saving off."""
    import tempfile

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(MAGIC + hashlib.sha256(payload).digest() + payload)
        os.replace(tmp, path)
    except OSError:
        pass


class _PackageUnpickler(pickle.Unpickler):
    """Rebuilds only this package's own classes and a few plain built-in types."""

    ALLOWED = {("builtins", "frozenset"), ("builtins", "set"), ("datetime", "date"), ("copyreg", "_reconstructor"),
               ("builtins", "object")}

    def find_class(self, module: str, name: str) -> Any:
        if module == "trialscreen" or module.startswith("trialscreen.") or (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a cache entry")


def cached(kind: str, parts: tuple, build: Callable[[], Any]) -> Any:
    """The value ``build()`` returns, from the cache when an intact entry for exactly these
    inputs (``parts``: bytes or text) exists."""
    path = cache_dir() / f"{kind}-{key_of(kind, *parts)[:40]}.pickle"
    payload = read_entry(path)
    if payload is not None:
        try:
            return _PackageUnpickler(io.BytesIO(payload)).load()
        except Exception:  # noqa: BLE001 - anything unexpected is a miss
            pass
    value = build()
    try:
        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError):
        return value
    write_entry(path, data)
    return value

"""Reads the tables in ``references/``: the agent and the code share one copy of them."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import NamedTuple

ERROR_CODES_FILE = "sms-error-codes.md"
_HEADER = re.compile(r"^\|\s*Code\s*\|\s*Meaning\s*\|\s*Next step\s*\|\s*$")
_ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|([^|]*)\|([^|]*)\|\s*$")
#: Opens the Meaning of a code after which a send may have gone out anyway.
MAY_HAVE_BEEN_PROCESSED = "**May have been processed.**"
#: Opens the Meaning of a receipt code after which the number cannot receive: it goes on the
#: suppression list.
PERMANENT = "**Permanent.**"
#: Opens the Meaning of a code that proves a send was refused: nothing was sent.
REFUSED = "**Refused: nothing was sent.**"


def references_dir() -> Path:
    """The folder: packaged inside the wheel, or beside the package in the skill folder."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "references", here.parent / "references"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"references/ not found next to {here}")


class ErrorCode(NamedTuple):
    code: str
    meaning: str
    action: str
    section: str
    #: A send answered with this code may still have been accepted: its outcome is unknown.
    may_have_been_processed: bool = False
    #: A receipt with this code means the number cannot receive: later sends skip it.
    permanent: bool = False
    #: A send answered with this code was refused: nothing was sent.
    refused: bool = False


def parse_error_codes(text: str) -> dict[str, ErrorCode]:
    """Rows of every ``| Code | Meaning | Next step |`` table, keyed by code."""
    codes: dict[str, ErrorCode] = {}
    section = ""
    in_table = False
    for line in text.splitlines():
        if line.startswith("## "):
            section, in_table = line[3:].strip(), False
        elif _HEADER.match(line):
            in_table = True
        elif in_table and line.startswith("|"):
            row = _ROW.match(line)
            if row:
                code, meaning, action = (part.strip() for part in row.groups())
                processed = meaning.startswith(MAY_HAVE_BEEN_PROCESSED)
                refused = meaning.startswith(REFUSED)
                permanent = False
                for marker in (MAY_HAVE_BEEN_PROCESSED, REFUSED, PERMANENT):
                    if meaning.startswith(marker):
                        permanent = permanent or marker == PERMANENT
                        meaning = meaning[len(marker):].strip()
                codes[code] = ErrorCode(code, meaning, action, section, processed, permanent,
                                        refused)
        else:
            in_table = False
    return codes


@functools.cache
def error_codes() -> dict[str, ErrorCode]:
    """The error-code table of ``references/sms-error-codes.md``."""
    path = references_dir() / ERROR_CODES_FILE
    return parse_error_codes(path.read_text(encoding="utf-8"))


def lookup(code: str) -> ErrorCode | None:
    """The entry for ``code`` (exact, then case-insensitive), or None."""
    return error_codes().get(code) or _folded_codes().get(code.lower())


@functools.cache
def _folded_codes() -> dict[str, ErrorCode]:
    return {key.lower(): entry for key, entry in error_codes().items()}


def is_permanent(code: str) -> bool:
    """True for a receipt code marked in the table as one the number cannot recover from."""
    entry = lookup(code) if code else None
    return entry is not None and entry.permanent


def may_have_been_processed(code: str) -> bool:
    """True for a code marked in the table as one after which a send may have gone out."""
    entry = lookup(code)
    return entry is not None and entry.may_have_been_processed


LIMITS_FILE = "per-number-limits.md"
_WINDOW_HEADER = re.compile(r"^\|\s*Message contains\s*\|\s*Window\s*\|\s*Meaning\s*\|"
                            r"\s*Retry\s*\|\s*$")
_WINDOW_ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|([^|]*)\|([^|]*)\|([^|]*)\|\s*$")


class LimitWindow(NamedTuple):
    fragment: str  # what the gateway's Chinese message contains
    window: str  # minute | hour | day
    meaning: str
    retry: str  # next minute | next hour | next day


@functools.cache
def limit_windows() -> tuple[LimitWindow, ...]:
    """The windows of ``isv.BUSINESS_LIMIT_CONTROL`` from references/per-number-limits.md."""
    found = []
    in_table = False
    for line in (references_dir() / LIMITS_FILE).read_text(encoding="utf-8").splitlines():
        if _WINDOW_HEADER.match(line):
            in_table = True
        elif in_table and line.startswith("|"):
            row = _WINDOW_ROW.match(line)
            if row:
                found.append(LimitWindow(*(part.strip() for part in row.groups())))
        else:
            in_table = False
    return tuple(found)


def limit_window(message: str) -> LimitWindow | None:
    """The window a BUSINESS_LIMIT_CONTROL message names, or None; of several, the one
    listed last (the table goes from the shortest window to the longest)."""
    named = [w for w in limit_windows() if w.fragment in (message or "")]
    return named[-1] if named else None


def proves_refusal(code: str) -> bool:
    """True only for a code the table marks as a refusal, spelled exactly as there: a send
    answered with any other code may have gone out."""
    entry = error_codes().get(code)
    return entry is not None and entry.refused

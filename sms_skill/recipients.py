"""Reading recipient files row by row (never the whole file in memory), with each bad row
reported by line number."""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from sms_skill import validation as v
from sms_skill.errors import InputError

RESERVED_COLUMNS = {"phone", "sign_name", "template_param"}
#: A line longer than this is no row of numbers or CSV (csv's own field limit is 128 KiB).
LONGEST_LINE = 1 << 20
BLOCK = 1 << 18  # bytes read at a time (a block of numbers: ~22,000 strings in memory)
#: Lines (joined by LF) that are each a mainland number as written, or with a CR after it.
_BARE_LINES = re.compile(r"1[3-9][0-9]{9}\r?(?:\n1[3-9][0-9]{9}\r?)*")


@dataclass
class Row:
    line: int
    phone: str
    sign_name: str | None = None
    params: dict | None = None


@dataclass
class Numbers:
    """The rows of consecutive lines from ``line`` on, each a mainland number as written:
    what ``phone_number`` returns unchanged."""

    line: int
    phones: list[str]

    def rows(self) -> list[Row]:
        return [Row(number, phone) for number, phone in enumerate(self.phones, self.line)]


@dataclass
class BadRow:
    line: int
    reason: str


class HashingReader(io.TextIOBase):
    """Text lines from a binary stream, hashing every byte read (the file fingerprint)."""

    def __init__(self, raw: IO[bytes], option: str = "--phone-file") -> None:
        self._raw = raw
        self._option = option
        self._lines = 0  # whole lines decoded so far
        self.sha256 = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readline(self, size: int = -1) -> str:
        data = self._raw.readline()
        self.sha256.update(data)
        text = self._text(data)
        return text[1:] if text.startswith("\ufeff") else text  # a BOM is not data

    def __iter__(self) -> Iterator[str]:
        return itertools.chain.from_iterable(self.blocks())

    def blocks(self) -> Iterator[list[str]]:
        """The lines, read and decoded a block at a time (far faster than line by line),
        a list per block; a BOM at the start of a line is dropped, as ``readline`` does."""
        rest = b""
        while True:
            block = self._raw.read(BLOCK)
            if not block:
                if rest:
                    self.sha256.update(rest)
                    yield self._decoded(rest)
                return
            block = rest + block
            end = block.rfind(b"\n") + 1
            if not end:
                if len(block) > LONGEST_LINE:  # a binary file, say: not held whole
                    raise InputError(self._option, f"line {self._lines + 1} runs past "
                                     f"{LONGEST_LINE >> 20} MiB without a line end: this is "
                                     "not a file of numbers or a CSV; nothing was sent;",
                                     "give one number per line, or a CSV with a phone "
                                     "column.")
                rest = block
                continue
            block, rest = block[:end], block[end:]
            self.sha256.update(block)
            yield self._decoded(block)

    def _text(self, block: bytes) -> str:
        """UTF-8, strictly: a file in another encoding is refused by its first bad line, not
        read with replacement characters that would then be sent."""
        try:
            text = block.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = self._lines + block.count(b"\n", 0, exc.start) + 1
            raise InputError(self._option, f"line {line} is not UTF-8 text; nothing was sent;",
                             "save the file as UTF-8 (e.g. `iconv -f GBK -t UTF-8`) and run "
                             "the command again.") from None
        self._lines += block.count(b"\n")
        return text

    def _decoded(self, block: bytes) -> list[str]:
        """Whole lines (split at ``\\n`` only, as ``readline``), without the line ends."""
        text = self._text(block)
        lines = text.split("\n")
        if not lines[-1]:
            lines.pop()
        if "\ufeff" in text and any(line.startswith("\ufeff") for line in lines):
            return [line[1:] if line.startswith("\ufeff") else line for line in lines]
        return lines


def open_source(path: str, option: str) -> tuple[HashingReader, IO[bytes]]:
    """``-`` is stdin; anything else a file that must exist."""
    if path == "-":
        return HashingReader(sys.stdin.buffer, option), sys.stdin.buffer
    try:
        raw = open(path, "rb")  # noqa: SIM115 - closed by the caller
    except OSError as exc:
        raise InputError(option, f"cannot read {path!r}: {exc.strerror}") from exc
    return HashingReader(raw, option), raw


def _first_data_line(lines: Iterator[str]) -> tuple[int, str] | None:
    for number, line in enumerate(lines, 1):
        if line.strip() and not line.lstrip().startswith("#"):
            return number, line
    return None


def phone_rows(reader: HashingReader) -> Iterator[Row | BadRow]:
    """One number per line, or a CSV with a ``phone`` column. Blank lines and ``#``
    comments are skipped."""
    for row in phone_runs(reader):
        if isinstance(row, Numbers):
            yield from row.rows()
        else:
            yield row


def phone_runs(reader: HashingReader) -> Iterator[Row | BadRow | Numbers]:
    """``phone_rows``, with each block of lines that are all mainland numbers as written as
    one ``Numbers`` (no ``Row`` each: the common file is such blocks only)."""
    first = _first_data_block(reader.blocks())
    if first is None:
        return
    start, header, blocks = first
    if "," in header or header.strip().lower() == "phone":
        yield from _csv_rows(header, itertools.chain.from_iterable(blocks), start,
                             phone_only=True)
        return
    yield _phone_row(start, header.strip())
    line = start + 1
    for block in blocks:
        yield from _block_rows(line, block)
        line += len(block)


def _first_data_block(blocks: Iterator[list[str]],
                      ) -> tuple[int, str, Iterator[list[str]]] | None:
    """The first data line, by number and text, and the blocks of the lines after it."""
    line = 1
    for block in blocks:
        first = _first_data_line(iter(block))
        if first is not None:
            index, text = first
            return line + index - 1, text, itertools.chain([block[index:]], blocks)
        line += len(block)
    return None


def _block_rows(line: int, lines: list[str]) -> Iterator[Row | BadRow | Numbers]:
    """The rows of ``lines``, the first of them line ``line``: one ``Numbers`` when each is a
    mainland number as written (a CR at its end aside), else row by row."""
    text = "\n".join(lines)
    if _BARE_LINES.fullmatch(text):
        yield Numbers(line, text.replace("\r", "").split("\n") if "\r" in text else lines)
        return
    bare = re.compile(v.MAINLAND).fullmatch  # the common case, valid as it stands
    for number, row in enumerate(lines, line):
        row = row.strip()
        if bare(row):
            yield Row(number, row)
        elif row and not row.startswith("#"):
            yield _phone_row(number, row)


def _phone_row(line: int, text: str) -> Row | BadRow:
    try:
        return Row(line, v.phone_number(text, "phone"))
    except InputError as exc:
        return BadRow(line, exc.message.split(": ", 1)[-1])


def batch_rows(reader: HashingReader, default_sign: str | None) -> Iterator[Row | BadRow]:
    """A CSV: ``phone``, ``sign_name`` (or ``default_sign``), and the template variables
    as a ``template_param`` JSON column or as the remaining columns."""
    lines = iter(reader)
    first = _first_data_line(lines)
    if first is None:
        return
    start, header = first
    yield from _csv_rows(header, lines, start, phone_only=False, default_sign=default_sign)


def _csv_rows(header: str, lines: Iterator[str], start: int, *, phone_only: bool,
              default_sign: str | None = None) -> Iterator[Row | BadRow]:
    """The rows after the header, read by one csv reader over the rest of the stream: a
    quoted field may hold newlines (its row is reported by the line it starts on), CRLF
    and a BOM are not data."""
    # The reader's lines come without their "\n": given back, so a quoted one stays data.
    records = csv.reader((line + "\n" for line in itertools.chain([header], lines)),
                         strict=True)
    # The skill's own column names in any case (Phone, PHONE); template variables as written.
    columns = [c.strip().lower() if c.strip().lower() in RESERVED_COLUMNS else c.strip()
               for c in next(records)]
    option = "--csv" if not phone_only else "--phone-file"
    twice = sorted({c for c in columns if columns.count(c) > 1})
    if twice:
        raise InputError(option, f"line {start}: the header names {', '.join(twice)} more "
                         "than once; nothing was sent;", "keep one column of each name.")
    if "phone" not in columns:
        raise InputError("--csv" if not phone_only else "--phone-file",
                         f"line {start}: the header has no 'phone' column ({header.strip()})")
    if not phone_only and "sign_name" not in columns and not default_sign:
        raise InputError("--csv", "no 'sign_name' column: add one or give -s/--sign-name")
    variables = [c for c in columns if c not in RESERVED_COLUMNS]
    if not phone_only and "template_param" in columns and variables:
        raise InputError(option, f"line {start}: give the template variables either as a "
                         f"template_param JSON column or as columns ({', '.join(variables)}), "
                         "not both; nothing was sent")
    while True:
        number = start + records.line_num  # the line this record starts on
        try:
            values = next(records)
        except StopIteration:
            return
        except csv.Error as exc:
            # Whatever follows cannot be read reliably (a quote left open takes the next
            # lines as its text): the whole file is refused, even with --skip-invalid.
            why = ("a carriage return inside a field" if "new-line character" in str(exc)
                   else str(exc))
            raise InputError(option, f"line {number} is not valid CSV ({why}); nothing was "
                             "sent;", "close the quotes or fix the field, then run the "
                             "command again.") from None
        if not values or not "".join(values).strip() or values[0].lstrip().startswith("#"):
            continue
        if len(values) != len(columns):
            yield BadRow(number, f"{len(values)} fields, the header has {len(columns)}")
            continue
        record = dict(zip(columns, (value.strip() for value in values)))
        row = _phone_row(number, record["phone"])
        if phone_only or isinstance(row, BadRow):
            yield row
            continue
        row.sign_name = record.get("sign_name") or default_sign
        if not row.sign_name:
            yield BadRow(number, "empty sign_name and no -s/--sign-name")
            continue
        if "template_param" in record:
            try:
                row.params = v.template_param(record["template_param"] or "{}", "template_param")
            except InputError as exc:
                yield BadRow(number, exc.message)
                continue
        elif variables:
            row.params = {name: record[name] for name in variables}
        yield row


def describe(bad: list[BadRow], total: int) -> str:
    listed = "; ".join(f"line {b.line}: {b.reason}" for b in bad)
    more = f" (and {total - len(bad)} more)" if total > len(bad) else ""
    return listed + more + "."


def params_json(params: dict | None) -> str | None:
    return None if params is None else json.dumps(params, ensure_ascii=False,
                                                  separators=(",", ":"))

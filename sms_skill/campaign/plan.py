"""Planning a campaign: validate the whole file, store its rows cut into chunks, and show
what a run would send.

A file is planned whole or not at all: bad rows refuse it (unless --skip-invalid), and so
does a file that repeats a message to people who got it, or may have (the ledger).
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from sms_skill import api, ledger
from sms_skill.builder import shell_line
from sms_skill.campaign.store import ROW_COLUMNS, Owner, Store, current_owner
from sms_skill.errors import DuplicateSend, InputError, SkillError
from sms_skill.recipients import BadRow, Numbers, Row, describe, params_json
from sms_skill.validation import recipient_key

CHUNK_SIZE = {"send": 1000, "batch": 100}
REPORTED_BAD_ROWS = 20
#: Rows stored per executemany while planning.
PLAN_BATCH = 5000


@dataclass
class Plan:
    """What ``plan`` stored: counts, and the rows it refused."""

    campaign_id: str
    recipients: int
    chunks: int
    bad_rows: list[BadRow] = field(default_factory=list)
    bad_total: int = 0
    #: Left out by --skip-sent: they got, or may have got, this message already.
    already_sent: int = 0
    #: Left out because one more send would exceed a per-number limit (unless --force).
    over_limit: list = field(default_factory=list)
    #: Left out as on the suppression list.
    suppressed: int = 0
    #: The hash of everything that will be sent (``plan_id``); ``send --confirm`` checks it.
    plan_id: str = ""
    dry_run: bool = False
    #: The plan id and command checks computed while the rows were stored, or None when
    #: rows were left out afterwards (``seal`` then reads them back).
    sealed: Seal | None = None


def campaign_fingerprint(kind: str, source_sha256: str, template_code: str,
                         sign_name: str | None, template_param: str | None) -> str:
    import hashlib

    canonical = json.dumps([kind, source_sha256, template_code, sign_name, template_param])
    return hashlib.sha256(canonical.encode()).hexdigest()


def plan(store: Store, *, kind: str, rows: Iterable[Row | BadRow | Numbers], source: str,
         source_sha256: Callable[[], str], template_code: str, sign_name: str | None,
         template_param: str | None, out_id: str | None, skip_invalid: bool,
         force: bool = False, skip_sent: bool = False,
         owner: Owner | None = None,
         command: Callable[[str, dict], object] | None = None, where: tuple = ()) -> Plan:
    """Validate every row and store the campaign, or store nothing and raise InputError
    listing the bad rows (unless ``skip_invalid``). Duplicate numbers, in any spelling,
    count as bad rows. Recipients who got, or may have got, the same message recently
    make it DuplicateSend (exit 6) unless ``force``; ``skip_sent`` leaves them out. The
    chunks are leased to ``owner`` (this run) from the start. ``command`` (the client's)
    checks each chunk's aliyun command as its rows are stored (see ``seal``); ``where``
    (region and profile) goes into the plan id."""
    size = CHUNK_SIZE[kind]
    campaign_id = time.strftime("%Y%m%d") + "-" + secrets.token_hex(3)
    result = Plan(campaign_id, 0, 0)
    sealed = Seal({"id": campaign_id, "kind": kind, "template_code": template_code,
                   "sign_name": sign_name, "template_param": template_param,
                   "out_id": out_id}, command, where)
    same_message = ledger.message_key(sign_name, template_code,
                                      json.loads(template_param) if template_param else None)
    def message_of(row: Row) -> str:
        return (same_message if kind == "send" else
                ledger.message_key(row.sign_name, template_code, row.params))

    # A file of numbers has no per-row signature or parameters: those columns stay NULL
    # (binding them costs a third of the insert).
    columns = ("line", "phone", "key", "message") if kind == "send" else ROW_COLUMNS

    def store_batch(batch: list[Row | BadRow]) -> None:
        good = [row for row in batch if isinstance(row, Row)]
        first = result.recipients
        if kind == "send":
            values = [(campaign_id, n // size, row.line, (phone := row.phone),
                       "86" + phone if len(phone) == 11 and phone[0] == "1" and phone.isdigit()
                       else recipient_key(phone),  # the common case inline, as recipient_key
                       same_message) for n, row in enumerate(good, first)]
        else:
            values = [(campaign_id, n // size, row.line, row.phone, row.sign_name,
                       params_json(row.params), recipient_key(row.phone), message_of(row))
                      for n, row in enumerate(good, first)]
        refused = draft.add_rows(values, first, size, columns)
        result.recipients += len(good) - len(refused)
        if refused:  # the rows after a refused one moved up: their chunks as stored
            gone = set(refused)
            values = [(value[0], n // size, *value[2:]) for n, value in enumerate(
                (value for index, value in enumerate(values) if index not in gone), first)]
        if kind == "send":
            sealed.add_numbers(first, [value[3] for value in values])
        else:
            sealed.add([value[1:2] + value[3:6] for value in values])
        if len(good) == len(batch) and not refused:
            return
        twice = {id(good[index]) for index in refused}
        for row in batch:  # in file order
            if isinstance(row, Row):
                if id(row) not in twice:
                    continue
                row = BadRow(row.line, f"{row.phone} is listed twice in the file")
            result.bad_total += 1
            if len(result.bad_rows) < REPORTED_BAD_ROWS:
                result.bad_rows.append(row)

    def store_numbers(numbers: Numbers) -> None:
        """``store_batch`` for mainland numbers as written: one insert, no row objects (row
        by row only when one of them is listed already)."""
        first = result.recipients
        if not draft.add_numbers(campaign_id, first, size, numbers.line, numbers.phones,
                                 same_message):
            store_batch(numbers.rows())
            return
        result.recipients += len(numbers.phones)
        sealed.add_numbers(first, numbers.phones)

    with store.planning() as draft:
        for batch in _batches(rows):
            if isinstance(batch, Numbers):
                store_numbers(batch)
            else:
                store_batch(batch)
        twice, first_twice = draft.rows_stored(campaign_id, size, REPORTED_BAD_ROWS)
        if twice:  # found only now in a scratch database: as if refused while stored
            result.recipients -= twice
            result.bad_total += twice
            result.bad_rows = sorted(
                result.bad_rows + [BadRow(line, f"{phone} is listed twice in the file")
                                   for line, phone in first_twice],
                key=lambda bad: bad.line)[:REPORTED_BAD_ROWS]
        if result.bad_total and not skip_invalid:
            raise InputError(source, f"{result.bad_total} bad row(s), nothing was sent: "
                             + describe(result.bad_rows, result.bad_total),
                             "Fix them, or add --skip-invalid to send the valid rows only.")
        if not result.recipients:
            raise InputError(source, "no valid recipient in the file")
        fingerprint = campaign_fingerprint(kind, source_sha256(), template_code, sign_name,
                                           template_param)
        earlier = draft.earlier_campaign(fingerprint)
        if earlier and not (force or skip_sent):
            raise DuplicateSend(
                f"campaign {earlier} already sends this file with these parameters; "
                "nothing new was started;",
                f"see `campaign show {earlier}`, continue it with `--resume "
                f"{earlier}`, add --skip-sent to send only to those it did not reach, "
                "or add --force for a second campaign on purpose.")
        draft.prune_ledger()
        if not force:
            conflicts = draft.conflicts(campaign_id, result.recipients)
            if conflicts and (not skip_sent or len(conflicts.recipients) >= result.recipients):
                raise conflicts.error(single=False, skip_sent=skip_sent)
            if conflicts:
                result.already_sent = draft.leave_out(campaign_id, conflicts.recipients, size)
                result.recipients -= result.already_sent
        left = draft.filter_recipients(campaign_id, template_code=template_code,
                                       sign_name=sign_name, total=result.recipients,
                                       force=force, size=size)
        result.over_limit, result.suppressed = left.over_limit, left.suppressed
        result.recipients -= left.count
        if not (twice or result.already_sent or left.count):  # the rows stored are sent
            sealed.finish()
            result.sealed = sealed
        result.chunks = -(-result.recipients // size)
        draft.add_campaign(id=campaign_id, created=time.time(), kind=kind, source=source,
                           fingerprint=fingerprint, sign_name=sign_name,
                           template_code=template_code, template_param=template_param,
                           out_id=out_id, recipients=result.recipients,
                           skipped=result.bad_total, already_sent=result.already_sent,
                           over_limit=len(result.over_limit), suppressed=result.suppressed,
                           forced=int(force))
        pid, started = owner or current_owner()
        draft.add_chunks({"campaign_id": campaign_id, "seq": seq,
                          "size": min(size, result.recipients - seq * size),
                          "out_id": chunk_out_id(out_id, campaign_id, seq),
                          "owner_pid": pid, "owner_started": started}
                         for seq in range(result.chunks))
    return result


def _batches(rows: Iterable[Row | BadRow | Numbers]) -> Iterator[list[Row | BadRow] | Numbers]:
    """The rows in lists of ``PLAN_BATCH`` at most, in file order; runs of numbers cut to
    ``PLAN_BATCH`` each."""
    batch: list[Row | BadRow] = []
    for row in rows:
        if isinstance(row, Numbers):
            if batch:
                yield batch
                batch = []
            for at in range(0, len(row.phones), PLAN_BATCH):
                yield Numbers(row.line + at, row.phones[at:at + PLAN_BATCH])
            continue
        batch.append(row)
        if len(batch) == PLAN_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def chunk_out_id(out_id: str | None, campaign_id: str, seq: int) -> str:
    """Unique per campaign and chunk, so that a receipt names the request behind it; the
    user's own OutId, if any, leads (cut so that the unique end survives 255 characters)."""
    if not out_id:
        return f"sms-{campaign_id}.{seq}"
    suffix = f".{campaign_id}.{seq}"
    return out_id[:255 - len(suffix)] + suffix


def chunk_call(store: Store, campaign: dict, chunk: dict) -> tuple[str, dict, str]:
    """The API action and parameters of one chunk, and its first recipient."""
    return call_of(campaign, chunk["out_id"], store.chunk_rows(campaign["id"], chunk["seq"]))


def call_of(campaign: dict, out_id: str, rows: list[tuple]) -> tuple[str, dict, str]:
    """The API action and parameters of a chunk of these rows (phone, sign_name, params),
    and its first recipient."""
    first = rows[0][0]
    if campaign["kind"] == "send":
        return (*send_call(campaign, out_id, [phone for phone, _, _ in rows]), first)
    params = [json.loads(p) if p else None for _, _, p in rows]
    return "SendBatchSms", api.send_batch_sms(
        api.compact_json([phone for phone, _, _ in rows]),
        api.compact_json([sign for _, sign, _ in rows]), campaign["template_code"],
        api.compact_json([p or {} for p in params])
        if any(p is not None for p in params) else None,
        out_id), first


def send_call(campaign: dict, out_id: str, phones: list[str]) -> tuple[str, dict]:
    """The API action and parameters of a ``send`` chunk to these numbers."""
    return "SendSms", api.send_sms(",".join(phones), campaign["sign_name"],
                                   campaign["template_code"], campaign["template_param"], out_id)


def verify(client, store: Store, campaign_id: str, kind: str, sign_name: str | None,
           template_code: str, params: dict | None) -> None:
    """--verify: the signatures and the template exist and are approved; a refused
    campaign is forgotten."""
    from sms_skill import verify as verifying

    if kind == "send":
        signs, samples = [sign_name], [params or {}]
    else:
        first = store.first_params(campaign_id)
        signs, samples = store.sign_names(campaign_id), [json.loads(first) if first else {}]
    try:
        template_type = verifying.verify_send(client, sorted(signs), template_code, samples)
    except SkillError:
        store.discard(campaign_id)
        raise
    if not client.dry_run:  # for the per-number limits of later sends
        store.learn_kind(template_code, template_type)


class Seal:
    """The plan id and the check of every chunk's aliyun command, fed the campaign's rows
    as they will be sent: (chunk, phone, sign_name, params), chunk by chunk, in file order.
    ``plan`` feeds it while it stores them (nothing is read back); ``sealed_from_store``
    reads them back when some were left out afterwards. Holds one chunk's rows at most."""

    def __init__(self, campaign: dict, command: Callable[[str, dict], object] | None,
                 where: tuple = ()) -> None:
        import hashlib

        self.campaign = campaign
        self.command = command
        #: The first chunk whose command cannot start, and why.
        self.failure: tuple[int, InputError] | None = None
        self._digest = hashlib.sha256(json.dumps(
            [campaign["kind"], CHUNK_SIZE[campaign["kind"]], campaign["template_code"],
             campaign["sign_name"], campaign["template_param"], campaign["out_id"], *where],
            ensure_ascii=False).encode())
        self._seq: int | None = None
        self._rows: list[tuple] = []

    def add(self, rows: list[tuple]) -> None:
        self._digest.update("".join([f"\n{chunk}\t{phone}\t{sign or ''}\t{params or ''}"
                                     for chunk, phone, sign, params in rows]).encode())
        if self.command is None or self.failure:
            return
        from itertools import groupby
        from operator import itemgetter

        numbers = self.campaign["kind"] == "send"  # a chunk's numbers are all it needs
        for seq, group in groupby(rows, itemgetter(0)):
            self._chunk(seq)
            self._rows.extend(row[1] if numbers else row[1:] for row in group)

    def add_numbers(self, first: int, phones: list[str]) -> None:
        """``add`` for the rows of a ``send`` campaign (no signature or parameters of their
        own) from its recipient ``first`` on: the same hash, a chunk's part at a time."""
        size = CHUNK_SIZE[self.campaign["kind"]]
        start = 0
        while start < len(phones):
            seq = (first + start) // size
            end = min(len(phones), (seq + 1) * size - first)
            part = phones[start:end]
            head = f"\n{seq}\t"  # each row: \n chunk \t phone \t (no sign) \t (no params)
            self._digest.update((head + f"\t\t{head}".join(part) + "\t\t").encode())
            if self.command is not None and not self.failure:
                self._chunk(seq)
                self._rows.extend(part)
            start = end

    def _chunk(self, seq: int) -> None:
        """The rows that follow are of chunk ``seq``."""
        if seq != self._seq:
            self._check()
            self._seq = seq

    def finish(self) -> None:
        """The last chunk's rows are in."""
        self._check()

    def _check(self) -> None:
        if not self._rows or self.command is None or self.failure:
            self._rows = []
            return
        seq, rows, self._rows = self._seq, self._rows, []
        out_id = chunk_out_id(self.campaign["out_id"], self.campaign["id"], seq)
        action, params = (send_call(self.campaign, out_id, rows)
                          if self.campaign["kind"] == "send"
                          else call_of(self.campaign, out_id, rows)[:2])
        try:
            self.command(action, params)
        except InputError as exc:
            self.failure = (seq, exc)

    @property
    def plan_id(self) -> str:
        return "plan-" + self._digest.hexdigest()[:20]


def sealed_from_store(store: Store, campaign_id: str,
                      command: Callable[[str, dict], object] | None = None,
                      where: tuple = ()) -> Seal:
    """The seal of a stored campaign, its rows read back in the order they are sent."""
    sealed = Seal(store.campaign(campaign_id), command, where)
    rows = store.rows_in_order(campaign_id)
    while True:
        batch = list(itertools.islice(rows, 5000))
        if not batch:
            break
        sealed.add(batch)
    sealed.finish()
    return sealed


def seal(client, store: Store, planned: Plan, option: str) -> None:
    """Every chunk's aliyun command can start (within the OS limits, no value that aliyun
    would read as an option): refused now, dry run included, not as a chunk stuck in
    flight; then ``planned.plan_id``: see ``plan_id``."""
    sealed = planned.sealed or sealed_from_store(
        store, planned.campaign_id, client.command, (client.target.region, client.target.profile))
    if sealed.failure:
        seq, exc = sealed.failure
        store.discard(planned.campaign_id)
        raise InputError(option, f"chunk {seq + 1} of {planned.chunks}: "
                                 f"{exc.message}; nothing was sent", exc.hint) from exc
    planned.plan_id = sealed.plan_id


def plan_id(store: Store, campaign_id: str, where: tuple = ()) -> str:
    """A hash of everything the campaign will send: kind, template, signature, parameters,
    the user's OutId, where it goes (``where``: region and profile, so another account
    cannot pass for the one approved), and every chunk's recipients in order with their own
    signature and parameters. The same file and options planned again (dry run or not)
    give the same id, unless what would be sent changed."""
    return sealed_from_store(store, campaign_id, where=where).plan_id


#: Per-recipient values elided from the plan's command: (parameter, what it holds).
ELIDED = {"PhoneNumbers": "numbers", "PhoneNumberJson": "numbers",
          "SignNameJson": "signatures", "TemplateParamJson": "parameter objects"}
SAMPLES = 3
#: The line numbers of bad rows a plan lists (their reasons go to stderr).
SKIPPED_LINES = 10
#: Longer values are shown by their length in the plan's command.
SHOWN_VALUE = 200


def dry_plan(client, store: Store, planned: Plan, *, price: float | None = None,
             template_text: str | None = None) -> dict:
    """What a real run would send, in the same size whatever the number of recipients:
    counts, masked samples, the first chunk's argv with the per-recipient values elided,
    segments and cost, and the plan id that ``--confirm`` takes."""
    from sms_skill.validation import mask

    campaign = store.campaign(planned.campaign_id)
    chunks = store.chunks(planned.campaign_id)
    rows = store.chunk_rows(campaign["id"], 0)  # read once: a scratch database scans for it
    action, params, _ = call_of(campaign, chunks[0]["out_id"], rows)
    size = chunks[0]["size"]
    shown = {key: (f"<{size} {ELIDED[key]}>" if key in ELIDED and value is not None
                   else value) for key, value in params.items()}
    # The OutId names the campaign, which a dry run does not create.
    shown["OutId"] = chunk_out_id(campaign["out_id"], "<campaign id>", 0)
    for key, value in shown.items():  # the plan stays small whatever the user gave
        if isinstance(value, str) and len(value) > SHOWN_VALUE:
            shown[key] = f"<{len(value)} characters: {value[:40]}...>"
    command = shell_line(client.command(action, shown))
    samples = [mask(phone) for phone, _, _ in rows[:SAMPLES]]
    option = "--phone-file" if campaign["kind"] == "send" else "--csv"
    return {"dry_run": True, "plan_id": planned.plan_id, "recipients": planned.recipients,
            "skipped_rows": planned.bad_total,
            "skipped_lines": [bad.line for bad in planned.bad_rows[:SKIPPED_LINES]],
            "already_sent": planned.already_sent,
            "over_limit": len(planned.over_limit), "suppressed": planned.suppressed,
            "over_limit_samples": [breach.as_dict() for breach in planned.over_limit[:SAMPLES]],
            "chunks": planned.chunks, "chunk_size": CHUNK_SIZE[campaign["kind"]],
            "calls": planned.chunks, "samples": samples, "first_command": command,
            "segments": segment_preview(store, campaign, template_text, price, option),
            "next": f"the same command without --dry-run, plus --confirm {planned.plan_id}"}


def segment_preview(store: Store, campaign: dict, template_text: str | None,
                    price: float | None, option: str) -> dict:
    """Billed messages over every row (per-row signatures and parameters change lengths)
    and their cost at ``price``; without the template's text, only what is missing."""
    from sms_skill import segments

    if template_text is None:
        return {"messages": None, "note": "give --template-text (the template's content, "
                "see `query-template`) to count segments and cost"}
    tally = segments.Tally()
    same = campaign["kind"] == "send"
    cache: dict[tuple, segments.Count] = {}
    for _, phone, sign, params in store.rows_in_order(campaign["id"]):
        international = segments.is_international(phone)
        key = (international,) if same else (international, sign, params)
        if key not in cache:
            text = segments.message_text(
                campaign["sign_name"] if same else sign, template_text,
                json.loads((campaign["template_param"] if same else params) or "{}"))
            cache[key] = segments.checked(text, international,
                                          "" if same else f"for {phone}: ", option)
            if len(cache) > 10_000:  # every row differs: keep memory flat
                result = cache.pop(key)
                cache.clear()
                cache[key] = result
        tally.add(cache[key])
    return tally.summary(price)

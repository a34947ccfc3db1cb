"""The skill's operations as plain functions: validate everything, then call aliyun.

Each function takes a ``Client`` and returns the API's response (``{}`` in dry-run mode).
Nothing here prints or parses command lines.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from sms_skill import api, prog, tunables
from sms_skill import validation as v
from sms_skill.client import Client

#: Dates on the service's calendar are China Standard Time.
SERVICE_TZ = timezone(timedelta(hours=8))


def service_today() -> str:
    """Today on the SMS service's calendar (UTC+8), ``yyyyMMdd``."""
    return datetime.now(SERVICE_TZ).strftime("%Y%m%d")


def journaled_send(client: Client, action: str, build: Callable[[list[int]], dict], *,
                   recipients: list[str], sign_names: list[str], template_code: str,
                   params: object, messages: list[tuple], out_id: str | None,
                   force: bool = False, skip_sent: bool = False,
                   template_type: object = None) -> dict:
    """Make a send through the journal and the per-recipient ledger: refused (exit 6) when
    a recipient got, or may have got, the same message recently, unless ``force``;
    ``skip_sent`` sends to the others only. ``messages[i]`` is what makes recipient i's
    message: (signature, template, parameters). ``build(positions)`` gives the API
    parameters for the recipients at those positions. The outcome is recorded whatever
    happens. A dry run is not journaled, but refuses (or leaves out) what the send would,
    from the journal as it is."""
    from sms_skill import paths

    def send() -> dict:
        from sms_skill.ledger import message_key

        return dict(action=action, recipients=recipients, sign_names=sign_names,
                    template_code=template_code, params=params,
                    messages=[message_key(*parts) for parts in messages], out_id=out_id,
                    force=force, skip_sent=skip_sent, signs=[parts[0] for parts in messages],
                    template_type=template_type)

    if client.dry_run:
        keep = list(range(len(recipients)))
        # No journal yet: nothing to refuse (and a dry run that imports nothing more).
        if paths.journal_exists():
            from sms_skill.journal import Journal

            journal = Journal(prune=False)
            try:
                keep = journal.preview(**send())
            finally:
                journal.close()
            _say_left_out(client, journal, recipients, keep)
        return client.call(action, build(keep), recipient=recipients[keep[0]])
    from sms_skill.errors import ApiFailure, EnvironmentProblem, OutcomeUnknown
    from sms_skill.journal import Journal
    from sms_skill.lifecycle import Interrupted

    journal = Journal()
    try:
        send_id, keep = journal.reserve(**send())
    except BaseException:
        journal.close()
        raise
    _say_left_out(client, journal, recipients, keep)
    outcome, biz_id, code = "unknown", None, None
    calls_before = client.product_calls
    try:
        result = client.call(action, build(keep), recipient=recipients[keep[0]])
        outcome, biz_id = "ok", result.get("BizId")
        return result
    except ApiFailure as exc:
        outcome, code = "failed", exc.code or None
        raise
    except EnvironmentProblem:
        outcome, code = "failed", "environment"
        raise
    except OutcomeUnknown as exc:
        code = exc.code or None
        raise
    except BaseException as exc:
        if client.product_calls == calls_before:  # stopped before the send began
            outcome, code = "failed", "interrupted"
        elif isinstance(exc, Interrupted):  # a signal while the send was under way
            exc.hint = (f"the send had started, so it may have gone out: run `{prog.name()} "
                        "reconcile` in a few minutes to settle it, and do not resend "
                        "meanwhile.")
        raise
    finally:
        _record(client, journal, send_id, outcome, biz_id, code)


def _say_left_out(client: Client, journal, recipients: list[str], keep: list[int]) -> None:
    """On stderr: the recipients a send leaves out, suppressed or (--skip-sent) reached."""
    if journal.suppressed:
        from sms_skill.suppression import skipped_note

        client.report(f"suppression: {skipped_note(journal.suppressed)}")
    if len(keep) + journal.suppressed < len(recipients):
        client.report(f"--skip-sent: skipped {len(recipients) - len(keep) - journal.suppressed}"
                      " recipient(s) who got this message, or may have; sending to the other "
                      f"{len(keep)}.")


def _record(client: Client, journal, send_id: int, outcome: str, biz_id: str | None,
            code: str | None) -> None:
    """Write the outcome; a journal that fails now must not hide what the service said."""
    from sms_skill.errors import StorageProblem

    try:
        journal.finish(send_id, outcome, biz_id, code)
    except StorageProblem as exc:
        said = (f"the send was accepted (BizId {biz_id})" if outcome == "ok"
                else f"the send's outcome is {outcome}")
        client.report(f"warning: {said}, but the journal could not record it ({exc.message} "
                      f"{exc.hint}); `history` will list it as unknown.")
    finally:
        journal.close()


def new_out_id() -> str:
    """An OutId for a send the user gave none: its receipts can be told from others."""
    import os  # not secrets: it imports hmac and hashlib on the dry-run path

    return f"sms-{service_today()}-{os.urandom(5).hex()}"


def send(client: Client, phone_numbers: str, sign_name: str, template_code: str,
         template_param: str | None = None, out_id: str | None = None, *,
         verify: bool = False, force: bool = False, skip_sent: bool = False) -> dict:
    """SendSms to up to 1000 numbers with one signature, template and parameters."""
    numbers = v.phone_numbers(phone_numbers).split(",")
    v.non_empty(sign_name, "--sign-name")
    v.non_empty(template_code, "--template-code")
    params = v.template_param(template_param)
    v.out_id(out_id)
    template_type = None
    if verify:
        from sms_skill import verify as verifying

        template_type = verifying.verify_send(client, [sign_name], template_code,
                                              [params or {}])
    out_id = out_id or new_out_id()
    return journaled_send(client, "SendSms", lambda keep: api.send_sms(
        ",".join(numbers[i] for i in keep), sign_name, template_code, template_param, out_id,
    ), recipients=numbers, sign_names=[sign_name], template_code=template_code,
        params=params, messages=[(sign_name, template_code, params)] * len(numbers),
        out_id=out_id, force=force, skip_sent=skip_sent, template_type=template_type)


def batch_send(client: Client, phone_number_json: str, sign_name_json: str,
               template_code: str, template_param_json: str | None = None,
               sms_up_extend_code_json: str | None = None, out_id: str | None = None, *,
               verify: bool = False, force: bool = False, skip_sent: bool = False) -> dict:
    """SendBatchSms: per-recipient signatures and parameters, up to 100 numbers."""
    numbers = v.string_array(phone_number_json, "--phone-number-json")
    v.phone_list(numbers, "--phone-number-json", v.MAX_BATCH_NUMBERS)
    signs = v.string_array(sign_name_json, "--sign-name-json")
    v.non_empty(template_code, "--template-code")
    arrays: dict[str, list] = {"--phone-number-json": numbers, "--sign-name-json": signs}
    params = None
    if template_param_json is not None:
        params = arrays["--template-param-json"] = v.template_param_array(template_param_json)
    if sms_up_extend_code_json is not None:
        arrays["--sms-up-extend-code-json"] = v.json_array(
            sms_up_extend_code_json, "--sms-up-extend-code-json")
    v.same_length(arrays)
    v.out_id(out_id)
    template_type = None
    if verify:
        from sms_skill import verify as verifying

        template_type = verifying.verify_send(client, sorted(set(signs)), template_code,
                                              params or [{}] * len(numbers))
    out_id = out_id or new_out_id()
    given = {"PhoneNumberJson": phone_number_json, "SignNameJson": sign_name_json,
             "TemplateParamJson": template_param_json,
             "SmsUpExtendCodeJson": sms_up_extend_code_json}
    names = dict(zip(given, ["--phone-number-json", "--sign-name-json",
                             "--template-param-json", "--sms-up-extend-code-json"]))

    def build(keep: list[int]) -> dict:
        if len(keep) == len(numbers):  # everyone: the arrays exactly as given
            chosen = given
        else:
            chosen = {name: None if text is None else api.compact_json(
                [arrays[names[name]][i] for i in keep]) for name, text in given.items()}
        return api.send_batch_sms(
            chosen["PhoneNumberJson"], chosen["SignNameJson"], template_code,
            chosen["TemplateParamJson"], out_id, chosen["SmsUpExtendCodeJson"])

    per_row = params or [None] * len(numbers)
    return journaled_send(client, "SendBatchSms", build, recipients=numbers, sign_names=signs,
                          template_code=template_code,
                          params=[list(pair) for pair in zip(numbers, signs, per_row)],
                          messages=[(sign, template_code, row)
                                    for sign, row in zip(signs, per_row)],
                          out_id=out_id, force=force, skip_sent=skip_sent,
                          template_type=template_type)


def reconcile_sends(client: Client, min_age: float = 120) -> dict:
    """Settle single and batch sends of the last 24 hours whose outcome is unknown, from
    delivery receipts: a receipt carrying the send's OutId for its first recipient means it
    was accepted (``ok``); none in a well-formed answer, for a send at least ``min_age``
    seconds old, means it never arrived (``failed``: the same send may be made again).
    Younger sends, sends whose OutId other sends to that number that day share, and sends
    whose receipts could not be read stay unknown, with a note saying why."""
    import time

    from sms_skill import delivery, suppression
    from sms_skill.errors import ApiFailure
    from sms_skill.journal import Journal
    from sms_skill.ledger import UNKNOWN_HOLD_SECONDS

    v.int_range(min_age, "--min-age", 0, 24 * 3600)
    journal = Journal()
    settled = []
    try:
        for entry in journal.doubtful(time.time() - UNKNOWN_HOLD_SECONDS):
            was = {"send": entry.id, "was": "unknown", "recipients": len(entry.recipients)}
            if not entry.out_id:
                settled.append({**was, "now": "unknown", "note": "no OutId to match: check "
                                f"with `query-status -p {entry.recipients[0]}`"})
                continue
            day = datetime.fromtimestamp(entry.created, SERVICE_TZ)
            sharing = journal.sharing_out_id(entry.out_id, entry.recipients[0],
                                             _day_start(day), _day_start(day) + 86400)
            if sharing > 1:
                settled.append({**was, "now": "unknown", "note": (
                    f"OutId {entry.out_id!r} is shared by {sharing} sends to this number that"
                    " day, so a receipt cannot tell which one arrived: check with "
                    f"`query-status -p {entry.recipients[0]}`, or resend with --force")})
                continue
            try:
                receipts = delivery.day_receipts(client, entry.recipients[0],
                                                 day.strftime("%Y%m%d"))
            except (delivery.Undecided, ApiFailure) as exc:
                settled.append({**was, "now": "unknown", "note": (
                    f"could not tell: {getattr(exc, 'message', exc)}; run `reconcile` again "
                    f"later or check with `query-status -p {entry.recipients[0]}`")})
                continue
            if receipts is None:  # dry run
                continue
            suppression.note_receipts(receipts, entry.recipients[0], client.report)
            found = any(r.get("OutId") == entry.out_id for r in receipts)
            age = time.time() - entry.created
            if not found and age < min_age:
                settled.append({**was, "now": "unknown",
                                "note": f"no receipt yet; try again in {min_age - age:.0f} s"})
                continue
            outcome = "ok" if found else "failed"
            journal.settle(entry.id, outcome)
            settled.append({**was, "now": outcome})
    finally:
        journal.close()
    return {"settled": settled}


def _day_start(moment: datetime) -> float:
    """The epoch seconds at which the service's calendar day of ``moment`` began."""
    return moment.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def _page(page_index: object, page_size: object, max_size: int = 50,
          index_option: str = "--page-index") -> tuple[int, int]:
    return (v.int_range(page_index, index_option, 1, 1_000_000),
            v.int_range(page_size, "--page-size", 1, max_size))


def list_signs(client: Client, page_index: int = 1, page_size: int = 50) -> dict:
    """One page of QuerySmsSignList."""
    index, size = _page(page_index, page_size)
    return client.call("QuerySmsSignList", {"PageIndex": index, "PageSize": size})


def list_templates(client: Client, page_index: int = 1, page_size: int = 50) -> dict:
    """One page of QuerySmsTemplateList."""
    index, size = _page(page_index, page_size)
    return client.call("QuerySmsTemplateList", {"PageIndex": index, "PageSize": size})


def query_sign(client: Client, sign_name: str) -> dict:
    """GetSmsSign: status and per-carrier registration of one signature."""
    return client.call("GetSmsSign", {"SignName": v.non_empty(sign_name, "--sign-name")})


def query_template(client: Client, template_code: str) -> dict:
    """GetSmsTemplate: status and content of one template."""
    from sms_skill.verify import template_variables

    code = v.non_empty(template_code, "--template-code")
    response = client.call("GetSmsTemplate", {"TemplateCode": code})
    if response.get("TemplateContent") is not None:
        response["Variables"] = template_variables(response["TemplateContent"])
    return response


def query_status(client: Client, phone_number: str, send_date: str | None = None,
                 biz_id: str | None = None, page_size: int = 10, current_page: int = 1, *,
                 wait_timeout: float | None = None) -> dict:
    """QuerySendDetails for one number on one day (default: today, UTC+8), with
    ``SendStatusText`` and ``ErrCodeMeaning`` added to each record.

    With ``wait_timeout``, polls until every record is delivered or failed (see
    ``delivery.wait``).
    """
    from sms_skill import delivery

    number = v.phone_number(phone_number, "--phone-number")
    date = v.calendar_date(send_date, "--send-date") if send_date else service_today()
    index, size = _page(current_page, page_size)
    if wait_timeout is not None:
        v.int_range(wait_timeout, "--timeout", 1, 24 * 3600)

    def fetch() -> dict:
        return client.call("QuerySendDetails", api.query_send_details(
            number, date, biz_id=biz_id or None, page_size=size, current_page=index))

    if wait_timeout is None or client.dry_run:
        result = delivery.decode(fetch())
    else:
        from sms_skill.errors import ApiFailure

        try:
            result = delivery.wait(fetch, float(wait_timeout),
                                   tunables.seconds(tunables.POLL_INTERVAL), report=client.report)
        except ApiFailure as exc:  # some failed: a permanent code still suppresses the number
            _suppress(client, exc.response, number)
            raise
    _suppress(client, result, number)
    return result


def _suppress(client: Client, response: object, number: str) -> None:
    """Receipts with a permanent failure code put their numbers on the suppression list."""
    if client.dry_run or not isinstance(response, dict):
        return
    from sms_skill import delivery, suppression

    suppression.note_receipts(delivery.records(response), number, client.report)


def query_statistics(client: Client, start_date: str, end_date: str, is_globe: object = 1,
                     template_type: object = None, sign_name: str | None = None,
                     page_index: int = 1, page_size: int = 10) -> dict:
    """QuerySendStatistics: one row per day in the range."""
    v.date_range(start_date, end_date)
    globe = v.choice(is_globe, "--is-globe", v.IS_GLOBE)
    kind = None if template_type is None else v.choice(
        template_type, "--template-type", v.TEMPLATE_TYPES)
    index, size = _page(page_index, page_size)
    return client.call("QuerySendStatistics", {
        "IsGlobe": globe, "StartDate": start_date, "EndDate": end_date,
        "PageIndex": index, "PageSize": size, "TemplateType": kind,
        "SignName": sign_name or None,
    })


def list_qualifications(client: Client, qualification_group_name: str | None = None,
                        company_name: str | None = None, state: str | None = None,
                        work_order_id: object = None, legal_person_name: str | None = None,
                        use_by_self: bool | None = None, page_no: int = 1,
                        page_size: int = 20) -> dict:
    """QuerySmsQualificationRecord with its filters."""
    if state is not None:
        state = v.choice(state, "--state", v.QUALIFICATION_STATES)
    if work_order_id is not None:
        work_order_id = v.int_range(work_order_id, "--work-order-id", 1, 2**63 - 1)
    index, size = _page(page_no, page_size)
    return client.call("QuerySmsQualificationRecord", {
        "QualificationGroupName": qualification_group_name, "CompanyName": company_name,
        "State": state, "WorkOrderId": work_order_id, "LegalPersonName": legal_person_name,
        "UseBySelf": use_by_self, "PageNo": index, "PageSize": size,
    })


def all_qualifications(client: Client, **filters: object) -> dict:
    """Every page of QuerySmsQualificationRecord (filters as ``list_qualifications``), as
    one ``Data.List`` with an ``Index`` per record."""
    filters.pop("page_no", None)
    filters.pop("page_size", None)
    size = 50
    found: list[dict] = []
    page = 1
    while True:
        response = list_qualifications(client, **filters, page_no=page, page_size=size)
        data = response.get("Data") or {}
        items = data.get("List") or []
        found += items
        if client.dry_run or not items or len(items) < size or \
                len(found) >= int(data.get("Total") or 0):
            break
        page += 1
    for index, item in enumerate(found, 1):
        item["Index"] = index
    return {**response, "Data": {"Total": len(found), "List": found}}


#: Personal data in a qualification: ID numbers, phone numbers, image URLs.
PERSONAL_FIELDS = frozenset({"LegalPersonIDCardNo", "AdminIDCardNo", "AdminPhoneNo",
                             "AdminIDCardFrontFace", "AdminIDCardPic", "PicUrl",
                             "LicensePic"})


def _mask_personal(key: str, value: str) -> str:
    return "(url withheld)" if key.endswith(("Face", "Pic", "Url")) else v.mask(value)


def _withhold_urls(data: object) -> object:
    """Any other image or file URL, at any depth, withheld as well."""
    if isinstance(data, dict):
        return {key: _withhold_urls(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_withhold_urls(item) for item in data]
    if isinstance(data, str) and data.lower().startswith(("http://", "https://")):
        return "(url withheld)"
    return data


def query_qualification(client: Client, qualification_group_id: object,
                        order_id: object = None, *, unmask: bool = False) -> dict:
    """QuerySingleSmsQualification for one qualification group; personal data masked
    unless ``unmask``."""
    group = v.int_range(qualification_group_id, "--qualification-group-id", 1, 2**63 - 1)
    order = None if order_id is None else v.int_range(order_id, "--order-id", 1, 2**63 - 1)
    response = client.call("QuerySingleSmsQualification",
                           {"QualificationGroupId": group, "OrderId": order})
    if unmask:
        return response
    return _withhold_urls(v.mask_fields(response, PERSONAL_FIELDS, _mask_personal))

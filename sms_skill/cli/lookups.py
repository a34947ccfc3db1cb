"""The read-only API commands: signatures, templates, receipts, statistics, qualifications."""

from __future__ import annotations

from collections.abc import Callable

import click

from sms_skill import validation
from sms_skill.cli import (
    INTEGER,
    cli,
    old_name,
    ops,
    required,
    run_operation,
)
from sms_skill.errors import InputError


def page_options(size: int, index_name: str = "--page-index",
                 dest: str = "page_index") -> Callable:
    """--page-index and --page-size; not given, they arrive as None (``_page`` fills in the
    defaults), so that --all or --approved can refuse them rather than ignore them."""
    def decorate(func: Callable) -> Callable:
        func = click.option("--page-size", type=INTEGER,
                            help=f"Items per page (1 to 50) [default: {size}].")(func)
        return click.option(index_name, dest, type=INTEGER,
                            help="Page number, from 1 [default: 1].")(func)

    return decorate


def _page(index: int | None, size: int | None, default_size: int,
          every_page: str | None = None) -> tuple[int, int]:
    """The page asked for, defaults filled in; refused with ``every_page`` (--all or
    --approved, which read every page)."""
    if every_page and (index is not None or size is not None):
        option = "--page-index" if index is not None else "--page-size"
        raise InputError(option, f"does not apply with {every_page}, which reads every page")
    return (1 if index is None else index), (default_size if size is None else size)


def listing_options(func: Callable) -> Callable:
    func = click.option("--all", "walk_all", is_flag=True,
                        help="Every page, unfiltered, numbered.")(func)
    func = click.option("--approved", is_flag=True,
                        help="Every page, approved items only, numbered: the candidates to "
                             "offer the user.")(func)
    return page_options(50)(func)


def _listing(client, kind, approved, walk_all, page_index, page_size):
    if approved and walk_all:
        raise InputError("--approved", "cannot be combined with --all")
    page_index, page_size = _page(page_index, page_size, 50,
                                  "--approved" if approved else "--all" if walk_all else None)
    from sms_skill import catalog

    if approved:
        return (catalog.approved_signs if kind == "signs" else catalog.approved_templates)(
            client)
    if walk_all:
        return catalog.all_items(client, kind)
    lister = ops().list_signs if kind == "signs" else ops().list_templates
    return lister(client, page_index, page_size)


#: The candidate tables SKILL.md has the agent show (tables only; JSON keeps every field).
SIGN_CANDIDATE_COLUMNS = ["Index", "SignName", "Scene", "BusinessType", "AuditStatus",
                          "SignStatus", "CarrierRegistration"]
TEMPLATE_CANDIDATE_COLUMNS = ["Index", "TemplateCode", "TemplateName", "TemplateContent",
                              "Variables"]
RECEIPT_COLUMNS = ["PhoneNum", "SendStatusText", "ErrCode", "SendDate", "ReceiveDate",
                   "TemplateCode", "OutId", "Content", "ErrCodeMeaning"]


@cli.command("list-signs")
@listing_options
@run_operation(rows="SmsSignList",
               columns=lambda o: SIGN_CANDIDATE_COLUMNS if o.get("approved") else None)
def list_signs(client, page_index, page_size, approved, walk_all):
    """List signatures with their review status (QuerySmsSignList).

    --approved keeps those approved (AuditStatus PASS, SignStatus 1) and adds each one's
    carrier registration (GetSmsSign) as CarrierRegistration: show these to the user.

    \b
    Examples:
      {prog} list-signs --approved
      {prog} list-signs --page-size 20
    """
    return _listing(client, "signs", approved, walk_all, page_index, page_size)


@cli.command("list-templates")
@listing_options
@run_operation(rows="SmsTemplateList",
               columns=lambda o: TEMPLATE_CANDIDATE_COLUMNS if o.get("approved") else None)
def list_templates(client, page_index, page_size, approved, walk_all):
    """List templates with content and review status (QuerySmsTemplateList).

    --approved keeps approved templates and adds the ${...} Variables each one needs.

    \b
    Examples:
      {prog} list-templates --approved
      {prog} list-templates --page-index 2
    """
    return _listing(client, "templates", approved, walk_all, page_index, page_size)


@cli.command("query-sign")
@click.option("-s", "--sign-name", required=True, help="Signature name.")
@run_operation(rows="SignIspRegisterDetailList")
def query_sign(client, sign_name):
    """Show one signature: status (1 approved) and carrier registration (GetSmsSign).

    \b
    Example:
      {prog} query-sign -s MySign
    """
    return ops().query_sign(client, sign_name)


@cli.command("query-template")
@click.option("-t", "--template-code", required=True, help="Template code.")
@run_operation()
def query_template(client, template_code):
    """Show one template: status (1 approved) and content (GetSmsTemplate), with the
    ${...} Variables its content needs added.

    \b
    Example:
      {prog} query-template -t SMS_123456
    """
    return ops().query_template(client, template_code)


@cli.command("query-status")
@click.option("-p", "--phone-number", "phone_number",
              help="The one number to look up (required).")
@click.option("--send-date", metavar="YYYYMMDD",
              help="Day of the send [default: today in UTC+8, the service's calendar].")
@click.option("--biz-id", help="BizId returned by send, for an exact match.")
@click.option("--page-size", type=INTEGER, default=10, show_default=True,
              help="Records per page (1 to 50).")
@click.option("--page-index", "current_page", type=INTEGER, default=1, show_default=True,
              help="Page number, from 1.")
@click.option("--wait", is_flag=True,
              help="Poll until every message is delivered (exit 0) or failed (exit 1); "
                   "exit 5 if still in flight at --timeout, printing the last receipts "
                   "seen (Wait.Records, Wait.InFlight).")
@click.option("--timeout", type=INTEGER, help="Seconds --wait may take [default: 120].")
@click.option("--no-mask", is_flag=True, help="Show full phone numbers.")
@old_name("phone_number", "--phone-numbers")
@old_name("current_page", "--current-page")
@run_operation(rows="SmsSendDetailDTOs.SmsSendDetailDTO", mask="PhoneNum",
               columns=lambda o: RECEIPT_COLUMNS)
def query_status(client, phone_number, send_date, biz_id, page_size, current_page, wait,
                 timeout, no_mask):
    """Delivery receipts for one number on one day (QuerySendDetails).

    Adds SendStatusText (1 in flight, 2 failed, 3 delivered) and ErrCodeMeaning to each
    record. Phone numbers are masked (table and JSON) unless --no-mask.

    \b
    Examples:
      {prog} query-status -p 13800138000 --send-date 20260326 --biz-id '1234^0'
      {prog} query-status -p 13800138000 --biz-id '1234^0' --wait --timeout 60
    """
    required(phone_number, "--phone-number")
    if timeout is not None and not wait:
        raise InputError("--timeout", "applies only with --wait")
    return ops().query_status(client, phone_number, send_date, biz_id, page_size,
                               current_page,
                               wait_timeout=(120 if timeout is None else timeout) if wait else None)


@cli.command("query-statistics")
@click.option("--start-date", required=True, metavar="YYYYMMDD", help="First day.")
@click.option("--end-date", required=True, metavar="YYYYMMDD", help="Last day.")
@click.option("--is-globe", type=click.Choice(sorted(validation.IS_GLOBE)), default="1",
              show_default=True, help="1 domestic, 2 international / Hong Kong, Macao, Taiwan.")
@click.option("--template-type", type=click.Choice(sorted(validation.TEMPLATE_TYPES)),
              help="0 code, 1 notification, 2 marketing, 3 international, 7 digital.")
@click.option("-s", "--sign-name", help="Only this signature.")
@page_options(10)
@run_operation(rows="Data.TargetList")
def query_statistics(client, start_date, end_date, is_globe, template_type, sign_name,
                     page_index, page_size):
    """Daily totals of sent, succeeded and failed messages (QuerySendStatistics).

    \b
    Examples:
      {prog} query-statistics --start-date 20260301 --end-date 20260326
      {prog} query-statistics --start-date 20260301 --end-date 20260326 --is-globe 2
    """
    return ops().query_statistics(client, start_date, end_date, is_globe, template_type,
                                   sign_name, *_page(page_index, page_size, 10))


@cli.command("list-qualifications")
@click.option("--qualification-group-name", help="Filter by qualification name.")
@click.option("--company-name", help="Filter by company name.")
@click.option("--state", type=click.Choice(list(validation.QUALIFICATION_STATES)),
              help="INIT under review, PASS approved, NOT_PASS rejected, NOT_FINISH "
                   "incomplete, CANCEL cancelled.")
@click.option("--work-order-id", help="Filter by work order id.")
@click.option("--legal-person-name", help="Filter by legal person.")
@click.option("--use-by-self", type=click.BOOL, help="true: for your own business.")
@click.option("--all", "walk_all", is_flag=True, help="Every page, numbered.")
@page_options(20, "--page-index", "page_no")
@old_name("page_no", "--page-no")
@run_operation(rows="Data.List")
def list_qualifications(client, walk_all, **filters):
    """List SMS qualification records (QuerySmsQualificationRecord).

    See references/sms-qualification.md for fields and states.

    \b
    Examples:
      {prog} list-qualifications --state PASS --page-size 20
      {prog} list-qualifications --all
    """
    filters["page_no"], filters["page_size"] = _page(filters["page_no"], filters["page_size"],
                                                     20, "--all" if walk_all else None)
    if walk_all:
        return ops().all_qualifications(client, **filters)
    return ops().list_qualifications(client, **filters)


@cli.command("query-qualification")
@click.option("--qualification-group-id", required=True, help="GroupId from the list.")
@click.option("--order-id", help="Work order id.")
@click.option("--no-mask", is_flag=True,
              help="Show ID numbers, phone numbers and image URLs unmasked.")
@run_operation()
def query_qualification(client, qualification_group_id, order_id, no_mask):
    """One qualification in detail (QuerySingleSmsQualification).

    ID numbers and phone numbers are masked and image URLs withheld, unless --no-mask.

    \b
    Example:
      {prog} query-qualification --qualification-group-id 10000123
    """
    return ops().query_qualification(client, qualification_group_id, order_id,
                                      unmask=no_mask)



"""Signatures and templates across all pages, and the approved candidates an agent shows
the user to pick from."""

from __future__ import annotations

from collections.abc import Iterator

from sms_skill import verify
from sms_skill.client import Client

PAGE_SIZE = 50
APPROVED = "AUDIT_STATE_PASS"
KINDS = {
    "signs": ("QuerySmsSignList", "SmsSignList"),
    "templates": ("QuerySmsTemplateList", "SmsTemplateList"),
}


def walk(client: Client, kind: str) -> Iterator[dict]:
    """Every item of every page (a dry run prints the first page's command only). The
    first page gives the total; the other pages are then fetched concurrently."""
    action, key = KINDS[kind]
    first = client.call(action, {"PageIndex": 1, "PageSize": PAGE_SIZE})
    items = first.get(key) or []
    yield from items
    total = int(first.get("TotalCount") or 0)
    if not items or len(items) >= total or len(items) < PAGE_SIZE:
        return
    pages = -(-total // PAGE_SIZE)
    for response in client.call_each([(action, {"PageIndex": page, "PageSize": PAGE_SIZE})
                                      for page in range(2, pages + 1)]):
        yield from response.get(key) or []


def _numbered(items: list[dict], key: str) -> dict:
    for index, item in enumerate(items, 1):
        item["Index"] = index
    return {key: items, "TotalCount": len(items)}


def all_items(client: Client, kind: str) -> dict:
    """Every page, unfiltered, in the API's shape with an ``Index`` per item, and the
    signature's ``Scene`` or the template's ``Variables``."""
    items = list(walk(client, kind))
    for item in items:
        if kind == "signs":
            item["Scene"] = item.get("BusinessType")
        else:
            item["Variables"] = verify.template_variables(item.get("TemplateContent", ""))
    return _numbered(items, KINDS[kind][1])


def approved_signs(client: Client) -> dict:
    """Approved signatures (AuditStatus PASS and SignStatus 1), each with its carrier
    registration from GetSmsSign: information for the user, never a filter."""
    candidates = []
    passed = [item for item in walk(client, "signs") if item.get("AuditStatus") == APPROVED]
    details = client.call_each([("GetSmsSign", {"SignName": item["SignName"]})
                                for item in passed])
    for item, detail in zip(passed, details):
        if client.dry_run:
            continue
        if verify.status_code(detail.get("SignStatus")) != 1:
            continue
        item["SignStatus"] = detail.get("SignStatus")
        item["Scene"] = (detail.get("ApplyScene") or detail.get("SignUsage")
                         or item.get("BusinessType"))
        item["CarrierRegistration"] = {op: state
                                       for op, state in verify.carrier_registration(detail)}
        candidates.append(item)
    return _numbered(candidates, "SmsSignList")


def approved_templates(client: Client) -> dict:
    """Approved templates, each with the variables its content needs."""
    candidates = []
    for item in walk(client, "templates"):
        if item.get("AuditStatus") == APPROVED:
            item["Variables"] = verify.template_variables(item.get("TemplateContent", ""))
            candidates.append(item)
    return _numbered(candidates, "SmsTemplateList")

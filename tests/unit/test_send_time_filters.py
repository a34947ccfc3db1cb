"""A campaign checks its recipients again just before each chunk's call: a resume hours after
the plan, or another run meanwhile, must not reach a number suppressed or over a per-number
limit since the plan."""

from __future__ import annotations

import json

from sms_skill import ledger
from sms_skill.campaign import Store
from sms_skill.campaign.plan import plan
from sms_skill.recipients import Row
from tests.unit.helpers import sent_numbers

NUMBERS = ["13800138001", "13800138002", "13800138003"]


def planned(numbers=NUMBERS, *, force: bool = False) -> str:
    """A campaign planned (chunks leased to this process), not yet sent: as a run that was
    stopped before its first call leaves it."""
    with Store() as store:
        return plan(store, kind="send", rows=[Row(n + 1, p) for n, p in enumerate(numbers)],
                    source="--phone-file", source_sha256=lambda: "file", template_code="SMS_1",
                    sign_name="S", template_param='{"x":"1"}', out_id=None,
                    skip_invalid=False, force=force).campaign_id


def fifty_notices_to(number_key: str) -> None:
    with Store() as store, store.transaction() as db:
        ledger.record(db, [number_key] * 50, [f"m{n}" for n in range(50)], "elsewhere",
                      signs=["S"] * 50, template="SMS_1")


def test_a_number_suppressed_after_the_plan_is_not_sent_on_resume(bulk, invoke):
    campaign_id = planned()
    assert invoke("suppression", "add", NUMBERS[1]).code == 0
    resumed = invoke("send", "--resume", campaign_id)
    assert resumed.code == 0, resumed.stderr
    assert sent_numbers(bulk) == [NUMBERS[0], NUMBERS[2]]
    summary = resumed.json()
    assert summary["suppressed"] == 1 and summary["total_recipients"] == 2
    assert "skipped 1 number(s) on the suppression list" in resumed.stderr


def test_a_number_over_a_limit_since_the_plan_is_left_out_unless_forced(bulk, invoke):
    campaign_id = planned()
    forced_id = planned(["13900139001"], force=True)
    fifty_notices_to("8613800138003")
    fifty_notices_to("8613900139001")
    resumed = invoke("send", "--resume", campaign_id)
    assert resumed.code == 0, resumed.stderr
    assert sent_numbers(bulk) == NUMBERS[:2]
    assert resumed.json()["over_limit"] == 1
    assert "138****8003" in resumed.stderr and "next send allowed at" in resumed.stderr
    assert invoke("send", "--resume", forced_id).code == 0
    assert sent_numbers(bulk)[-1] == "13900139001"


def test_a_chunk_with_no_one_left_is_failed_without_a_call(bulk, invoke):
    campaign_id = planned(NUMBERS[:1])
    assert invoke("suppression", "add", NUMBERS[0]).code == 0
    resumed = invoke("send", "--resume", campaign_id)
    assert resumed.code == 1
    assert sent_numbers(bulk) == []
    shown = json.loads(invoke("campaign", "show", campaign_id).stdout)
    assert [(c["state"], c["code"], c["size"]) for c in shown["chunk_list"]] == [
        ("failed", "LEFT_OUT", 0)]
    assert "nothing was sent" in shown["chunk_list"][0]["message"]


def test_two_campaigns_at_once_send_one_code_per_minute_to_a_number():
    """Planned together, before either sent: the second to reach its call leaves out the
    number the first one has in flight (verification codes: 1 per minute)."""
    from sms_skill.campaign import current_owner

    with Store() as store:
        with store.transaction() as db:
            ledger.learn_kind(db, "SMS_1", 0)  # a verification-code template
        ids = [plan(store, kind="send", rows=[Row(1, NUMBERS[0]), Row(2, other)],
                    source="--phone-file", source_sha256=lambda: "file", template_code="SMS_1",
                    sign_name="S", template_param=f'{{"code":"{code}"}}', out_id=None,
                    skip_invalid=False).campaign_id
               for other, code in ((NUMBERS[1], "111111"), (NUMBERS[2], "222222"))]
        me = current_owner()
        first = store.begin(store.campaign(ids[0]), 0, me, 1)
        second = store.begin(store.campaign(ids[1]), 0, me, 1)
        assert first.refused is None and not first.left_out.count
        assert second.refused is None
        assert [b.number for b in second.left_out.over_limit] == [NUMBERS[0]]
        assert [phone for phone, _, _ in store.chunk_rows(ids[1], 0)] == [NUMBERS[2]]


def test_a_suppression_list_made_by_another_run_mid_campaign_is_seen():
    """A run's store remembers the tables it found, not the ones it did not: the list made
    meanwhile (another process's ``suppression add``) counts from the next chunk on."""
    from sms_skill import suppression
    from sms_skill.campaign import current_owner

    with Store() as store:
        ids = [plan(store, kind="send", rows=[Row(1, number)], source="--phone-file",
                    source_sha256=lambda: "file", template_code="SMS_1", sign_name="S",
                    template_param=f'{{"n":"{n}"}}', out_id=None,
                    skip_invalid=False).campaign_id
               for n, number in enumerate(NUMBERS[:2])]
        me = current_owner()
        assert not store.begin(store.campaign(ids[0]), 0, me, 1).left_out.count
        assert suppression.add_numbers([NUMBERS[1]]) == {"added": 1}
        second = store.begin(store.campaign(ids[1]), 0, me, 1)
        assert second.left_out.suppressed == 1 and second.refused

"""The suppression list: permanent codes from the references, receipts feeding the list,
and single sends skipping listed numbers."""

from __future__ import annotations

import pytest

from sms_skill import references, suppression
from sms_skill.errors import InputError
from sms_skill.journal import Journal


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    return tmp_path


def test_permanent_codes_are_marked_in_the_references():
    permanent = {code for code, entry in references.error_codes().items() if entry.permanent}
    assert {"MOBILE_IN_BLACK", "USER_REJECT", "INVALID_NUMBER", "DB:0141"} <= permanent
    assert not {"MOBILE_NOT_ON_SERVICE", "UNDELIV", "EXPIRED", "DELIVERED"} & permanent
    assert not references.lookup("MOBILE_IN_BLACK").meaning.startswith("**")


def test_only_failed_receipts_with_a_permanent_code_count():
    records = [
        {"PhoneNum": "13800138000", "SendStatus": 2, "ErrCode": "MOBILE_IN_BLACK"},
        {"PhoneNum": "13900139000", "SendStatus": "2", "ErrCode": "MOBILE_NOT_ON_SERVICE"},
        {"PhoneNum": "13700137000", "SendStatus": 3, "ErrCode": "DELIVERED"},
        {"PhoneNum": "13600136000", "SendStatus": 1, "ErrCode": "USER_REJECT"},
    ]
    assert suppression.permanent_failures(records, "x") == {"13800138000": "MOBILE_IN_BLACK"}


def test_receipts_put_numbers_on_the_list_and_sends_skip_them(home):
    said = []
    assert suppression.note_receipts(
        [{"PhoneNum": "13800138000", "SendStatus": 2, "ErrCode": "USER_REJECTED"}],
        "13800138000", said.append) == 1
    assert "later sends skip them" in said[0]
    assert [e["Number"] for e in suppression.listing()] == ["138****8000"]
    journal = Journal()
    try:
        _, keep = journal.reserve(action="SendSms", recipients=["+8613800138000", "13900139000"],
                                  sign_names=["S"], template_code="SMS_1", params=None,
                                  messages=["m", "m"], out_id=None)
        assert keep == [1] and journal.suppressed == 1
        with pytest.raises(InputError, match="every recipient"):
            journal.reserve(action="SendSms", recipients=["8613800138000"], sign_names=["S"],
                            template_code="SMS_1", params=None, messages=["n"], out_id=None)
    finally:
        journal.close()
    assert suppression.remove_numbers(["13800138000"]) == {"removed": 1, "not_listed": 0}
    assert suppression.listing() == []

"""Numbers checked the way the service checks them, before any call."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sms_skill import validation
from sms_skill.errors import InputError


@pytest.mark.parametrize("number", ["13800138000", "19912345678", "+8613800138000",
                                    "008613800138000", "8613800138000", "+85261234567",
                                    "85261234567", "+12025550123", "+447911123456"])
def test_numbers_the_service_accepts_pass(number):
    assert validation.phone_number(number) == number


@pytest.mark.parametrize("number, why", [
    ("1380013800", "10 digits"),  # the trial's number: one digit short
    ("12800138000", "starting with 13 to 19"),
    ("138001380001", "12 digits"),
    ("+861012345678", "landlines"),
    ("12025550123", "+ and the country code"),  # a US number without its +
    ("+1380013800", "+1 (US)"),
    ("+99912345678", "no known country code"),
])
def test_numbers_the_service_refuses_are_refused_with_the_reason(number, why):
    with pytest.raises(InputError) as refused:
        validation.phone_number(number, "--phone-numbers")
    assert refused.value.option == "--phone-numbers"
    assert why in refused.value.message


def test_a_mainland_number_does_not_import_phonenumbers():
    code = ("import sys; from sms_skill import validation; "
            "validation.phone_number('13800138000'); validation.phone_number('+8613800138000');"
            " print('phonenumbers' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"


def test_a_bad_number_in_a_file_is_refused_by_its_line_before_any_call(invoke, session,
                                                                        tmp_path):
    source = tmp_path / "numbers.txt"
    source.write_text("13800138000\n\n# a comment\n1380013800\n13900139000\n")
    result = invoke("send", "--phone-file", str(source), "-s", "S", "-t", "T")
    assert result.code == 2
    assert "line 4: '1380013800' is not a mainland China mobile number" in result.stderr
    assert "nothing was sent" in result.stderr
    assert not [c for c in session.calls if "dysmsapi" in c]


@pytest.mark.parametrize("number", ["１３８００１３８０００", "١٣٨٠٠١٣٨٠٠٠", "+８６13800138000"])
def test_digits_other_than_0_to_9_are_refused_before_any_call(number, invoke, fp):
    """Full-width or Arabic-Indic digits would get their own ledger key (and so escape the
    duplicate check and the per-number limits) while a gateway might read them as the
    same number."""
    result = invoke("send", "-p", number, "-s", "S", "-t", "T", "-tp", '{"code":"1"}')
    assert result.code == 2
    assert "digits 0-9" in result.stderr and "--phone-numbers" in result.stderr
    assert not fp.calls

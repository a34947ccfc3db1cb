"""Billed messages and cost, by Alibaba Cloud's length rules."""

from __future__ import annotations

import pytest

from sms_skill import segments
from sms_skill.errors import InputError


@pytest.mark.parametrize("length, messages", [(70, 1), (71, 2), (134, 2), (135, 3)])
def test_domestic_70_then_67_per_part(length, messages):
    assert segments.count("验" * length, international=False).messages == messages


@pytest.mark.parametrize("text, messages", [("a" * 160, 1), ("a" * 161, 2), ("a" * 306, 2),
                                            ("a" * 307, 3), ("{" * 80, 1), ("{" * 81, 2)])
def test_international_gsm7_160_then_153_with_double_characters(text, messages):
    result = segments.count(text, international=True)
    assert (result.encoding, result.messages) == ("GSM-7", messages)


def test_one_character_outside_gsm7_makes_it_ucs2_and_is_named():
    result = segments.count("a" * 69 + "你", international=True)
    assert (result.encoding, result.messages, result.ucs2_characters) == ("UCS-2", 1, "你")
    assert segments.count("a" * 70 + "你", international=True).messages == 2


def test_the_length_counts_the_signature_with_its_brackets_and_the_rendered_template():
    text = segments.message_text("阿里云", "code ${code}", {"code": "123456"})
    assert text == "【阿里云】code 123456"
    assert segments.count(text, international=False).characters == 16


def test_over_500_characters_is_refused():
    with pytest.raises(InputError, match="at most 500"):
        segments.checked("x" * 501, False, "", "--phone-file")


def test_a_campaign_totals_every_row_and_never_invents_a_price():
    tally = segments.Tally()
    for text in ("short", "x" * 71, "y" * 140):
        tally.add(segments.count(text, international=False))
    summary = tally.summary(None)
    assert summary["messages"] == 1 + 2 + 3 and summary["cost"] is None
    assert tally.summary(0.05)["cost"] == 0.3


def test_a_csv_plan_totals_the_segments_of_every_row(fp, invoke, tmp_path):
    source = tmp_path / "people.csv"
    source.write_text("phone,name\n13800138000,Li\n13900139000," + "长" * 70 + "\n"
                      "+447911123456,Ann\n")
    result = invoke("--dry-run", "batch-send", "--csv", str(source), "-s", "Shop",
                    "-t", "SMS_1", "--template-text", "Hi ${name}", "--price", "0.1")
    assert result.code == 0, result.stderr
    preview = result.json()["segments"]
    # 1 + (【Shop】Hi + 70 characters = 79: 2 parts) + 1 international (UCS-2 for 【】)
    assert preview["messages"] == 4 and preview["cost"] == 0.4
    assert list(fp.calls) == []

"""Recipient files read by one csv reader, template values as strings, --verify on names
the account does not have, and campaigns in history."""

from __future__ import annotations

import io
import json

import pytest

from sms_skill import recipients, validation
from sms_skill.errors import InputError
from tests.unit.helpers import SEND_OK, answer


def rows_of(data: bytes, sign: str | None = "S"):
    reader = recipients.HashingReader(io.BytesIO(data))
    return list(recipients.batch_rows(reader, sign))


def test_a_quoted_newline_stays_in_its_field_and_lines_stay_right():
    rows = rows_of(b'phone,name\n13800138000,"two\nlines"\n1380013800,x\n13900139000,y\n')
    assert rows[0].params == {"name": "two\nlines"} and rows[0].line == 2
    assert isinstance(rows[1], recipients.BadRow) and rows[1].line == 4  # not 3
    assert rows[2].line == 5 and rows[2].params == {"name": "y"}


def test_a_bom_and_crlf_are_not_data():
    rows = rows_of(b'\xef\xbb\xbfphone,name\r\n13800138000,"a\r\nb"\r\n13900139000,Li\r\n')
    assert [r.phone for r in rows] == ["13800138000", "13900139000"]
    assert rows[0].params == {"name": "a\r\nb"} and rows[1].params == {"name": "Li"}
    assert rows[1].line == 4


@pytest.mark.parametrize("given", ['{"code":482913}', '{"code":true}', '{"n":1.5}'])
def test_a_template_value_that_is_not_a_string_is_refused_with_the_fix(given):
    with pytest.raises(InputError) as refused:
        validation.template_param(given)
    assert "not a string" in refused.value.message
    assert '"code":"482913"' in refused.value.message or "write" in refused.value.message


def test_verify_on_a_signature_the_account_lacks_is_exit_4(session, invoke):
    body = {"Code": "SignatureNotFound", "Message": "The specified signature does not exist.",
            "RequestId": "R"}
    session.register(["aliyun", "dysmsapi", "get-sms-sign", session.any()],
                     stdout=json.dumps(body))
    result = invoke("send", "-p", "13800138000", "-s", "Nope", "-t", "SMS_1",
                    "-tp", '{"code":"1234"}', "--verify")
    assert result.code == 4, result.stderr
    assert "signature 'Nope' not found" in result.stderr and "nothing was sent" in result.stderr
    assert not [c for c in session.calls if "send-sms" in c]


def test_history_shows_campaigns_and_their_chunks(session, invoke, tmp_path):
    session.register(["aliyun", "dysmsapi", "send-sms", session.any()], stdout=answer(SEND_OK),
                     occurrences=5)
    source = tmp_path / "numbers.txt"
    source.write_text("".join(f"{13000000000 + i}\n" for i in range(1500)))
    sent = invoke("send", "--phone-file", str(source), "-s", "S", "-t", "T",
                  "-tp", '{"code":"1234"}')
    assert sent.code == 0, sent.stderr
    campaign_id = sent.json()["campaign"]
    [line] = invoke("history").json()
    assert (line["Campaign"], line["Count"], line["Outcome"]) == (campaign_id, 1500, "sent")
    lines = invoke("history", "--chunks").json()
    assert [(row["Chunk"], row["Count"]) for row in lines if row["Chunk"] is not None] \
        in ([(0, 1000), (1, 500)], [(1, 500), (0, 1000)])


def test_the_skills_own_column_names_are_read_in_any_case_variables_as_written():
    rows = rows_of(b"Phone,SIGN_NAME,Name\n13800138000,Brand,Li\n", sign=None)
    assert rows[0].phone == "13800138000" and rows[0].sign_name == "Brand"
    assert rows[0].params == {"Name": "Li"}


@pytest.mark.parametrize(("data", "said"), [
    # a quote left open would take the next rows as its text
    (b'phone,name\n13800138000,"open\n13900139000,Li\n', "line 2 is not valid CSV"),
    (b"phone,name\n13800138000," + b"x" * 200_000 + b"\n13900139000,Li\n",
     "line 2 is not valid CSV"),
    (b"phone,name\n13800138000,a\rb\n", "carriage return inside a field"),
    (b"phone,PHONE,name\n13800138000,13900139000,Li\n", "names phone more than once"),
    (b"phone,template_param,code\n13800138000,{},1\n", "not both"),
    ("phone,name\n13800138000,Li\n13900139000,王\n".encode("gbk"), "line 3 is not UTF-8"),
])
def test_a_file_that_cannot_be_read_safely_is_refused_whole(data, said):
    """Even with --skip-invalid: the rows after such a line cannot be trusted."""
    with pytest.raises(InputError) as refused:
        rows_of(data)
    assert said in refused.value.message and "nothing was sent" in str(refused.value)


def test_a_refused_file_sends_nothing_even_with_skip_invalid(session, invoke, tmp_path):
    source = tmp_path / "r.csv"
    source.write_bytes(b'phone,name\n13800138000,"open\n13900139000,Li\n')
    result = invoke("batch-send", "--csv", str(source), "-s", "S", "-t", "T", "--skip-invalid")
    assert result.code == 2 and "line 2 is not valid CSV" in result.stderr
    assert not [c for c in session.calls if "send-batch-sms" in c]


@pytest.mark.parametrize(("param", "said"), [
    ('{"code":"\\ud800"}', "not text"),  # a lone surrogate: was an internal error
    ('{"code":"1","code":"2"}', "more than once"),  # the service would keep one: a guess
])
def test_template_values_that_cannot_be_sent_as_given_are_refused(invoke, fp, param, said):
    result = invoke("send", "-p", "13800138000", "-s", "S", "-t", "T", "-tp", param)
    assert result.code == 2 and said in result.stderr and "--template-param" in result.stderr
    assert not fp.calls


def test_a_plan_stays_small_and_names_bad_lines(fp, invoke, tmp_path):
    source = tmp_path / "numbers.txt"
    source.write_text("13800138000\nbad\n13900139000\nworse\n")
    long_param = json.dumps({"name": "x" * 3000})
    result = invoke("--dry-run", "send", "--phone-file", str(source), "-s", "S", "-t", "T",
                    "-tp", long_param, "--out-id", "o" * 200, "--skip-invalid")
    assert result.code == 0, result.stderr
    plan = json.loads(result.stdout)
    assert len(result.stdout.encode()) <= 2048
    assert plan["skipped_lines"] == [2, 4]
    assert f"<{len(long_param)} characters: " in plan["first_command"]


@pytest.mark.parametrize("price", ["1e308", "101"])
def test_a_price_that_cannot_be_meant_is_refused(fp, invoke, tmp_path, price):
    source = tmp_path / "numbers.txt"
    source.write_text("13800138000\n")
    result = invoke("--dry-run", "send", "--phone-file", str(source), "-s", "S", "-t", "T",
                    "--price", price, "--template-text", "code ${code}")
    assert result.code == 2 and "--price" in result.stderr

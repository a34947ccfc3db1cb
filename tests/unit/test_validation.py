"""Every validation rule: exit 2, a one-line message naming the option, no process."""

from __future__ import annotations

import pytest

SEND = ["send", "-s", "Sign", "-t", "SMS_1"]
BATCH = ["batch-send", "-t", "SMS_1"]
STATS = ["query-statistics"]

CASES = [
    (SEND + ["-p", "1380"], "--phone-numbers", "not a phone number"),
    (SEND + ["-p", "1380013800013800"], "--phone-numbers", "not a phone number"),
    (SEND + ["-p", "138-0013-8000"], "--phone-numbers", "not a phone number"),
    (SEND + ["-p", "++8613800138000"], "--phone-numbers", "not a phone number"),
    (SEND + ["-p", "13800138000,,13900139000"], "--phone-numbers", "entry 2 is empty"),
    (SEND + ["-p", "13800138000,"], "--phone-numbers", "entry 2 is empty"),
    (SEND + ["-p", ""], "--phone-numbers", "entry 1 is empty"),
    (SEND + ["-p", "13800138000,13800138000"], "--phone-numbers", "listed twice"),
    (SEND + ["-p", "+8613800138000,008613800138000"], "--phone-numbers", "listed twice"),
    (SEND + ["-p", ",".join(str(13800000000 + i) for i in range(1001))],
     "--phone-numbers", "at most 1000"),
    (SEND + ["-p", "13800138000", "-tp", "{bad"], "--template-param", "not valid JSON"),
    (SEND + ["-p", "13800138000", "-tp", '["a"]'], "--template-param", "JSON object"),
    (SEND + ["-p", "13800138000", "-tp", '{"a":{"b":1}}'], "--template-param",
     "must be a string"),
    (SEND + ["-p", "13800138000", "-tp", '{"a":null}'], "--template-param", "must be a string"),
    (SEND + ["-p", "13800138000", "-o", "x" * 256], "--out-id", "under 256"),
    (["send", "-p", "13800138000", "-s", " ", "-t", "SMS_1"], "--sign-name", "must not be empty"),
    (BATCH + ["--phone-number-json", '["13800138000","13900139000"]',
              "--sign-name-json", '["A"]'], "--phone-number-json", "equal lengths"),
    (BATCH + ["--phone-number-json", '["13800138000"]', "--sign-name-json", '["A"]',
              "--template-param-json", '[{"c":"1"},{"c":"2"}]'], "--phone-number-json",
     "equal lengths"),
    (BATCH + ["--phone-number-json", '"13800138000"', "--sign-name-json", '["A"]'],
     "--phone-number-json", "JSON array"),
    (BATCH + ["--phone-number-json", '["13800138000"]', "--sign-name-json", '["A"]',
              "--template-param-json", '["x"]'], "--template-param-json", "JSON object"),
    (BATCH + ["--phone-number-json", "[" + ",".join(f'"{13800000000 + i}"' for i in range(101))
              + "]", "--sign-name-json", '["A"]'], "--phone-number-json", "at most 100"),
    (BATCH + ["--phone-number-json", '["13800138000","13800138000"]',
              "--sign-name-json", '["A","A"]'], "--phone-number-json", "listed twice"),
    (STATS + ["--start-date", "20260230", "--end-date", "20260301"], "--start-date",
     "not a calendar date"),
    (STATS + ["--start-date", "2026-03-01", "--end-date", "20260301"], "--start-date",
     "yyyyMMdd"),
    (STATS + ["--start-date", "20260302", "--end-date", "20260301"], "--end-date", "before"),
    (STATS + ["--start-date", "20260301", "--end-date", "20260301", "--is-globe", "3"],
     "--is-globe", "'3' is not one of '1', '2'"),
    (STATS + ["--start-date", "20260301", "--end-date", "20260301", "--template-type", "5"],
     "--template-type", "is not one of '0', '1', '2', '3', '7'"),
    (STATS + ["--start-date", "20260301", "--end-date", "20260301", "--page-size", "51"],
     "--page-size", "1 to 50"),
    (["list-signs", "--page-size", "0"], "--page-size", "1 to 50"),
    (["list-templates", "--page-index", "x"], "--page-index", "digits 0-9"),
    (["query-status", "-p", "13800138000,13900139000"], "--phone-number", "not a phone number"),
    (["query-status", "-p", "13800138000", "--timeout", "5"], "--timeout", "only with --wait"),
    (["query-status", "--phone-numbers", "13800138000", "-p", "13800138000"], "--phone-numbers",
     "old name of --phone-number"),
    (["history", "--dry-run"], "--dry-run", "calls no SMS API"),
    (["campaign", "list", "--dry-run"], "--dry-run", "calls no SMS API"),
    (["explain", "UNDELIV", "--dry-run"], "--dry-run", "calls no SMS API"),
    # a local command: it would change the list for real, or ignore where calls go
    (["suppression", "add", "13800138000", "--dry-run"], "--dry-run", "calls no SMS API"),
    (["history", "--profile", "other"], "--profile", "calls no SMS API"),
    (["-r", "cn-beijing", "campaign", "list"], "--region", "calls no SMS API"),
    (["explain", "UNDELIV", "--yes"], "--yes", "calls no SMS API"),
    (["list-qualifications", "--state", "init"], "--state", "is not one of"),
    (["query-status", "-p", "13800138000", "--send-date", "20261341"], "--send-date",
     "not a calendar date"),
    (["query-status", "-p", "13800138000", "--page-size", "51"], "--page-size", "1 to 50"),
    (["list-qualifications", "--state", "DONE"], "--state", "PASS"),
    (["query-qualification", "--qualification-group-id", "abc"], "--qualification-group-id",
     "whole number"),
    (SEND + ["-p", "13800138000", "--templat-code", "x"], "--templat-code", "No such option"),
    (["send", "-p", "13800138000", "-s", "S"], "--template-code", "is required"),
    (["send", "-s", "S", "-t", "T"], "--phone-numbers", "exactly one of"),
    (["send", "-p", "13800138000", "--phone-file", "f.txt", "-s", "S", "-t", "T"],
     "--phone-file", "exactly one of"),
    (["send", "--phone-file", "/nonexistent/file", "-s", "S", "-t", "T"], "--phone-file",
     "cannot read"),
    (["send", "--resume", "nope"], "'nope'", "no campaign"),
    (["batch-send", "--phone-number-json", '["13800138000"]', "-t", "T"], "--sign-name-json",
     "is required"),
    (["--query", "Code[", "list-signs"], "--query", "JMESPath"),
    (["--region", "cn hangzhou", "list-signs"], "--region", "not a region id"),
    (["list-signs", "--format", "xml"], "--format", "'xml' is not one of"),
    (["sned"], "sned", "No such command"),
]


@pytest.mark.parametrize(("args", "option", "fragment"), CASES,
                         ids=[f"{c[1]}:{c[2]}" for c in CASES])
def test_bad_input_is_refused_before_any_call(fp, aliyun_path, invoke, args, option, fragment):
    result = invoke(*args)
    assert result.code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert option in lines[0] and fragment in lines[0]
    assert list(fp.calls) == []


@pytest.mark.parametrize("option", ["--access-key-id", "--access-key-secret", "--sts-token"])
@pytest.mark.parametrize("where", ["before", "after"])
def test_secret_options_are_refused_without_echoing_the_secret(fp, invoke, option, where):
    secret = "LTAI5tSuperSecretValue"
    base = ["query-sign", "-s", "S"]
    args = [option, secret, *base] if where == "before" else [*base, option, secret]
    result = invoke(*args)
    assert result.code == 2
    assert option in result.stderr and "credential chain" in result.stderr
    assert secret not in result.stderr + result.stdout
    assert list(fp.calls) == []


def test_a_number_may_be_written_with_plus_or_00_and_spaces_around_commas(fp, invoke):
    result = invoke("--dry-run", *SEND, "-p", "+8613800138000, 0085261234567,13900139000")
    assert result.code == 0, result.stderr
    assert "--phone-numbers +8613800138000,0085261234567,13900139000 " in result.stdout


def test_exactly_1000_numbers_are_accepted(fp, invoke):
    numbers = ",".join(str(13800000000 + i) for i in range(1000))
    assert invoke("--dry-run", *SEND, "-p", numbers).code == 0


@pytest.mark.parametrize(("option", "value"), [
    ("--parallel", "1_0"), ("--parallel", "١٠"), ("--parallel", "４"), ("--rate", "nan"),
    ("--price", "inf"), ("--rate", "1_000"),
])
def test_numeric_options_take_ascii_digits_only(invoke, fp, tmp_path, option, value):
    phones = tmp_path / "phones.txt"
    phones.write_text("13800138000\n")
    result = invoke("send", "--phone-file", str(phones), "-s", "S", "-t", "T", option, value)
    assert result.code == 2
    assert f"'{option}'" in result.stderr and "digits 0-9" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not fp.calls


@pytest.mark.parametrize("args", [
    ["send", "-p", "13800138000", "-p", "13900139000", "-s", "S", "-t", "T"],
    ["send", "--phone-numbers=13800138000", "-p", "13900139000", "-s", "S", "-t", "T"],
    ["-r", "cn-hangzhou", "send", "-p", "13800138000", "-s", "S", "-t", "T", "-r", "cn-beijing"],
    ["send", "-p", "13800138000", "-s", "S", "-t", "T", "-tp", "{}", "--template-param", "{}"],
    ["campaign", "show", "X", "--chunk", "1", "--chunk", "2"],
])
def test_an_option_given_twice_is_refused_not_guessed(invoke, fp, args):
    """click keeps the last value: `-p A -p B` sent to B only."""
    result = invoke(*args)
    assert result.code == 2 and "is given more than once" in result.stderr
    assert not fp.calls


@pytest.mark.parametrize(("args", "option"), [
    (["list-signs", "--approved", "--page-index", "2"], "--page-index"),
    (["list-templates", "--all", "--page-size", "5"], "--page-size"),
    (["list-qualifications", "--all", "--page-index", "2"], "--page-index"),
    (["query-status", "-p", "13800138000", "--wait", "--timeout", "0"], "--timeout"),
])
def test_an_option_that_would_be_ignored_is_refused(invoke, fp, args, option):
    result = invoke(*args)
    assert result.code == 2 and option in result.stderr, result.stderr
    assert not fp.calls


@pytest.mark.parametrize(("args", "option"), [
    (["send", "-p", "13800138000", "-s", "S", "-t", "T", "--parallel", "8"], "--parallel"),
    (["send", "-p", "13800138000", "-s", "S", "-t", "T", "--force", "--skip-sent"],
     "--skip-sent"),
    (["batch-send", "--phone-number-json", '["13800138000"]', "--sign-name-json", '["S"]',
      "-t", "T", "-s", "S"], "--sign-name"),
])
def test_send_options_that_would_be_ignored_or_contradict_are_refused(invoke, fp, args,
                                                                       option):
    result = invoke(*args)
    assert result.code == 2 and option in result.stderr, result.stderr
    assert not fp.calls


@pytest.mark.parametrize("args", [
    ["history", "--limit", "1_0"], ["history", "--limit", "١٠"],
    ["reconcile", "--min-age", "1_20"], ["campaign", "reconcile", "X", "--min-age", "١٢٠"],
])
def test_every_integer_option_takes_ascii_digits_only(invoke, fp, args):
    result = invoke(*args)
    assert result.code == 2
    assert "digits 0-9" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not fp.calls


def test_no_integer_option_is_left_to_clicks_own_int():
    """click's int takes ``1_0`` and Arabic-Indic digits; every integer option uses the
    ASCII one (INTEGER), so a new option cannot quietly miss it."""
    import click

    from tests.conftest import every_command

    def commands(command):
        yield command
        for sub in getattr(command, "commands", {}).values():
            yield from commands(sub)

    loose = [(command.name, param.name) for top in every_command().values()
             for command in commands(top) for param in command.params
             if isinstance(param.type, click.types.IntParamType)]
    assert not loose

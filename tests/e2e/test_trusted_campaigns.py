"""Campaigns an operator can trust, through the shim against the fake's recording service:
a number the gateway refuses costs only itself, failed chunks can be retried, the plan is
compact and binds the send, and the books (history, reconcile) add up."""

from __future__ import annotations

from collections import Counter

from tests.e2e.conftest import needs_fake_log

pytestmark = needs_fake_log

SIGN, TEMPLATE, PARAM = "AliyunDemo", "SMS_123456", '{"code":"123456"}'


def numbers_file(tmp_path, count: int, name: str = "numbers.txt"):
    numbers = [str(13000000000 + i) for i in range(count)]
    path = tmp_path / name
    path.write_text("\n".join(numbers) + "\n")
    return path, numbers


def test_a_number_the_gateway_refuses_costs_only_itself(world, service, tmp_path):
    source, numbers = numbers_file(tmp_path, 2500)
    bad = numbers[1500]  # in the second chunk of 1000
    result = world.run("send", "--phone-file", str(source), "-s", SIGN, "-t", TEMPLATE,
                       "--template-param", PARAM, "--parallel", "2",
                       FAKE_ALIYUN_REFUSED_NUMBERS=bad)
    assert result.code == 1, result.stderr  # one number failed: nothing proves it was sent
    sent = service.sends_per_number()
    assert sent == Counter({n: 1 for n in numbers if n != bad})
    summary = result.json()
    assert summary["recipients"]["sent"] == 2499 and summary["recipients"]["failed"] == 1
    campaign_id = summary["campaign"]
    shown = world.run("campaign", "show", campaign_id, "--numbers", "--no-mask").json()
    [failed] = [c for c in shown["chunk_list"] if c["state"] == "failed"]
    assert failed["code"] == "isv.MOBILE_NUMBER_ILLEGAL" and failed["numbers"] == [bad]
    assert any(c["state"] == "split" for c in shown["chunk_list"])


TEXT = "您的验证码为${code}，5分钟内有效。"


def dry_plan(world, source, *extra: str):
    result = world.run("send", "--phone-file", str(source), "-s", SIGN, "-t", TEMPLATE,
                       "--template-param", PARAM, "--dry-run", *extra)
    assert result.code == 0, result.stderr
    return result


def test_the_plan_is_compact_whatever_the_size_and_never_shows_a_number(world, tmp_path):
    small, _ = numbers_file(tmp_path, 100, "small.txt")
    large, numbers = numbers_file(tmp_path, 100_000, "large.txt")
    plans = [dry_plan(world, source, "--price", "0.045", "--template-text", TEXT)
             for source in (small, large)]
    sizes = [len(p.stdout.encode()) for p in plans]
    assert max(sizes) <= 2048 and abs(sizes[0] - sizes[1]) < 20, sizes
    plan = plans[1].json()
    assert plan["recipients"] == 100_000 and plan["chunks"] == 100
    assert plan["segments"]["messages"] == 100_000 and plan["segments"]["cost"] == 4500.0
    assert "--phone-numbers '<1000 numbers>'" in plan["first_command"]
    assert not any(n in plans[1].stdout for n in numbers[:1000])  # masked samples only
    assert "campaign" not in plans[1].stdout.replace("<campaign id>", "")  # none was created
    assert "no campaign was created" in plans[1].stderr


def test_confirm_sends_only_the_plan_the_user_approved(world, service, tmp_path):
    source, numbers = numbers_file(tmp_path, 1500)
    plan_id = dry_plan(world, source).json()["plan_id"]
    source.write_text("\n".join(numbers + ["13900000000"]) + "\n")  # the file changed
    refused = world.run("send", "--phone-file", str(source), "-s", SIGN, "-t", TEMPLATE,
                        "--template-param", PARAM, "--confirm", plan_id)
    assert refused.code == 2 and f"not {plan_id}" in refused.stderr
    assert "nothing was sent" in refused.stderr and service.requests() == []
    assert refused.stderr.count("plan-") == 1  # the new plan's id is not handed out
    assert world.run("campaign", "list").json() == []
    source.write_text("\n".join(numbers) + "\n")  # back to what was approved
    elsewhere = world.run("send", "--phone-file", str(source), "-s", SIGN, "-t", TEMPLATE,
                          "--template-param", PARAM, "--confirm", plan_id,
                          "-r", "ap-southeast-1")
    assert elsewhere.code == 2 and service.requests() == []  # another region: not approved
    listed = world.run("send", "-p", numbers[0], "-s", SIGN, "-t", TEMPLATE,
                       "--template-param", PARAM, "--confirm", plan_id)
    assert listed.code == 2 and "--confirm" in listed.stderr  # it would gate nothing
    assert service.requests() == []
    sent = world.run("send", "--phone-file", str(source), "-s", SIGN, "-t", TEMPLATE,
                     "--template-param", PARAM, "--confirm", plan_id)
    assert sent.code == 0, sent.stderr
    assert service.sends_per_number() == Counter({n: 1 for n in numbers})


def test_no_price_no_cost_and_the_environment_can_set_it(world, tmp_path):
    source, _ = numbers_file(tmp_path, 10)
    without = dry_plan(world, source, "--template-text", TEXT).json()["segments"]
    assert without["cost"] is None and "--price" in without["cost_note"]
    world.env["SMS_SKILL_PRICE"] = "0.05"
    priced = dry_plan(world, source, "--template-text", TEXT).json()["segments"]
    assert priced["cost"] == 0.5


def test_retry_resends_failed_chunks_never_unknown_ones_and_reconcile_exits_0(
        world, service, tmp_path):
    from tests.fake_aliyun import scenarios

    source, numbers = numbers_file(tmp_path, 2500)
    world.mock(scenarios.read_timeout(),  # chunk 0: may have been sent
               scenarios.business_error("isv.SMS_SIGNATURE_ILLEGAL", "签名不合法", times=0))
    first = world.run("send", "--phone-file", str(source), "-s", SIGN, "-t", TEMPLATE,
                      "--template-param", PARAM, "--parallel", "1")
    assert first.code == 5, first.stderr
    campaign_id = first.json()["campaign"]
    del world.env["ALIBABA_CLOUD_CLI_MOCK"]  # the signature is approved now

    retried = world.run("campaign", "retry", campaign_id)
    assert retried.code == 5, retried.stderr  # chunk 0 is still in doubt, and not resent
    assert service.sends_per_number() == Counter({n: 1 for n in numbers[1000:]})

    settled = world.run("campaign", "reconcile", campaign_id, "--min-age", "0")
    assert settled.code == 0, settled.stderr  # all settled; what is left is in the JSON
    report = settled.json()
    assert report["to_resume"] == 1 and "--resume" in report["next"]
    assert world.run("send", "--resume", campaign_id).code == 0
    assert service.sends_per_number() == Counter({n: 1 for n in numbers})


def test_campaign_show_numbers_are_masked_unless_asked(world, service, tmp_path):
    source, numbers = numbers_file(tmp_path, 3)
    sent = world.run("send", "--phone-file", str(source), "-s", SIGN, "-t", TEMPLATE,
                     "--template-param", PARAM)
    campaign_id = sent.json()["campaign"]
    masked = world.run("campaign", "show", campaign_id, "--numbers", "--chunk", "0").json()
    assert masked["chunk_list"][0]["numbers"] == ["130****0000", "130****0001", "130****0002"]
    bare = world.run("campaign", "show", campaign_id, "--numbers", "--no-mask").json()
    assert bare["chunk_list"][0]["numbers"] == numbers


def test_a_quoted_newline_in_a_csv_is_sent_whole(world, service, tmp_path):
    source = tmp_path / "people.csv"
    source.write_bytes(b'\xef\xbb\xbfphone,code\r\n13800138000,"12\r\n34"\r\n13900139000,5678\r\n')
    result = world.run("batch-send", "--csv", str(source), "-s", SIGN, "-t", TEMPLATE)
    assert result.code == 0, result.stderr
    [request] = service.requests()
    assert request["phones"] == ["13800138000", "13900139000"]
    assert request["params"] == [{"code": "12\r\n34"}, {"code": "5678"}]


def test_verify_on_a_template_the_account_lacks_is_exit_4_and_sends_nothing(world, service,
                                                                            tmp_path):
    source, _ = numbers_file(tmp_path, 5)
    result = world.run("send", "--phone-file", str(source), "-s", SIGN, "-t", "SMS_000000",
                       "--template-param", PARAM, "--verify")
    assert result.code == 4, result.stderr
    assert "not found" in result.stderr and "nothing was sent" in result.stderr
    assert service.requests() == [] and world.run("campaign", "list").json() == []
    assert world.run("history").json() == []

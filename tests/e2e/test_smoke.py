from tests.e2e.conftest import assert_ai_mode_wrapped, compliant, needs_fake_log


@needs_fake_log
def test_send_through_the_shim(world):
    result = world.run("send", "-p", "13800138000", "-s", "AliyunDemo", "-t", "SMS_123456",
                       "-tp", '{"code":"123456"}')
    assert result.code == 0, result.stderr
    assert result.json()["Code"] == "OK"
    assert_ai_mode_wrapped(world)
    assert all(compliant(e["argv"]) for e in world.product_calls())
    print(world.calls())

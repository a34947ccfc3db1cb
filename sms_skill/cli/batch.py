"""batch-send: per-recipient signatures and variables, up to 100 numbers or a CSV sent as a
campaign (built apart from send, which most runs are)."""

from __future__ import annotations

import click

from sms_skill.cli import cli, ops, required, run_operation
from sms_skill.cli.sending import (
    bulk_options,
    campaign_outcome,
    file_only,
    not_both,
    one_source,
    resend_options,
    start_bulk,
)
from sms_skill.errors import InputError


@cli.command("batch-send")
@click.option("--phone-number-json", metavar="JSON", help="JSON array of numbers, at most 100.")
@click.option("--sign-name-json", metavar="JSON",
              help="JSON array of signatures, one per number.")
@click.option("--csv", "csv_file", metavar="FILE",
              help="CSV with phone, sign_name (or -s) and the variables (a template_param "
                   "JSON column, or one column each); - for stdin. Chunks of 100.")
@click.option("-s", "--sign-name", help="With --csv: the signature for rows without one.")
@click.option("-t", "--template-code", help="Template code shared by all.")
@click.option("--template-param-json", metavar="JSON",
              help="JSON array of variable objects, one per number.")
@click.option("--sms-up-extend-code-json", metavar="JSON",
              help="JSON array of upstream extension codes, one per number.")
@click.option("-o", "--out-id", help="Your own tracking id (under 256 characters).")
@click.option("--verify", is_flag=True,
              help="Refuse unless every signature and the template are approved (exit 4).")
@resend_options
@bulk_options
@run_operation(outcome=campaign_outcome)
def batch_send(client, phone_number_json, sign_name_json, csv_file, sign_name, template_code,
               template_param_json, sms_up_extend_code_json, out_id, verify, force,
               skip_sent, resume_id, skip_invalid, parallel, rate, confirm, price,
               template_text):
    """Send per-recipient signatures and variables to up to 100 numbers (SendBatchSms),
    or to every row of a CSV file as a resumable campaign.

    \b
    Examples:
      {prog} batch-send --phone-number-json '["13800138000","13900139000"]' \\
        --sign-name-json '["SignA","SignB"]' -t SMS_123456 \\
        --template-param-json '[{"code":"111111"},{"code":"222222"}]'
      {prog} batch-send --csv customers.csv -s MySign -t SMS_123456
    """
    one_source(**{"--phone-number-json": phone_number_json, "--csv": csv_file,
                   "--resume": resume_id})
    not_both(force, skip_sent)
    if not resume_id:
        required(template_code, "--template-code")
    if phone_number_json is not None:
        required(sign_name_json, "--sign-name-json")
        file_only("--phone-number-json", confirm=confirm, template_text=template_text,
                   skip_invalid=skip_invalid, rate=rate, parallel=parallel)
        if sign_name is not None:
            raise InputError("--sign-name", "goes with --csv (the default signature of its "
                             "rows); with --phone-number-json give --sign-name-json")
        return ops().batch_send(client, phone_number_json, sign_name_json, template_code,
                                 template_param_json, sms_up_extend_code_json, out_id,
                                 verify=verify, force=force, skip_sent=skip_sent)
    return start_bulk(client, "batch", csv_file, resume_id, parallel=parallel, rate=rate,
                 confirm=confirm, price=price, template_text=template_text,
                 template_code=template_code, sign_name=sign_name, out_id=out_id,
                 skip_invalid=skip_invalid, force=force, skip_sent=skip_sent, verify=verify)


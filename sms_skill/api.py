"""The dysmsapi parameter shapes that single sends, batch sends and campaigns all build.

Each function returns the parameters of one API call, in the order aliyun receives them;
parameters whose value is None are left out of the command.
"""

from __future__ import annotations

import json


def compact_json(value: object) -> str:
    """JSON as the API's *Json parameters take it: no spaces, characters kept as they are."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def send_sms(phone_numbers: str, sign_name: str | None, template_code: str,
             template_param: str | None, out_id: str | None) -> dict:
    """SendSms: up to 1000 comma-separated numbers, one signature and one message."""
    return {"PhoneNumbers": phone_numbers, "SignName": sign_name,
            "TemplateCode": template_code, "TemplateParam": template_param, "OutId": out_id}


def send_batch_sms(phone_number_json: str, sign_name_json: str, template_code: str,
                   template_param_json: str | None, out_id: str | None,
                   sms_up_extend_code_json: str | None = None) -> dict:
    """SendBatchSms: up to 100 numbers, each with its signature and parameters."""
    return {"PhoneNumberJson": phone_number_json, "SignNameJson": sign_name_json,
            "TemplateCode": template_code, "TemplateParamJson": template_param_json,
            "SmsUpExtendCodeJson": sms_up_extend_code_json, "OutId": out_id}


def query_send_details(phone_number: str, send_date: str, *, biz_id: str | None = None,
                       page_size: int = 50, current_page: int = 1) -> dict:
    """QuerySendDetails: the receipts of one number on one day (yyyyMMdd, UTC+8)."""
    return {"PhoneNumber": phone_number, "SendDate": send_date, "BizId": biz_id,
            "PageSize": page_size, "CurrentPage": current_page}

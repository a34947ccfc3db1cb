"""Alibaba Cloud SMS agent skill: compliant ``aliyun dysmsapi`` calls from Python or the shell."""

__version__ = "0.1.0"

USER_AGENT = "AlibabaCloud-Agent-Skills/alibabacloud-sms-send-short-message"

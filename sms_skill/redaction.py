"""Secrets out of every text the aliyun CLI prints, before it is shown, stored or cached.

Two nets: the actual credential values (from the environment and from the aliyun profiles
on this machine), and anything shaped like a credential field, whatever the notation
(``AccessKeyId=X``, ``AccessKeyId%3DX``, ``AccessKeyId: X``, ``"AccessKeyId":"X"``).
"""

from __future__ import annotations

import functools
import json
import os
import re

WITHHELD = "***"
#: The credential variables the aliyun CLI reads (facts §8), all four spellings of each.
SECRET_VARIABLES = tuple(
    f"{prefix}{name}"
    for name in ("ACCESS_KEY_ID", "ACCESS_KEY_SECRET", "SECURITY_TOKEN")
    for prefix in ("ALIBABA_CLOUD_", "ALIBABACLOUD_", "ALICLOUD_", "")
) + ("ALIBABA_CLOUD_BEARER_TOKEN",)
#: Profile keys in ~/.aliyun/config.json that hold secrets.
PROFILE_SECRET_KEYS = ("access_key_id", "access_key_secret", "sts_token", "private_key",
                       "access_token", "bearer_token", "oauth_access_token",
                       "oauth_refresh_token")
#: Shorter values are not redacted by value (they would blank out ordinary words).
MIN_SECRET_LENGTH = 4

_FIELD = (r"AccessKey(?:Id|Secret)|Signature|SecurityToken|StsToken|BearerToken|"
          r"access[_-]key[_-](?:id|secret)|security[_-]token|sts[_-]token|bearer[_-]token")
# A field name (not the tail of a longer word such as InvalidAccessKeySecret, though it may
# follow an escape such as \n inside a JSON string; the start of SignatureMethod does not
# match either), optional closing quotes (escaped or not), then =, : or a URL-encoded (once
# or twice) =, optional opening quotes, and the value up to a delimiter.
_SHAPED = re.compile(
    rf"(?i)(?:(?<![A-Za-z0-9_])|(?<=\\[nrt])|(?<=%26)|(?<=%2526))"
    rf"((?:{_FIELD})(?:\\?[\"'])?\s*(?:=|:|%3D|%253D)\s*(?:\\?[\"'])?)"
    r"((?:%(?!26|22|27|2C|2526|2522)(?:25)?[0-9A-Fa-f]{2}|[^\s\"'&,;{}%<>\[\]\\])+)")
_XML_FIELD = re.compile(rf"(?i)(<({_FIELD})>)[^<]*(</\2>)")
_AUTHORIZATION = re.compile(r"(?i)(Authorization(?:\\?[\"'])?\s*[:=]\s*(?:\\?[\"'])?)"
                            r"(?:[A-Za-z0-9-]+ +)?[^\s\"'\\,;]+")
_URL_QUERY = re.compile(r"(https?://[^\s\"?]+)\?[^\s\"]*")
_STRING_TO_SIGN = re.compile(r"(string to sign is:)\S+")


@functools.lru_cache(maxsize=1)
def _profile_secrets(config_file: str) -> tuple[str, ...]:
    try:
        with open(config_file, encoding="utf-8") as handle:
            profiles = json.load(handle).get("profiles", [])
    except (OSError, ValueError, AttributeError):
        return ()
    return tuple(str(p[key]) for p in profiles if isinstance(p, dict)
                 for key in PROFILE_SECRET_KEYS if p.get(key))


@functools.lru_cache(maxsize=8)
def _spellings(values: frozenset[str]) -> tuple[str, ...]:
    """Each value as printed, and URL-encoded once and twice (a signed URL quotes it)."""
    from urllib.parse import quote, quote_plus

    forms = set(values)
    for value in values:
        once = quote(value, safe="")
        forms.update((once, quote_plus(value), quote(once, safe="")))
    return tuple(sorted(forms, key=len, reverse=True))


def known_secrets() -> tuple[str, ...]:
    """The credential values this run could leak, in every spelling, longest first."""
    from sms_skill import paths

    values = {os.environ[name] for name in SECRET_VARIABLES if os.environ.get(name)}
    values.update(_profile_secrets(str(paths.aliyun_config_file(required=False))))
    return _spellings(frozenset(v for v in values if len(v) >= MIN_SECRET_LENGTH))


def redact(text: str) -> str:
    """``text`` with every known secret value and every credential-shaped field withheld."""
    if not text:
        return text
    for secret in known_secrets():
        text = text.replace(secret, WITHHELD)
    text = _XML_FIELD.sub(lambda m: m.group(1) + WITHHELD + m.group(3), text)
    text = _AUTHORIZATION.sub(lambda m: m.group(1) + WITHHELD, text)
    return _SHAPED.sub(lambda m: m.group(1) + WITHHELD, text)


def redact_request(text: str) -> str:
    """For error text: also drop request query strings (they carry phone numbers) and the
    string to sign that SignatureDoesNotMatch quotes."""
    return _STRING_TO_SIGN.sub(r"\1 (withheld)", _URL_QUERY.sub(r"\1?...", redact(text)))

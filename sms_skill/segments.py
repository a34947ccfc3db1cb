"""How many billed messages a text makes, by Alibaba Cloud's rules (shared facts: length).

The length is the signature with the brackets the service adds (【】) plus the rendered
template. Domestic: every character counts 1, up to 70 is one message, above that 67 per
part. International: GSM-7 text gives 160, then 153 per part, with ``| ^ € { } [ ] ~ \\``
counting 2; any other character makes the whole message UCS-2: 70, then 67 per part.
Over 500 characters the service refuses the message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sms_skill.errors import InputError

MAX_CHARACTERS = 500
#: The GSM 03.38 default alphabet (one septet each).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
#: The extension table: each takes an escape septet too, so it counts 2.
GSM7_EXTENDED = frozenset("|^€{}[]~\\")
_VARIABLE = re.compile(r"\$\{(\w+)\}")


@dataclass
class Count:
    characters: int
    messages: int
    encoding: str  # "domestic", "GSM-7" or "UCS-2"
    #: The characters that made an international message UCS-2 (at most 10).
    ucs2_characters: str = ""


def render(template_text: str, params: dict | None) -> str:
    """The template with each ``${name}`` replaced by its value (left as is if missing)."""
    values = params or {}
    return _VARIABLE.sub(lambda m: str(values.get(m.group(1), m.group(0))), template_text)


def count(text: str, *, international: bool) -> Count:
    """The billed messages of one full text (signature included)."""
    if not international:
        length = len(text)
        return Count(length, 1 if length <= 70 else -(-length // 67), "domestic")
    forcing = "".join(dict.fromkeys(ch for ch in text
                                    if ch not in GSM7_BASIC and ch not in GSM7_EXTENDED))
    if forcing:
        length = len(text)
        return Count(length, 1 if length <= 70 else -(-length // 67), "UCS-2", forcing[:10])
    septets = sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)
    return Count(septets, 1 if septets <= 160 else -(-septets // 153), "GSM-7")


def message_text(sign_name: str | None, template_text: str, params: dict | None) -> str:
    return f"【{sign_name or ''}】{render(template_text, params)}"


def is_international(number: str) -> bool:
    """Not a mainland China number (its canonical key does not start with 86)."""
    from sms_skill.validation import recipient_key

    return not recipient_key(number).startswith("86")


def checked(text: str, international: bool, where: str, option: str) -> Count:
    """``count``, refusing a text the service would refuse (over 500 characters)."""
    result = count(text, international=international)
    if len(text) > MAX_CHARACTERS:
        raise InputError(option, f"{where}the message is {len(text)} characters (signature "
                                 f"with 【】 plus the rendered template); the service takes at "
                                 f"most {MAX_CHARACTERS}; nothing was sent")
    return result


class Tally:
    """Messages over every recipient of a campaign, with the worst case kept."""

    def __init__(self) -> None:
        self.messages = 0
        self.recipients = 0
        self.most = 0
        self.longest = 0
        self.ucs2_characters = ""
        self.encodings: set[str] = set()

    def add(self, result: Count) -> None:
        self.messages += result.messages
        self.recipients += 1
        self.most = max(self.most, result.messages)
        self.longest = max(self.longest, result.characters)
        self.encodings.add(result.encoding)
        if result.ucs2_characters and len(self.ucs2_characters) < 10:
            merged = dict.fromkeys(self.ucs2_characters + result.ucs2_characters)
            self.ucs2_characters = "".join(merged)[:10]

    def summary(self, price: float | None) -> dict:
        out = {"messages": self.messages, "per_recipient_max": self.most,
               "longest_characters": self.longest, "encodings": sorted(self.encodings)}
        if self.ucs2_characters:
            out["ucs2_because_of"] = self.ucs2_characters
        out["cost"] = (round(self.messages * price, 4) if price is not None else None)
        if price is None:
            out["cost_note"] = "give --price (or SMS_SKILL_PRICE) per message to see the cost"
        else:
            out["price_per_message"] = price
        return out

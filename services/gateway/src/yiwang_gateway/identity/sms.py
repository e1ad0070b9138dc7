"""短信发送 The pluggable SMS sender of sign-in codes.

A sender is anything with ``async send(phone, text)``. ``GATEWAY_IDENTITY__SMS__SENDER`` names
it: ``log`` is the development sender, which writes the message, code included, to the log
(in production it is replaced by one that sends nothing and answers 503, so no code ever lands in
a production log); ``package.module:Class`` loads a real one (a carrier's or the
province's SMS platform), built with no arguments and configured from its own environment.
"""

from __future__ import annotations

import importlib
import logging
from typing import Protocol, runtime_checkable

from yiwang_common.http.problems import ServiceUnavailable

log = logging.getLogger(__name__)


@runtime_checkable
class SmsSender(Protocol):
    """Sends one text message."""

    async def send(self, phone: str, text: str) -> None:
        """Send ``text`` to the mobile number ``phone``."""


def mask_phone(phone: str) -> str:
    """138****0001: enough to tell numbers apart in a log, not enough to call one."""
    return phone[:3] + "*" * max(0, len(phone) - 7) + phone[-4:] if len(phone) > 7 else "***"


class LogSmsSender:
    """开发用短信 The development sender: the message goes to the log, nowhere else."""

    async def send(self, phone: str, text: str) -> None:
        """Log the message (with the code: it is the only way to read it in development)."""
        log.warning(
            "开发用短信发送器 development SMS to %s: %s",
            mask_phone(phone),
            text,
            extra={"sms_to": mask_phone(phone)},
        )


class SmsUnavailable(ServiceUnavailable):
    """No SMS sender is configured (production with the development sender)."""

    code = "sms_unavailable"
    title = "短信验证码服务暂不可用，请使用密码登录"


class UnconfiguredSmsSender:
    """Production without a real sender: nothing is sent, the code request is refused."""

    async def send(self, phone: str, text: str) -> None:
        """Refuse."""
        raise SmsUnavailable()


def load_sender(spec: str, *, production: bool = False) -> SmsSender:
    """Build the configured sender.

    Args:
        spec: ``log`` or ``package.module:Class``.
        production: whether this is production, where ``log`` must not receive codes.

    Returns:
        The sender.

    Raises:
        ValueError: if the class cannot be loaded or has no ``send``.
    """
    if spec == "log":
        return UnconfiguredSmsSender() if production else LogSmsSender()
    module_name, _, class_name = spec.partition(":")
    try:
        sender = getattr(importlib.import_module(module_name), class_name)()
    except (ImportError, AttributeError, TypeError, ValueError) as exc:
        raise ValueError(f"cannot load the SMS sender {spec!r}: {exc}") from exc
    if not isinstance(sender, SmsSender):
        raise ValueError(f"the SMS sender {spec!r} has no async send(phone, text)")
    return sender

"""payment's own settings, read from the environment in this one place.

Alipay: `PAYMENT_ALIPAY_APP_ID` and `PAYMENT_ALIPAY_SELLER_ID` (our merchant PID, which every
notification must name); `PAYMENT_ALIPAY_APP_PRIVATE_KEY_FILE` signs our pay requests,
`PAYMENT_ALIPAY_PUBLIC_KEY_FILE` (Alipay's public key) verifies its notifications. In sandbox
mode, when they are unset, the sandbox creates both key pairs under MALL_DATA_DIR/keys/ and
plays Alipay's server with `PAYMENT_ALIPAY_SANDBOX_PRIVATE_KEY_FILE`. WeChat Pay (API v3) alike:
`PAYMENT_WECHAT_APPID`, `_MCHID`, `_MERCHANT_PRIVATE_KEY_FILE`, `_MERCHANT_SERIAL_NO`,
`_PLATFORM_PUBLIC_KEY_FILE`, `_PLATFORM_SERIAL_NO`, `_APIV3_KEY`.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

from mall_shared.config import data_dir, service_url

SANDBOX_APP_ID = "2021000000000001"  # the sandbox's app id when none is configured
SANDBOX_SELLER_ID = "2088000000000001"  # and its seller (merchant PID)


def _env(name: str) -> str:
    return os.environ.get(name, "").strip()


@dataclass(frozen=True)
class PaymentConfig:
    sandbox: bool
    url: str  # our own public base URL: Alipay posts notifications to it
    alipay_app_id: str
    alipay_seller_id: str  # our merchant's Alipay PID (2088…): the money must be paid to us
    alipay_app_private_key_file: Path
    alipay_public_key_file: Path
    alipay_sandbox_private_key_file: Path
    wechat_appid: str
    wechat_mchid: str
    wechat_merchant_private_key_file: Path
    wechat_merchant_serial_no: str
    wechat_platform_public_key_file: Path
    wechat_platform_serial_no: str
    wechat_sandbox_platform_private_key_file: Path
    wechat_apiv3_key_file: Path
    wechat_apiv3_key_inline: str = ""
    # Which keys the sandbox must create (those not configured): "alipay", "app", "wechat", ...
    generate_keys: tuple[str, ...] = ()

    @classmethod
    def load(cls) -> PaymentConfig:
        keys = data_dir() / "keys"
        sandbox = _env("MALL_SANDBOX").lower() in {"1", "true", "yes", "on"}
        app_key, alipay_key = _env("PAYMENT_ALIPAY_APP_PRIVATE_KEY_FILE"), _env("PAYMENT_ALIPAY_PUBLIC_KEY_FILE")
        wx_merchant, wx_platform = _env("PAYMENT_WECHAT_MERCHANT_PRIVATE_KEY_FILE"), _env(
            "PAYMENT_WECHAT_PLATFORM_PUBLIC_KEY_FILE")
        wx_apiv3 = _env("PAYMENT_WECHAT_APIV3_KEY")
        generate = tuple(name for name, given in (("alipay", alipay_key), ("app", app_key), ("wechat", wx_platform),
                                                  ("wechat_merchant", wx_merchant), ("wechat_apiv3", wx_apiv3))
                         if not given)
        return cls(
            sandbox=sandbox,
            url=service_url("payment"),
            alipay_app_id=_env("PAYMENT_ALIPAY_APP_ID") or (SANDBOX_APP_ID if sandbox else ""),
            alipay_seller_id=_env("PAYMENT_ALIPAY_SELLER_ID") or (SANDBOX_SELLER_ID if sandbox else ""),
            alipay_app_private_key_file=Path(app_key or keys / "alipay_app_private.pem"),
            alipay_public_key_file=Path(alipay_key or keys / "alipay_public.pem"),
            alipay_sandbox_private_key_file=Path(_env("PAYMENT_ALIPAY_SANDBOX_PRIVATE_KEY_FILE")
                                                 or keys / "alipay_sandbox_private.pem"),
            wechat_appid=_env("PAYMENT_WECHAT_APPID") or ("wxsandbox0000001" if sandbox else ""),
            wechat_mchid=_env("PAYMENT_WECHAT_MCHID") or ("1900000001" if sandbox else ""),
            wechat_merchant_private_key_file=Path(wx_merchant or keys / "wechat_merchant_private.pem"),
            wechat_merchant_serial_no=_env("PAYMENT_WECHAT_MERCHANT_SERIAL_NO") or "SANDBOX-MERCHANT-1",
            wechat_platform_public_key_file=Path(wx_platform or keys / "wechat_platform_public.pem"),
            wechat_platform_serial_no=_env("PAYMENT_WECHAT_PLATFORM_SERIAL_NO") or "SANDBOX-PLATFORM-1",
            wechat_sandbox_platform_private_key_file=Path(_env("PAYMENT_WECHAT_SANDBOX_PLATFORM_PRIVATE_KEY_FILE")
                                                          or keys / "wechat_sandbox_platform_private.pem"),
            wechat_apiv3_key_file=keys / "wechat_apiv3.key",
            wechat_apiv3_key_inline=wx_apiv3,
            generate_keys=generate if sandbox else (),
        )

    def wechat_apiv3_key(self) -> str:
        """The 32-character APIv3 key that encrypts WeChat Pay's notification resources."""
        return self.wechat_apiv3_key_inline or self.wechat_apiv3_key_file.read_text().strip()

    def notify_url(self, provider: str) -> str:
        return f"{self.url}/api/payments/notify/{provider}"


@functools.cache
def config() -> PaymentConfig:
    """The process's settings (loaded once, on first use, never at import)."""
    return PaymentConfig.load()

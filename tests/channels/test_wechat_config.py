"""The WeChat channel's configuration, checked in the Rasa environment (where the channel
runs): environment variables win over credentials.yml, bad values and the development values
in production stop the server from starting."""

from __future__ import annotations

import json
import subprocess
import textwrap

from tests.support.stack import ROOT, rasa_python

SCRIPT = textwrap.dedent(
    """
    import json, sys
    from connectors.wechat import WeChatConfig, WeChatConfigError
    results = []
    for credentials, env in json.loads(sys.argv[1]):
        try:
            config = WeChatConfig.from_credentials(credentials, env)
            results.append({"token": config.token, "app_id": config.app_id,
                            "reply_timeout": config.reply_timeout, "api": config.api_base_url})
        except WeChatConfigError as exc:
            results.append({"error": str(exc)})
    print(json.dumps(results))
    """
)

REAL = {
    "token": "prodToken2026",
    "app_id": "wx1234567890abcdef",
    "app_secret": "real-secret",
    "encoding_aes_key": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
}


def configs(*cases: tuple[dict, dict]) -> list[dict]:
    out = subprocess.run(
        [str(rasa_python()), "-W", "ignore", "-c", SCRIPT, json.dumps(cases)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_configuration_rules() -> None:
    dev, env_wins, prod_dev, prod_real, bad_key, bad_token, too_slow, typo = configs(
        ({}, {}),
        (dict(REAL), {"WECHAT_TOKEN": "fromEnvironment1", "WECHAT_REPLY_TIMEOUT_SECONDS": "3.5"}),
        ({}, {"APP_ENV": "production"}),
        (dict(REAL), {"APP_ENV": "production"}),
        ({**REAL, "encoding_aes_key": "too-short"}, {}),
        ({**REAL, "token": "has space"}, {}),
        ({**REAL, "reply_timeout": 5}, {}),
        ({**REAL, "apptoken": "x"}, {}),
    )
    assert dev == {"token": "devwechattoken", "app_id": "wx0000000000000000", "reply_timeout": 4.0,
                   "api": "https://api.weixin.qq.com"}
    assert env_wins["token"] == "fromEnvironment1" and env_wins["reply_timeout"] == 3.5
    assert "refusing to start in production" in prod_dev["error"]
    assert "WECHAT_APP_SECRET" in prod_dev["error"] and "WECHAT_ENCODING_AES_KEY" in prod_dev["error"]
    assert prod_real["token"] == "prodToken2026"
    assert "EncodingAESKey" in bad_key["error"]
    assert "3-32 letters or digits" in bad_token["error"]
    assert "at most 4.5" in too_slow["error"]
    assert "apptoken" in typo["error"]

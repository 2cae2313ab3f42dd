"""Custom Rasa input channels (and the lock store of the production profile).

Loading the package is the Rasa server's start for this project's code: it reads the
channels' settings once (``bot.settings.channels``; with ``APP_ENV=production`` a development
secret stops the server here) and points the rules at the jurisdiction file they name.
"""

from bot.rules import jurisdiction
from bot.settings.channels import load_channel_settings, set_channel_settings


def _start() -> None:
    settings = load_channel_settings()
    settings.check_production()
    set_channel_settings(settings)
    jurisdiction.use_file(settings.jurisdiction_file)


_start()

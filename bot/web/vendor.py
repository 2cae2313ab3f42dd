"""Browser packages installed from npm at set-up (frontend/), served locally: no CDN."""

from __future__ import annotations

import logging
from pathlib import Path

from aiohttp import web

log = logging.getLogger(__name__)

NODE_MODULES = Path(__file__).resolve().parents[2] / "frontend" / "node_modules"

# URL prefix -> the package directory holding its browser build.
VENDOR_DIRS = {
    "echarts": NODE_MODULES / "echarts" / "dist",
    "rasa-webchat": NODE_MODULES / "rasa-webchat" / "lib",
}


def setup_vendor_routes(app: web.Application) -> None:
    """Serve /static/vendor/<package>/... from frontend/node_modules."""
    for name, directory in VENDOR_DIRS.items():
        if not directory.is_dir():
            log.warning("browser package %s missing at %s: run `make setup`", name, directory)
            continue
        app.router.add_static(f"/static/vendor/{name}/", directory, append_version=False)

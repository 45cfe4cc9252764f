"""The wallboard in browsers (textual-serve) for the floor's big screen: on localhost unless
told otherwise, behind a login, and reachable under the address the browser used."""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import re
import secrets
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web
from textual_serve.server import Server

USER = "supervisor"


def password_file(folder: Path) -> Path:
    return Path(folder) / "wallboard.password"


def load_or_make_password(folder: Path) -> tuple[str, bool]:
    """`HOTLINE_WALLBOARD_PASSWORD`, else the one kept in the data dir (0600), else a new
    one written there; returns it and whether it is new (to show it once)."""
    env = os.environ.get("HOTLINE_WALLBOARD_PASSWORD")
    if env:
        return env, False
    path = password_file(folder)
    if path.exists():
        return path.read_text(encoding="utf-8").strip(), False
    password = secrets.token_urlsafe(12)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(password + "\n")
    return password, True


# textual-serve's page links its font from the internet; the font ships in its static folder
_WEB_FONT = re.compile(r'<link[^>]*href="https://fonts\.googleapis\.com[^"]*"[^>]*/?>', re.S)
_LOCAL_FONT = ('<style>@font-face { font-family: "Roboto Mono"; '
               'src: url("{{ config.static.url }}fonts/RobotoMono-VariableFont_wght.ttf"); }</style>')


class OfflinePage(jinja2.BaseLoader):
    """The served page with nothing fetched from the internet: a big screen on a floor
    without internet access shows the wallboard all the same."""

    def __init__(self, folder: Path):
        self.files = jinja2.FileSystemLoader(folder)

    def get_source(self, environment, template):
        source, filename, uptodate = self.files.get_source(environment, template)
        return _WEB_FONT.sub(_LOCAL_FONT, source), filename, uptodate


class WallboardServer(Server):
    def __init__(self, command: str, host: str, port: int, password: str, public_url: str | None = None):
        super().__init__(command, host=host, port=port, title="淄博12345 班长看板", public_url=public_url)
        self.password = password
        self.fixed_url = public_url

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        aiohttp_jinja2.setup(app, loader=OfflinePage(self.templates_path))
        app.middlewares.append(self._login)
        return app

    @web.middleware
    async def _login(self, request: web.Request, handler):
        if not self._authorised(request.headers.get("Authorization", "")):
            return web.Response(status=401, text="需要登录（班长看板）",
                                headers={"WWW-Authenticate": 'Basic realm="hotline wallboard", charset="UTF-8"'})
        return await handler(request)

    def _authorised(self, header: str) -> bool:
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, given = base64.b64decode(encoded).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return hmac.compare_digest(user, USER) & hmac.compare_digest(given, self.password)

    async def handle_index(self, request: web.Request):
        # the page's links and websocket follow the address the browser used (a big screen on
        # another machine), unless a public URL was given (behind a proxy)
        self.public_url = self.fixed_url or f"{request.scheme}://{request.host}"
        return await super().handle_index(request)

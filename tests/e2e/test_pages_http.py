"""The cabinet's pages and assets over HTTP, without a browser: redirects, headers, bundled assets,
no external URL anywhere, and package data that really ships every asset."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the api extra is not installed (pip install -e '.[api]')")

from fastapi.testclient import TestClient

from meterhub.api.web import CABINET_PREFIX, PAGES
from meterhub.api.web.claims_pages import CLAIMS_PAGES, CLAIMS_PREFIX
from meterhub.api.web.desk_pages import DESK_PAGES, DESK_PREFIX
from meterhub.api.web.links_pages import LINKS_PAGES, LINKS_PREFIX
from meterhub.api.web.registry_pages import REGISTRY_PREFIX, STAFF_PAGES
from meterhub.core.settings import Settings

WEB = Path(__file__).resolve().parents[2] / "src" / "meterhub" / "api" / "web"
PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
PAGE_PATHS = (
    [CABINET_PREFIX + p.path for p in PAGES]
    + [REGISTRY_PREFIX + p.path for p in STAFF_PAGES]
    + [DESK_PREFIX + p.path for p in DESK_PAGES]
    + [CLAIMS_PREFIX + p.path for p in CLAIMS_PAGES]
    + [LINKS_PREFIX + p.path for p in LINKS_PAGES]
)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory):
    from meterhub.api.app import create_app

    # No lifespan (no `with`): the pages never touch the database, so none is started.
    settings = Settings(
        database_url="postgresql://unused@127.0.0.1:1/unused", data_dir=tmp_path_factory.mktemp("d")
    )
    return create_app(settings)


@pytest.fixture(scope="module")
def client(app) -> TestClient:
    return TestClient(app, follow_redirects=False)


@pytest.fixture(scope="module")
def with_cookie(app) -> TestClient:
    """A browser that has some session cookie (its validity is the API's business, checked by JS)."""
    c = TestClient(app, follow_redirects=False)
    c.cookies.set("mh_session", "any")
    return c


@pytest.mark.parametrize("path", PAGE_PATHS)
def test_a_page_without_a_session_redirects_to_login_with_the_way_back(client: TestClient, path: str):
    r = client.get(path, params={"period": "day"})
    assert r.status_code == 303
    assert r.headers["location"].startswith(f"{CABINET_PREFIX}/login?next=")
    assert "%2Fcabinet" in r.headers["location"] and "period%3Dday" in r.headers["location"]


@pytest.mark.parametrize("path", [*PAGE_PATHS, f"{CABINET_PREFIX}/login"])
def test_pages_are_russian_same_origin_only_and_link_existing_assets(with_cookie: TestClient, path: str):
    r = with_cookie.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["cache-control"] == "no-store"
    assert '<html lang="ru">' in r.text
    assets = re.findall(r'(?:src|href)="(/cabinet/static/[^"?]+)\?v=[0-9a-f]{12}"', r.text)
    assert any(a.endswith(".css") for a in assets) and any(a.endswith(".js") for a in assets)
    for asset in assets:
        a = with_cookie.get(asset)
        assert a.status_code == 200, asset
        assert a.headers["content-type"].split(";")[0] in {"text/css", "text/javascript", "image/svg+xml"}


def test_versioned_assets_are_cached_for_good_and_bare_ones_revalidated(client: TestClient):
    page = client.get(f"{CABINET_PREFIX}/login").text
    versioned = re.search(r'src="(/cabinet/static/pages/login\.js\?v=[0-9a-f]{12})"', page).group(1)
    r = client.get(versioned)
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    path = versioned.split("?")[0]
    bare = client.get(path)
    assert bare.headers["cache-control"] == "no-cache" and bare.headers["etag"]
    assert client.get(path, headers={"If-None-Match": bare.headers["etag"]}).status_code == 304
    assert client.get(f"{CABINET_PREFIX}/static/../pages.py").status_code == 404


def test_page_modules_import_only_bundled_modules(client: TestClient):
    """Every ES-module import in the bundled JS is relative and resolves to a bundled file."""
    for js in (WEB / "static").rglob("*.js"):
        for spec in re.findall(r'from\s+"([^"]+)"', js.read_text()):
            assert spec.startswith("."), f"{js.name} imports {spec!r} from outside the package"
            target = (js.parent / spec).resolve()
            assert target.is_file(), f"{js.name} imports {spec!r}, which is not bundled"
            rel = target.relative_to(WEB / "static").as_posix()
            assert client.get(f"{CABINET_PREFIX}/static/{rel}").status_code == 200


def test_no_template_or_asset_refers_to_another_host():
    allowed = {"http://www.w3.org/2000/svg"}  # the SVG namespace, not a download
    for f in [*(WEB / "templates").rglob("*"), *(WEB / "static").rglob("*")]:
        if f.is_file():
            urls = set(re.findall(r"(?:https?:)?//[A-Za-z0-9.-]+\.[a-z]{2,}[^\s\"')]*", f.read_text()))
            assert urls <= allowed, f"{f.relative_to(WEB)} refers to {urls - allowed}"


def test_login_next_parameter_never_leaves_the_cabinet(client: TestClient):
    for evil in ("https://evil.example/", "//evil.example/x", "/api/v1/me", "javascript:alert(1)"):
        r = client.get(f"{CABINET_PREFIX}/login", params={"next": evil})
        assert 'data-next="/cabinet/"' in r.text, evil
    r = client.get(f"{CABINET_PREFIX}/login", params={"next": "/cabinet/receipts?account=LS-1"})
    assert 'data-next="/cabinet/receipts?account=LS-1"' in r.text


def test_root_goes_to_the_cabinet(client: TestClient):
    assert client.get("/").headers["location"] == f"{CABINET_PREFIX}/"
    assert client.get(CABINET_PREFIX).headers["location"] == f"{CABINET_PREFIX}/"


def test_package_data_ships_every_template_and_asset():
    data = tomllib.loads(PYPROJECT.read_text())["tool"]["setuptools"]["package-data"]
    patterns = data.get("meterhub.api.web", []) + data.get("*", [])
    for f in [*(WEB / "templates").rglob("*"), *(WEB / "static").rglob("*")]:
        if f.is_file():
            rel = f.relative_to(WEB).as_posix()
            assert any(fnmatch.fnmatch(rel, p) for p in patterns), f"{rel} is not in package-data"

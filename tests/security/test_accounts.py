"""Accounts under attack: failed logins on every door throttled per username and per address (429 with a
message, lifted by an owner), tokens absent from logs, `check --deploy` clean with HTTPS declared, and a
Content-Security-Policy on every page with no inline code for it to refuse."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.lockout import LOCKOUT_MESSAGE
from accounts.models import ApiToken
from accounts.services import api_token_create, lockout_lift
from projects.choices import Role
from projects.models import Membership, Project
from tests.projects.factories import ItemFactory, UserFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
DOORS = {"web": "/accounts/login/", "admin": "/admin/login/", "api": "/api/auth/token/"}
LIMIT = 10  # OVERSIGHT_LOGIN_FAILURE_LIMIT's default


def _login(door: str, username: str, password: str, ip: str = "10.9.9.9") -> tuple[int, str]:
    data = {"username": username, "password": password}
    if door == "admin":
        data["next"] = "/admin/"
    response = Client(REMOTE_ADDR=ip).post(DOORS[door], data)
    return response.status_code, response.content.decode()


def _ok(door: str) -> int:
    return 200 if door == "api" else 302


def _refused(door: str) -> int:
    return 400 if door == "api" else 200  # the login forms re-render with their error


@pytest.mark.parametrize("door", list(DOORS))
def test_sixty_wrong_passwords_lock_the_username_out(door: str) -> None:
    # given
    UserFactory(username="ann", is_staff=True)

    # when: the 60 wrong passwords in a row, each from another address
    statuses = [_login(door, "ann", "wrong", ip=f"10.0.{n // 250}.{n % 250 + 1}")[0] for n in range(60)]
    status, body = _login(door, "ann", "password123", ip="10.1.1.1")  # the right one, from a fresh address

    # then
    assert statuses == [_refused(door)] * (LIMIT - 1) + [429] * (60 - LIMIT + 1)
    assert status == 429
    assert LOCKOUT_MESSAGE.format(minutes=15) in body.replace("\\u2019", "'")


@pytest.mark.parametrize("door", list(DOORS))
def test_one_address_trying_many_usernames_is_locked_out(door: str) -> None:
    # given
    UserFactory(username="bob", is_staff=True)

    # when
    statuses = [_login(door, f"guess{n}", "wrong", ip="10.2.2.2")[0] for n in range(LIMIT)]
    same_address, _ = _login(door, "bob", "password123", ip="10.2.2.2")
    other_address, _ = _login(door, "bob", "password123", ip="10.3.3.3")

    # then
    assert statuses == [_refused(door)] * (LIMIT - 1) + [429]
    assert same_address == 429
    assert other_address == _ok(door)


@pytest.mark.parametrize("door", list(DOORS))
def test_lifted_lockout_lets_the_user_in_again(door: str) -> None:
    # given
    UserFactory(username="cyd", is_staff=True)
    for n in range(LIMIT):
        _login(door, "cyd", "wrong", ip=f"10.4.4.{n + 1}")
    locked, _ = _login(door, "cyd", "password123", ip="10.5.5.5")

    # when
    lifted = lockout_lift(username="cyd")
    status, _ = _login(door, "cyd", "password123", ip="10.5.5.5")

    # then
    assert locked == 429
    assert lifted == LIMIT + 1  # the refused right password counts too
    assert status == _ok(door)


def test_api_lockout_is_json_with_retry_after() -> None:
    # given
    UserFactory(username="dan")
    for _ in range(LIMIT - 1):
        _login("api", "dan", "wrong")

    # when
    response = Client(REMOTE_ADDR="10.9.9.9").post(DOORS["api"], {"username": "dan", "password": "wrong"})

    # then
    assert response.status_code == 429
    assert response.json() == {"detail": LOCKOUT_MESSAGE.format(minutes=15), "code": "locked_out"}
    assert response["Retry-After"] == "900"


def test_owner_lifts_a_lockout_from_the_members_page(
    project: Project, member_factory: Callable[..., Membership], client_for: Callable[..., Client]
) -> None:
    # given
    owner = member_factory(project, Role.OWNER).user
    analyst = member_factory(project, Role.ANALYST, username="eve").user
    for n in range(LIMIT):
        _login("web", "eve", "wrong", ip=f"10.6.6.{n + 1}")

    # when
    client_for(owner).post(f"/projects/{project.slug}/members/{analyst.pk}/lift-lockout/")
    status, _ = _login("web", "eve", "password123", ip="10.7.7.7")

    # then
    assert status == 302


def test_tokens_never_reach_the_logs(caplog: pytest.LogCaptureFixture, project: Project) -> None:
    # given
    UserFactory(username="fay")
    caplog.set_level(logging.DEBUG)

    # when: obtain, use, fail with, revoke and reuse a token, and a 404 with it
    obtained = Client().post(DOORS["api"], {"username": "fay", "password": "password123"}).json()["token"]
    client = Client(HTTP_AUTHORIZATION=f"Token {obtained}")
    client.get("/api/projects/")
    client.get("/api/projects/no-such-project/")
    issued = api_token_create(user=UserFactory()).key
    Client(HTTP_AUTHORIZATION=f"Token {issued}x").get("/api/projects/")
    token_id = ApiToken.objects.get(user__username="fay").pk
    client.delete(f"/api/auth/tokens/{token_id}/")
    client.get("/api/projects/")

    # then
    logged = caplog.text + "".join(str(r.__dict__) for r in caplog.records)
    assert "Not Found" in logged or "Unauthorized" in logged  # the requests were logged
    assert obtained not in logged
    assert issued not in logged
    assert not ApiToken.objects.filter(digest__in=[obtained, issued]).exists()


# --- check --deploy ----------------------------------------------------------------------------------------
def _check_deploy(**env: str) -> subprocess.CompletedProcess[str]:
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OVERSIGHT_", "DJANGO_")) and k != "SECRET_KEY"
    }
    environ.update({
        "DJANGO_SETTINGS_MODULE": "config.settings.base", "SECRET_KEY": "k" * 20 + "-Zx8%q2!pV7#rT4@mW9&yB3^" * 3,
        "ALLOWED_HOSTS": "oversight.example.org", "OVERSIGHT_VAR_DIR": env.pop("VAR_DIR"), **env,
    })  # fmt: skip
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_check_deploy_is_clean_with_https_declared(tmp_path: Path) -> None:
    # when
    result = _check_deploy(VAR_DIR=str(tmp_path), OVERSIGHT_HTTPS="1")

    # then
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_warns_without_https(tmp_path: Path) -> None:
    # when
    result = _check_deploy(VAR_DIR=str(tmp_path))

    # then
    assert result.returncode == 1
    assert {code for code in ("W004", "W008", "W012", "W016") if f"security.{code}" in result.stderr} == {
        "W004", "W008", "W012", "W016",
    }  # fmt: skip


def test_https_settings_follow_the_environment(tmp_path: Path) -> None:
    # when
    code = (
        "from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, s.SECURE_PROXY_SSL_HEADER)"
    )
    environ = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.base", "SECRET_KEY": "x" * 60,
               "OVERSIGHT_VAR_DIR": str(tmp_path), "OVERSIGHT_HTTPS": "1", "OVERSIGHT_HSTS_SECONDS": "600",
               "OVERSIGHT_SECURE_SSL_REDIRECT": "0", "OVERSIGHT_TRUST_X_FORWARDED_PROTO": "1"}  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    # then
    assert result.stdout.strip() == "False True True 600 ('HTTP_X_FORWARDED_PROTO', 'https')", result.stderr


# --- Content-Security-Policy on every page --------------------------------------------------------------------
EXPECTED_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# Third-party pages whose bundles write styles at run time (Redoc) or carry them (DRF's browsable API): they
# may use inline styles, never inline scripts.
RELAXED_STYLES = {"/api/redoc/"}
INLINE_CODE = [
    re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I),  # inline script
    re.compile(r"<style\b", re.I),
    re.compile(r"\sstyle=", re.I),
    re.compile(r"\son[a-z]+=", re.I),  # onclick= and the like
    re.compile(r"javascript:", re.I),
]


def _page_urls(slug: str, item_id: int) -> list[str]:
    """Every GET page of the site whose URL needs at most a project slug and an item id."""
    urls: list[str] = []

    def walk(patterns: list[URLPattern | URLResolver], prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
                continue
            route = route.replace("<slug:slug>", slug).replace("<int:item_id>", str(item_id))
            if "<" in route or "(?P" in route or route.startswith(("api/", "admin/", "static", "media")):
                continue
            urls.append("/" + route.lstrip("^").rstrip("$"))

    walk(get_resolver().url_patterns, "")
    return [*sorted(set(urls)), "/admin/", "/admin/login/", "/api/docs/", "/api/redoc/", "/api/projects/"]


def test_every_page_has_the_policy_and_no_inline_code(
    project: Project, member_factory: Callable[..., Membership]
) -> None:
    # given
    owner = member_factory(project, Role.OWNER).user
    owner.is_staff = owner.is_superuser = True
    owner.save()
    item = ItemFactory(project=project)
    client = Client()
    client.force_login(owner)

    # when
    pages = {url: client.get(url) for url in _page_urls(project.slug, item.pk)}

    # then
    answered = {url: r.status_code for url, r in pages.items()}
    assert len(pages) > 30
    assert all(status < 500 for status in answered.values()), answered
    for url, response in pages.items():
        expected = EXPECTED_CSP
        if url in RELAXED_STYLES:
            expected = (
                expected.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
                + "; worker-src 'self' blob:"
            )
        policy = sorted(part.strip() for part in response.get("Content-Security-Policy", "").split(";"))
        assert policy == sorted(part.strip() for part in expected.split(";")), url
        if response.get("Content-Type", "").startswith("text/html") and url not in {
            "/api/docs/",
            "/api/redoc/",
        }:
            html = response.content.decode()
            found = [p.pattern for p in INLINE_CODE if p.search(html)]
            assert found == [], (url, found)

"""Every page under the Content-Security-Policy in a real browser: no violation reported, the scripts run
(bars get their widths, htmx swaps), and a new member joins through the set-password link."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import ConsoleMessage, Page

from projects.choices import ProjectKind, Role
from projects.models import Membership
from tests.labeling.factories import AnnotationFactory
from tests.projects.factories import ItemFactory, ProjectFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = [
    "/projects/", "/projects/{slug}/", "/projects/{slug}/items/", "/projects/{slug}/items/{item}/",
    "/projects/{slug}/label/", "/projects/{slug}/review/", "/projects/{slug}/members/", "/projects/{slug}/imports/",
    "/projects/{slug}/settings/", "/projects/{slug}/dashboard/", "/projects/{slug}/gold/",
    "/projects/{slug}/feedback/", "/accounts/me/", "/accounts/me/password/", "/accounts/lockouts/", "/admin/",
    "/admin/auth/user/", "/api/docs/", "/api/redoc/", "/api/projects/",
]  # fmt: skip


REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


def _watch(page: Page) -> list[str]:
    """Collects every CSP violation the page reports, from the console and from the DOM event."""
    violations: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            violations.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => console.error("
        "'Refused to (event) ' + e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile + ':' + e.lineNumber))"
    )
    return violations


def test_every_page_runs_under_the_policy(
    member_factory: Callable[..., Membership],
    logged_in_page: Callable[[Membership], Page],
    live_server: object,
) -> None:
    # given an owner who is also staff, a project with an answered item
    project = ProjectFactory()
    items = ItemFactory.create_batch(3, project=project)
    owner = member_factory(project, Role.OWNER)
    owner.user.is_staff = owner.user.is_superuser = True
    owner.user.save()
    AnnotationFactory(item=items[0], annotator=owner.user)
    page = logged_in_page(owner)
    violations = _watch(page)
    base = live_server.url  # type: ignore[attr-defined]

    # when
    for path in PAGES:
        page.goto(base + path.format(slug=project.slug, item=items[0].pk))
        page.wait_for_load_state("networkidle")
    # a span project's pages, where spans are coloured by their type (through the CSSOM, never style="")
    spans = ProjectFactory(kind=ProjectKind.SPANS, labels=["per", "loc"])
    Membership.objects.create(project=spans, user=owner.user, role=Role.OWNER)
    marked = ItemFactory(project=spans, text="Ada Lovelace lives in London")
    ItemFactory(project=spans, text="Paris")
    AnnotationFactory(
        item=marked, labels=["per"], spans=[{"start": 0, "end": 12, "label": "per", "text": "Ada Lovelace"}]
    )
    for path in (
        "/projects/{slug}/label/",
        f"/projects/{{slug}}/review/items/{marked.pk}/",
        "/projects/{slug}/settings/",
    ):
        page.goto(base + path.format(slug=spans.slug))
        page.wait_for_load_state("networkidle")
    colour = page.goto(f"{base}/projects/{spans.slug}/review/items/{marked.pk}/") and page.eval_on_selector(
        "mark.in-span", "el => el.style.backgroundColor"
    )
    page.goto(f"{base}/api/docs/")
    page.wait_for_selector(".swagger-ui .information-container")
    page.goto(f"{base}/projects/{project.slug}/")
    width = page.eval_on_selector(".progress-bar", "el => el.style.width")

    # then
    # Redoc's sidebar shows its maker's logo from their CDN: refused, as the site loads nothing from elsewhere.
    assert [v for v in violations if REDOC_LOGO not in v] == []
    assert width.endswith("%")
    assert colour.startswith("rgba(")


def test_a_new_member_joins_through_the_set_password_link(
    member_factory: Callable[..., Membership],
    logged_in_page: Callable[[Membership], Page],
    live_server: object,
) -> None:
    # given an owner on the members page
    project = ProjectFactory()
    owner = member_factory(project, Role.OWNER)
    page = logged_in_page(owner)
    violations = _watch(page)
    page.goto(f"{live_server.url}/projects/{project.slug}/members/")  # type: ignore[attr-defined]

    # when: she creates an account (htmx swaps the link in), and the newcomer opens it in another browser
    page.fill("input[name=account-username]", "newcomer")
    page.select_option("select[name=account-role]", Role.ANALYST)
    page.click("text=Create account")
    link = page.inner_text("#set-password-link code")
    newcomer = page.context.browser.new_context().new_page()  # type: ignore[union-attr]
    newcomer.goto(link)
    newcomer.fill("input[name=new_password1]", "violet-Harbour-93")
    newcomer.fill("input[name=new_password2]", "violet-Harbour-93")
    newcomer.click("button[type=submit]")
    newcomer.wait_for_selector("text=Your password is set")
    newcomer.fill("input[name=username]", "newcomer")
    newcomer.fill("input[name=password]", "violet-Harbour-93")
    newcomer.keyboard.press("Enter")
    newcomer.wait_for_url(lambda url: "/accounts/login/" not in url)

    # then
    assert violations == []
    assert Membership.objects.get(user__username="newcomer").role == Role.ANALYST
    assert newcomer.url.endswith("/projects/")

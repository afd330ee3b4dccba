"""The dashboard on the web: its blueprints found and registered, the `dashboard` blueprint, `?area=`, the navigation.

Each page's routes sit beside what the page reads and does: `inbox_routes.py` beside
`inbox.py`, `composer_routes.py` beside `composer.py`, and so on. A module named `*_routes.py`
holds Flask routes, which parse the request, call the module beside them (or the domain) and
render: they run no SQL of their own (`tests/test_registries.py` reads them for statements).
Every other module of this package knows nothing of Flask.

`init_dashboard` imports every `*_routes.py` module of this package (found, not listed) and
registers the blueprints they add routes to. The overview, inbox, moderation, subscribers and
exchange pages share this module's `dashboard` blueprint (`/dashboard/…`); sign-in (`auth`),
the composer (`compose`) and Administration (`admin`) have their own. Every one of them is made
with `signin_routes.signed_in_only`, except sign-in itself.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from flask import Blueprint, Flask, abort, g, request

from sms_board import dashboard
from sms_board.dashboard.scope import AreaRef, Viewer
from sms_board.dashboard.signin_routes import signed_in_only
from sms_board.text.phrases import phrase

ROUTE_MODULE_SUFFIX = "_routes"

bp = signed_in_only(Blueprint("dashboard", __name__, url_prefix="/dashboard"))


def page_scope(person: Viewer) -> tuple[AreaRef | None, list[int]]:
    """The one area chosen with `?area=`, or all of the viewer's areas."""
    slug = request.args.get("area")
    if not slug:
        return None, person.area_ids
    area = person.area(slug)
    if area is None:
        abort(404)
    return area, [area.id]


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str
    admin_only: bool = False


# The dashboard's navigation, in order (docs/dashboard.md). Subscriber import and export are
# buttons on the Subscribers page; invite codes are on Administration.
NAVIGATION = (
    NavItem("dashboard.overview", phrase("Overview")),
    NavItem("dashboard.inbox", phrase("Inbox")),
    NavItem("dashboard.moderation", phrase("Moderation")),
    NavItem("compose.composer", phrase("Broadcast")),
    NavItem("dashboard.subscribers", phrase("Subscribers")),
    NavItem("dashboard.exchange", phrase("Help exchange")),
    NavItem("dashboard.reports", phrase("Reports")),
    NavItem("admin.index", phrase("Administration"), admin_only=True),
    NavItem("admin.audit", phrase("Audit log"), admin_only=True),
)


def route_modules() -> list[ModuleType]:
    """Every `*_routes.py` module of the dashboard, imported (which adds its routes to its blueprint)."""
    names = sorted(
        found.name for found in pkgutil.iter_modules(dashboard.__path__) if found.name.endswith(ROUTE_MODULE_SUFFIX)
    )
    return [importlib.import_module(f"{dashboard.__name__}.{name}") for name in names]


def init_dashboard(app: Flask) -> None:
    # Several modules add routes to one blueprint (`dashboard`): it is registered once. Two
    # blueprints of one name are Flask's to refuse.
    blueprints: list[Blueprint] = []
    for module in route_modules():
        found = getattr(module, "bp", None)
        if isinstance(found, Blueprint) and found not in blueprints:
            blueprints.append(found)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)

    @app.context_processor
    def _signed_in() -> dict[str, Any]:
        """Who is signed in, and what the navigation offers them (nothing on a page nobody signed in to)."""
        person = g.get("viewer")
        return {
            "viewer": person,
            "inbox_open": g.get("inbox_open", 0),
            "navigation": [item for item in NAVIGATION if person and (person.is_admin or not item.admin_only)],
        }

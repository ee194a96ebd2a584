"""The facility dashboard page; its data and actions are the API's (/api/kiosks)."""

from __future__ import annotations

from flask import Blueprint, render_template, url_for
from flask_babel import gettext as _

from ..accounts.views import staff_page
from ..auth import current_principal

bp = Blueprint("ops", __name__, url_prefix="/ops")

FACILITY_ROLES = ("facility", "supervisor")


def texts() -> dict[str, str]:
    """The words the page's script writes, in the signed-in member's language."""
    return {
        "in_service": _("In service"),
        "out_of_service": _("Out of service"),
        "seconds_ago": _("%(n)s s ago", n="{n}"),
        "take_out": _("Take out of service"),
        "put_back": _("Back in service"),
        "reload": _("Reload screen"),
        "restart_browser": _("Restart browser"),
        "restart_app": _("Restart app"),
        "message": _("Message on the kiosk"),
        "none": _("none"),
        "last_at": _("last at %(time)s", time="{time}"),
    }


@bp.get("/")
@staff_page(*FACILITY_ROLES)
def index():
    return render_template(
        "ops/index.html",
        principal=current_principal(),
        texts=texts(),
        kiosks_url=url_for("api.kiosks_list"),
    )

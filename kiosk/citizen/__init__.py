"""The citizen's touch screens: language, visit, identify, check, ticket.

The flow keeps only what it must in the (signed) session: language, visit, a typed national
number for someone whose card was lost, the issued ticket's id. The card's data stays in
the reader service and is read again at each step, so pulling the card ends the flow.
Every way out (idle, card pulled, ticket shown) goes through `reset`, which forgets it all.
"""
from flask import Blueprint

bp = Blueprint("citizen", __name__, url_prefix="/kiosk")

from . import views  # noqa: E402,F401  (registers the views)

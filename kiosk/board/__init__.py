"""The hall display board: latest call large, previous calls, waiting per service, chime and
spoken call. Public screen: numbers and counters only, never a name or national number."""
from flask import Blueprint

bp = Blueprint("board", __name__, url_prefix="/board")

from . import views  # noqa: E402,F401  (registers the routes)

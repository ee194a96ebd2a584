"""Staff sign-in: accounts, lockout, the signed-in session and its idle timeout."""
from flask import Blueprint

bp = Blueprint("accounts", __name__)

from . import views  # noqa: E402,F401  (registers the routes)

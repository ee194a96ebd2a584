"""The back office's tests use the desk's staff accounts and signed-in clients, and the
kiosk's simulated reader."""

from tests.citizen.conftest import reader  # noqa: F401 - fixtures
from tests.desk.conftest import client, staff  # noqa: F401

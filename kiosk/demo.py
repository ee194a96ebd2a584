"""Demo data: a few citizens already waiting, so every screen has something to show."""
from .extensions import office

DEMO_WAITING = ["pickup", "activation", "pickup", "pin_reset", "new_codes", "pickup"]


def load_demo_data() -> None:
    queue = office.queue
    if queue.version():  # already has history: leave it
        return
    for service in DEMO_WAITING:
        queue.issue(service, language=office.site.default_language)

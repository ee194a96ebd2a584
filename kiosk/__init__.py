"""Snelbalie kiosk: self-service check-in, queue and counter software.

`kiosk.queue`, `kiosk.site`, `kiosk.schema` and `hardware` import no Flask; the web
application is built by `create_app`.
"""


def create_app(config=None):
    from .app import create_app as factory

    return factory(config)

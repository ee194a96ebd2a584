"""Which reader service the kiosk gets. Kept out of reader_service, the base the services
build on, so that it never imports them."""

import threading
from collections.abc import Sequence

from cryptography import x509

from .pcsc_service import PcscReaderService
from .reader_service import ReaderService
from .simulated_service import SimulatedReaderService

_pcsc_services: dict[str | None, ReaderService] = {}
_pcsc_lock = threading.Lock()


def make_reader_service(
    kind: str, reader_filter: str | None = None, trust_anchors: Sequence[x509.Certificate] = ()
) -> ReaderService:
    """ "simulated": a new simulated reader. "pcsc": the process's one PC/SC service per
    reader filter (the same object on every call, so two app instances in one process never
    race for a reader; it checks cards against the anchors of the latest call); pyscard is
    only imported for this kind."""
    if kind == "simulated":
        return SimulatedReaderService(reader_filter, trust_anchors=trust_anchors)
    if kind == "pcsc":
        with _pcsc_lock:
            if reader_filter not in _pcsc_services:
                _pcsc_services[reader_filter] = PcscReaderService(reader_filter, trust_anchors=trust_anchors)
            service = _pcsc_services[reader_filter]
            service.trust_anchors = tuple(trust_anchors)
            return service
    raise ValueError(f"unknown reader service kind {kind!r} (pcsc or simulated)")

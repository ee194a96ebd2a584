"""Reading a residence card through the real PC/SC path: APDUs and milliseconds.

Starts its own pcscd with vsmartcard's vpcd reader and a virtual card, then reads the card
20 times as the reader service does (connect, transaction, read, parse, check, disconnect),
and times two moments of each read:
- the check screen can show: identity file, address file and card data read and parsed;
- the verdict is complete: then also the certificates' dates, the national register's
  certificate and signatures (verified against the fake register's roots) and the photo.
It also says what reading the two certificates whole would cost instead of their dates.
Needs root (pcscd) and pyscard.

    .venv/bin/python bench/card.py [--reads 20] [--card adult-f-plus]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography import x509  # noqa: E402

from hardware.card.apdu import CardChannel  # noqa: E402
from hardware.card.card_checks import read_certificates  # noqa: E402
from hardware.card.fake_cards import fake_cards  # noqa: E402
from hardware.card.fake_register import fake_register  # noqa: E402
from hardware.card.files import AUTHENTICATION_CERTIFICATE, SIGNING_CERTIFICATE  # noqa: E402
from hardware.card.pcscd import Pcscd, PcscdError, wait_for_reader  # noqa: E402
from hardware.card.reader_service import check_outcome, read_outcome  # noqa: E402
from hardware.card.virtual_card import VirtualCard  # noqa: E402

READER = "Virtual PCD 00 00"
TARGET_APDUS, TARGET_MS = 7, 50  # until the check screen can show
TARGET_VERDICT_MS = 300  # until the verdict is complete


class Counting:
    """The connection, counting every command sent (GET RESPONSE and retries included)."""

    def __init__(self, connection):
        self.connection, self.sent = connection, 0

    def transmit(self, apdu):
        self.sent += 1
        return self.connection.transmit(apdu)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=20)
    parser.add_argument("--card", default="adult-f-plus", choices=sorted(fake_cards()))
    args = parser.parse_args()
    try:
        from smartcard import scard

        from hardware.card.pcsc_service import connect_card
    except ImportError:
        print("card bench skipped: pyscard is not installed", file=sys.stderr)
        return 0

    anchors = x509.load_pem_x509_certificates(fake_register().trust_anchors_pem())
    pcscd = Pcscd()
    try:
        pcscd.start()
    except (PcscdError, OSError) as error:
        print(f"card bench skipped: cannot start pcscd ({error})", file=sys.stderr)
        return 0
    card = VirtualCard(fake_cards()[args.card], port=pcscd.vpcd_port).start()
    _, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    try:
        wait_for_reader(READER, present=True)
        shown_apdus, shown_ms, verdict_apdus, verdict_ms, verdicts = [], [], [], [], set()
        for _ in range(args.reads):
            started = time.perf_counter()
            with connect_card(scard, context, READER) as connection:
                counting = Counting(connection)
                outcome = read_outcome(counting)
                shown_ms.append((time.perf_counter() - started) * 1000)
                shown_apdus.append(counting.sent)
                checks = check_outcome(counting, outcome, anchors)
                verdict_ms.append((time.perf_counter() - started) * 1000)
                verdict_apdus.append(counting.sent)
            verdicts.add((str(checks.authenticity), str(checks.photo)))
        with connect_card(scard, context, READER) as connection:
            dates = Counting(connection)
            read_certificates(CardChannel(dates))
            whole = Counting(connection)
            channel = CardChannel(whole)
            for path in (AUTHENTICATION_CERTIFICATE, SIGNING_CERTIFICATE):
                channel.select(path)
                channel.read_binary()
    finally:
        scard.SCardReleaseContext(context)
        card.stop()
        pcscd.stop()

    shown, verdict = statistics.median(shown_ms), statistics.median(verdict_ms)
    print(f"card read via pcscd + vpcd, virtual card {args.card!r}, {args.reads} reads")
    print(f"  until the check screen can show:  {max(shown_apdus):3d} APDUs  (target <= {TARGET_APDUS})")
    print(f"    median ms, connect + read + parse:      {shown:6.2f}  (target < {TARGET_MS})")
    print(f"    slowest ms:                             {max(shown_ms):6.2f}")
    print(f"  until the verdict is complete:    {max(verdict_apdus):3d} APDUs  (verdict {sorted(verdicts)})")
    print(f"    median ms, connect to verdict:          {verdict:6.2f}  (target < {TARGET_VERDICT_MS})")
    print(f"    slowest ms:                             {max(verdict_ms):6.2f}")
    print(f"  certificates' dates only: {dates.sent} APDUs; both certificates whole: {whole.sent} APDUs")
    ok = max(shown_apdus) <= TARGET_APDUS and shown < TARGET_MS and verdict < TARGET_VERDICT_MS
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

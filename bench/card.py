"""Reading a residence card through the real PC/SC path: APDUs and milliseconds.

Starts its own pcscd with vsmartcard's vpcd reader and a virtual card, then reads
identity file, address file and card data 20 times as the reader service does
(connect, transaction, read, parse, disconnect). Needs root (pcscd) and pyscard.

    .venv/bin/python bench/card.py [--reads 20] [--card adult-f-plus]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hardware.card.apdu import CardChannel  # noqa: E402
from hardware.card.card_reading import read_card_files  # noqa: E402
from hardware.card.fake_cards import fake_cards  # noqa: E402
from hardware.card.pcscd import Pcscd, PcscdError, wait_for_reader  # noqa: E402
from hardware.card.residence_card import parse_residence_card  # noqa: E402
from hardware.card.virtual_card import VirtualCard  # noqa: E402

READER = "Virtual PCD 00 00"
TARGET_APDUS, TARGET_MS = 7, 50


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
        apdus, read_ms, total_ms = [], [], []
        for _ in range(args.reads):
            started = time.perf_counter()
            with connect_card(scard, context, READER) as connection:
                channel = CardChannel(connection)
                read_started = time.perf_counter()
                files = read_card_files(channel)
                read_ms.append((time.perf_counter() - read_started) * 1000)
            parse_residence_card(files.identity, files.address, files.card_data)
            total_ms.append((time.perf_counter() - started) * 1000)
            apdus.append(channel.apdu_count)
    finally:
        scard.SCardReleaseContext(context)
        card.stop()
        pcscd.stop()

    print(f"card read via pcscd + vpcd, virtual card {args.card!r}, {args.reads} reads")
    print(f"  APDUs per read (identity + address + card data): {max(apdus)}  (target <= {TARGET_APDUS})")
    print(f"  median ms, APDUs only:                  {statistics.median(read_ms):6.2f}")
    print(f"  median ms, connect + read + parse:      {statistics.median(total_ms):6.2f}  (target < {TARGET_MS})")
    print(f"  slowest ms, connect + read + parse:     {max(total_ms):6.2f}")
    return 0 if max(apdus) <= TARGET_APDUS and statistics.median(total_ms) < TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())

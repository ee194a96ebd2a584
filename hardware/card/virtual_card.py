"""A virtual eID card for vsmartcard's vpcd reader driver: a real pcscd sees a card.

    python -m hardware.card.virtual_card --card adult-f-plus [--host 127.0.0.1 --port 35963]
        [--trust-anchors-out roots.pem]

vpcd listens; the card connects (= inserted) and closing the socket removes it. Each
message is a 2-byte big-endian length and a payload; a 1-byte payload is a control code,
anything longer a command APDU to answer. In process, `VirtualCard` runs in a thread and
tests can pull it out mid-read with `remove_after_apdus`.
"""

import argparse
import signal
import socket
import sys
import threading

from .eid_applet import EidApplet
from .fake_cards import FakeCard, fake_cards

VPCD_HOST = "127.0.0.1"
VPCD_PORT = 35963  # reader "Virtual PCD 00 00"; 35964 is "Virtual PCD 00 01"
# An applet 1.8 eID card's ATR (T=0).
EID_ATR = bytes.fromhex("3B7F96000080318065B0850300EF120FFF829000")
POWER_OFF, POWER_ON, RESET, GET_ATR = 0, 1, 2, 4
_RECONNECT_INTERVAL = 0.05  # while vpcd is not listening (pcscd stopped)
STOP_TIMEOUT = 5.0  # stop() wakes the thread; its longest wait is a 1 s connection attempt


class VirtualCard:
    def __init__(
        self,
        card: FakeCard,
        host: str = VPCD_HOST,
        port: int = VPCD_PORT,
        remove_after_apdus: int | None = None,
    ):
        self.applet = EidApplet(card)
        self.host, self.port = host, port
        self.remove_after_apdus = remove_after_apdus
        self.apdus_received = 0
        self._lock = threading.Lock()
        self._inserted = False
        self._connected = False
        self._socket: socket.socket | None = None
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def is_connected(self) -> bool:
        with self._lock:
            return self._connected

    @property
    def is_inserted(self) -> bool:
        with self._lock:
            return self._inserted

    def start(self, inserted: bool = True) -> "VirtualCard":
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="virtual-card", daemon=True)
        self._thread.start()
        if inserted:
            self.insert()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self.remove()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(STOP_TIMEOUT)
            if thread.is_alive():
                raise RuntimeError(f"the virtual card's thread did not stop within {STOP_TIMEOUT} s")

    def insert(self) -> None:
        """Connect to vpcd; keeps reconnecting (pcscd restarts) until removed."""
        with self._lock:
            self._inserted = True
            self.apdus_received = 0
        self._wake.set()

    def remove(self) -> None:
        with self._lock:
            self._inserted = False
            if self._socket is not None:
                try:
                    self._socket.shutdown(socket.SHUT_RDWR)  # wakes the blocked recv
                except OSError:
                    pass
        self._wake.set()

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            # Checked after clear(): a stop() that came just before is not slept through.
            if self._stopping.is_set():
                break
            if not self.is_inserted:
                self._wake.wait()  # stop() and insert() set it
                continue
            try:
                sock = socket.create_connection((self.host, self.port), timeout=1)
            except OSError:
                self._stopping.wait(_RECONNECT_INTERVAL)
                continue
            with sock:
                with self._lock:
                    if not self._inserted or self._stopping.is_set():
                        continue
                    self._socket, self._connected = sock, True
                try:
                    self._serve(sock)
                except OSError:
                    pass  # vpcd went away (pcscd stopped) or the card was pulled
                finally:
                    with self._lock:
                        self._socket, self._connected = None, False
                    self.applet.reset()

    def _serve(self, sock: socket.socket) -> None:
        sock.settimeout(None)
        # Without these every APDU waits for a delayed ACK (~40 ms) instead of ~0.1 ms.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        quickack = getattr(socket, "TCP_QUICKACK", None)
        while True:
            if quickack is not None:
                sock.setsockopt(socket.IPPROTO_TCP, quickack, 1)  # Linux clears it again
            header = _receive(sock, 2)
            if header is None:
                return
            payload = _receive(sock, int.from_bytes(header, "big"))
            if payload is None:
                return
            if len(payload) == 1:
                answer = self._control(payload[0])
            else:
                with self._lock:
                    self.apdus_received += 1
                    pulled = self.remove_after_apdus is not None and self.apdus_received > self.remove_after_apdus
                    if pulled:
                        self._inserted = False
                if pulled:
                    return  # the card leaves the reader without answering
                answer = self.applet.respond(payload)
            if answer is not None:
                sock.sendall(len(answer).to_bytes(2, "big") + answer)

    def _control(self, code: int) -> bytes | None:
        if code == GET_ATR:
            return EID_ATR
        if code in (POWER_OFF, POWER_ON, RESET):
            self.applet.reset()
        return None


def _receive(sock: socket.socket, size: int) -> bytes | None:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


def main(argv: list[str] | None = None) -> int:
    cards = fake_cards()
    parser = argparse.ArgumentParser(description="A fake eID card in vsmartcard's vpcd reader.")
    parser.add_argument("--card", choices=sorted(cards), help="which fake card to insert")
    parser.add_argument("--host", default=VPCD_HOST)
    parser.add_argument("--port", type=int, default=VPCD_PORT)
    parser.add_argument("--list", action="store_true", help="list the fake cards and exit")
    parser.add_argument(
        "--trust-anchors-out",
        metavar="PEM",
        help="write the roots of this process's fake register there, for a kiosk's [reader] trust_anchors",
    )
    args = parser.parse_args(argv)
    if args.list or not args.card:
        for card in cards.values():
            print(f"{card.id:20} {card.description}")
        return 0 if args.list else 2
    if args.trust_anchors_out:
        from .fake_register import fake_register

        with open(args.trust_anchors_out, "wb") as out:  # certificates only: no key leaves the process
            out.write(fake_register().trust_anchors_pem())
    done = threading.Event()
    # Before the card is in: a SIGTERM as soon as the card is seen still removes it cleanly.
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    virtual_card = VirtualCard(cards[args.card], args.host, args.port).start()
    print(f"card {args.card} in vpcd at {args.host}:{args.port}; Ctrl-C removes it", flush=True)
    done.wait()  # until a signal: the card stays in for as long as its user wants
    virtual_card.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

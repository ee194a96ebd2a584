"""A loopback TCP proxy that can be cut and restored, or frozen and thawed: the database
'goes away' (or hangs, its connections open but silent) for the app while the real server
keeps running for everyone else."""

import selectors
import socket
import threading


class TcpProxy:
    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._cut = False
        self._flowing = threading.Event()
        self._flowing.set()
        self._stop = False
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def cut(self):
        """Drop every open connection; new ones are closed at once."""
        with self._lock:
            self._cut = True
            for pair in self._pairs:
                for sock in pair:
                    self._close(sock)
            self._pairs.clear()

    def freeze(self):
        """Stop passing data on, closing nothing: to the app the database hangs. The
        kernel still accepts connections and acknowledges what the app sends."""
        self._flowing.clear()

    def thaw(self):
        self._flowing.set()

    def restore(self):
        with self._lock:
            self._cut = False

    def close(self):
        self._stop = True
        self._flowing.set()
        self.cut()
        self._thread.join(timeout=5)
        self._selector.close()
        self._listener.close()

    def _close(self, sock):
        try:
            self._selector.unregister(sock)
        except (KeyError, ValueError):
            pass
        sock.close()

    def _run(self):
        while not self._stop:
            if not self._flowing.wait(0.05):
                continue
            for key, _ in self._selector.select(timeout=0.05):
                with self._lock:
                    if key.fileobj is self._listener:
                        self._accept()
                    else:
                        self._forward(key.fileobj, key.data)

    def _accept(self):
        client, _ = self._listener.accept()
        if self._cut:
            client.close()
            return
        upstream = socket.create_connection(self.target, timeout=3)
        self._pairs.append((client, upstream))
        self._selector.register(client, selectors.EVENT_READ, upstream)
        self._selector.register(upstream, selectors.EVENT_READ, client)

    def _forward(self, source, dest):
        if source.fileno() < 0:
            return
        try:
            data = source.recv(65536)
            if data:
                dest.sendall(data)
                return
        except OSError:
            pass
        self._pairs = [p for p in self._pairs if source not in p]
        self._close(source)
        self._close(dest)

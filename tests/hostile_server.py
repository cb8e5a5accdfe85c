"""A raw TCP server on 127.0.0.1 that answers HTTP requests with whatever bytes a test scripts.

A real HTTP server library cannot send a broken status line, a chunked body cut off mid-chunk,
a thousand headers or one byte a second; this one writes exactly what `answer(send)` sends,
after reading the request's head, then closes the connection.
"""

import contextlib
import socket
import threading
import time
from collections.abc import Callable

Send = Callable[[bytes], None]


class HostileServer:
    """`answer(send)` scripts each response; `url(path)` is where to fetch it; `requests` counts them."""

    def __init__(self, answer: Callable[[Send], None]):
        self.answer = answer
        self.requests = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.closed = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def url(self, path: str = "/feed") -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}{path}"

    def close(self) -> None:
        self.closed.set()
        self.thread.join(timeout=5)
        self.listener.close()

    def _serve(self) -> None:
        while not self.closed.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._handle, args=(connection,), daemon=True).start()

    def _handle(self, connection: socket.socket) -> None:
        with connection:
            head = b""
            while b"\r\n\r\n" not in head:
                part = connection.recv(4096)
                if not part:
                    return
                head += part
            self.requests += 1

            def send(data: bytes) -> None:
                if self.closed.is_set():
                    raise ConnectionAbortedError("the test is over")
                connection.sendall(data)

            with contextlib.suppress(OSError):  # the client hung up, as it should on a hostile answer
                self.answer(send)


def drip(body: bytes, every: float = 1.0) -> Callable[[Send], None]:
    """A 200 whose headers and body arrive one byte every `every` seconds (never silent long enough to time out)."""

    def answer(send: Send) -> None:
        for byte in b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\n\r\n" + body:
            send(bytes([byte]))
            time.sleep(every)

    return answer

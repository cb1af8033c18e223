"""A small client for the Redis serialization protocol (RESP2), written against the standard library.

Only what the sample application needs: send commands, read replies, pipelines (which is how
MULTI/EXEC transactions go over one connection), reconnect after a broken connection.
"""

import contextlib
import socket
import threading


class RespError(Exception):
    """An error reply from the store (a ``-ERR ...`` line)."""


class ProtocolError(Exception):
    """Bytes that are not valid RESP: the connection cannot be trusted any more."""


def _to_bytes(arg):
    if isinstance(arg, bytes):
        return arg
    if isinstance(arg, str):
        return arg.encode("utf-8")
    if isinstance(arg, int) and not isinstance(arg, bool):
        return str(arg).encode("ascii")
    if isinstance(arg, float):
        return repr(arg).encode("ascii")
    raise TypeError(f"cannot send a {type(arg).__name__} to the store: {arg!r}")


def encode_command(*args):
    """Encodes one command as a RESP array of bulk strings."""
    if not args:
        raise ValueError("a command needs at least its name")
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = _to_bytes(arg)
        parts.extend((b"$%d\r\n" % len(data), data, b"\r\n"))
    return b"".join(parts)


def _read_line(stream):
    line = stream.readline()
    if not line:
        raise ConnectionError("the store closed the connection")
    if not line.endswith(b"\r\n"):
        raise ProtocolError(f"reply line not terminated by CRLF: {line[:60]!r}")
    return line[:-2]


def _read_int(text, what):
    try:
        return int(text)
    except ValueError:
        raise ProtocolError(f"invalid {what}: {text[:60]!r}") from None


def read_reply(stream):
    """Reads one reply from a buffered binary stream.

    Simple strings come back as ``str``, integers as ``int``, bulk strings as ``bytes``, nulls as
    ``None``, arrays as ``list``. An error reply is returned (not raised) as a ``RespError`` so that
    a pipeline can read every reply; ``Client.execute`` raises it.
    """
    line = _read_line(stream)
    prefix, rest = line[:1], line[1:]
    if prefix == b"+":
        return rest.decode("utf-8", "replace")
    if prefix == b"-":
        return RespError(rest.decode("utf-8", "replace"))
    if prefix == b":":
        return _read_int(rest, "integer reply")
    if prefix == b"$":
        length = _read_int(rest, "bulk string length")
        if length == -1:
            return None
        if length < 0:
            raise ProtocolError(f"invalid bulk string length {length}")
        data = stream.read(length + 2)
        if len(data) < length + 2:
            raise ConnectionError("the store closed the connection in the middle of a reply")
        if data[-2:] != b"\r\n":
            raise ProtocolError("bulk string not terminated by CRLF")
        return data[:-2]
    if prefix == b"*":
        count = _read_int(rest, "array length")
        if count == -1:
            return None
        if count < 0:
            raise ProtocolError(f"invalid array length {count}")
        return [read_reply(stream) for _index in range(count)]
    raise ProtocolError(f"unknown reply type {prefix!r} in {line[:60]!r}")


class Client:
    """One connection to the store, opened on first use and again after it broke.

    Not thread-safe: give each thread its own client, or use ``ConnectionPool``.
    """

    def __init__(self, host="127.0.0.1", port=6379, timeout=5.0):
        self.host = host
        self.port = int(port)
        self.timeout = timeout
        self._sock = None
        self._stream = None

    def __repr__(self):
        return f"Client({self.host!r}, {self.port})"

    def _connect(self):
        sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock
        self._stream = sock.makefile("rb")

    def close(self):
        """Closes the connection; the next command opens a new one."""
        stream, sock = self._stream, self._sock
        self._stream = self._sock = None
        for item in (stream, sock):
            if item is not None:
                with contextlib.suppress(OSError):
                    item.close()

    def pipeline(self, commands, timeout=None):
        """Sends several commands at once and returns their replies in order (errors included).

        ``timeout`` is the socket timeout for this call, for blocking commands that wait longer than
        the default.
        """
        payload = b"".join(encode_command(*command) for command in commands)
        try:
            if self._sock is None:
                self._connect()
            self._sock.settimeout(self.timeout if timeout is None else timeout)
            self._sock.sendall(payload)
            return [read_reply(self._stream) for _command in commands]
        except (OSError, ProtocolError):
            # A timeout or a broken reply leaves unread bytes behind: never reuse this connection.
            self.close()
            raise

    def execute(self, *args, timeout=None):
        """Sends one command and returns its reply; raises ``RespError`` for an error reply."""
        (reply,) = self.pipeline([args], timeout=timeout)
        if isinstance(reply, RespError):
            raise reply
        return reply


class ConnectionPool:
    """Thread-safe stand-in for a ``Client``: each call borrows an idle connection or opens one."""

    def __init__(self, host="127.0.0.1", port=6379, timeout=5.0, max_idle=8):
        self.host = host
        self.port = int(port)
        self.timeout = timeout
        self.max_idle = max_idle
        self._idle = []
        self._lock = threading.Lock()

    def __repr__(self):
        return f"ConnectionPool({self.host!r}, {self.port})"

    def _borrow(self):
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return Client(self.host, self.port, self.timeout)

    def _give_back(self, client):
        with self._lock:
            if len(self._idle) < self.max_idle:
                self._idle.append(client)
                return
        client.close()

    def pipeline(self, commands, timeout=None):
        client = self._borrow()
        try:
            return client.pipeline(commands, timeout=timeout)
        finally:
            # A client whose connection broke has closed it and reconnects when used again.
            self._give_back(client)

    def execute(self, *args, timeout=None):
        client = self._borrow()
        try:
            return client.execute(*args, timeout=timeout)
        finally:
            self._give_back(client)

    def close(self):
        with self._lock:
            idle, self._idle = self._idle, []
        for client in idle:
            client.close()

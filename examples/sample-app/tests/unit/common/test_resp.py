import io
import socket
import unittest

from common.resp import Client, ConnectionPool, ProtocolError, RespError, encode_command, read_reply


def reply(data):
    return read_reply(io.BytesIO(data))


class EncodeTests(unittest.TestCase):
    def test_command_is_an_array_of_bulk_strings(self):
        self.assertEqual(encode_command("SET", "k", "v"), b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n")

    def test_integers_bytes_and_unicode(self):
        self.assertEqual(encode_command("INCR", 42), b"*2\r\n$4\r\nINCR\r\n$2\r\n42\r\n")
        self.assertEqual(encode_command(b"\x00\r\n"), b"*1\r\n$3\r\n\x00\r\n\r\n")
        # The length counts bytes, not characters.
        self.assertEqual(encode_command("é"), b"*1\r\n$2\r\n\xc3\xa9\r\n")

    def test_rejects_what_it_cannot_send(self):
        for bad in (None, True, [1], {"a": 1}):
            with self.subTest(bad=bad), self.assertRaises(TypeError):
                encode_command("SET", "k", bad)
        with self.assertRaises(ValueError):
            encode_command()


class DecodeTests(unittest.TestCase):
    def test_simple_string_integer_bulk_and_null(self):
        self.assertEqual(reply(b"+PONG\r\n"), "PONG")
        self.assertEqual(reply(b":-7\r\n"), -7)
        self.assertEqual(reply(b"$5\r\nhe\r\no\r\n"), b"he\r\no")
        self.assertEqual(reply(b"$0\r\n\r\n"), b"")
        self.assertIsNone(reply(b"$-1\r\n"))
        self.assertIsNone(reply(b"*-1\r\n"))

    def test_nested_arrays_with_errors_inside(self):
        value = reply(b"*3\r\n:1\r\n*2\r\n$1\r\na\r\n$-1\r\n-WRONGTYPE bad\r\n")
        self.assertEqual(value[:2], [1, [b"a", None]])
        self.assertIsInstance(value[2], RespError)
        self.assertEqual(str(value[2]), "WRONGTYPE bad")

    def test_error_reply_is_returned_not_raised(self):
        value = reply(b"-ERR unknown command\r\n")
        self.assertIsInstance(value, RespError)

    def test_reads_exactly_one_reply(self):
        stream = io.BytesIO(b":1\r\n:2\r\n")
        self.assertEqual([read_reply(stream), read_reply(stream)], [1, 2])

    def test_invalid_replies(self):
        for data in (b"?what\r\n", b":12x\r\n", b"$abc\r\n", b"+no-crlf", b"$3\r\nabcd\r\n", b"*-5\r\n"):
            with self.subTest(data=data), self.assertRaises(ProtocolError):
                reply(data)

    def test_connection_closed(self):
        for data in (b"", b"$10\r\nabc"):
            with self.subTest(data=data), self.assertRaises(ConnectionError):
                reply(data)


class ClientTests(unittest.TestCase):
    """The client over a socketpair: the test plays the store on the other end."""

    def setUp(self):
        self.client = Client("store.invalid", 6379, timeout=2.0)
        ours, self.peer = socket.socketpair()
        self.client._sock, self.client._stream = ours, ours.makefile("rb")
        self.addCleanup(self.peer.close)
        self.addCleanup(self.client.close)

    def sent(self):
        self.peer.settimeout(2.0)
        return self.peer.recv(65536)

    def test_execute_sends_the_command_and_returns_the_reply(self):
        self.peer.sendall(b"+PONG\r\n")
        self.assertEqual(self.client.execute("PING"), "PONG")
        self.assertEqual(self.sent(), b"*1\r\n$4\r\nPING\r\n")

    def test_pipeline_returns_every_reply_in_order(self):
        self.peer.sendall(b"+OK\r\n+QUEUED\r\n-ERR nope\r\n*1\r\n:1\r\n")
        replies = self.client.pipeline([("MULTI",), ("INCR", "n"), ("BAD",), ("EXEC",)])
        self.assertEqual(replies[:2], ["OK", "QUEUED"])
        self.assertIsInstance(replies[2], RespError)
        self.assertEqual(replies[3], [1])

    def test_error_reply_raises_and_keeps_the_connection(self):
        self.peer.sendall(b"-ERR wrong\r\n")
        with self.assertRaisesRegex(RespError, "ERR wrong"):
            self.client.execute("GET", "k")
        self.assertIsNotNone(self.client._sock)

    def test_broken_reply_closes_the_connection(self):
        self.peer.sendall(b"!garbage\r\n")
        with self.assertRaises(ProtocolError):
            self.client.execute("GET", "k")
        self.assertIsNone(self.client._sock)

    def test_closed_by_the_store(self):
        self.peer.close()
        with self.assertRaises(OSError):
            self.client.execute("PING")
        self.assertIsNone(self.client._sock)


class PoolTests(unittest.TestCase):
    def test_keeps_at_most_max_idle_connections(self):
        pool = ConnectionPool("store.invalid", 1, max_idle=1)
        first, second = pool._borrow(), pool._borrow()
        self.assertIsNot(first, second)
        pool._give_back(first)
        pool._give_back(second)
        self.assertEqual(pool._idle, [first])
        self.assertIs(pool._borrow(), first)

"""An in-memory stand-in for the store: the few Redis commands the application uses, same replies."""

from common.resp import RespError


def _text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


class FakeRedis:
    """Speaks like ``resp.Client``: ``execute`` and ``pipeline``, bulk strings back as bytes."""

    def __init__(self):
        self.strings = {}
        self.hashes = {}
        self.lists = {}
        self.ttls = {}
        self.commands = []
        self._queued = None

    def _list(self, key):
        return self.lists.setdefault(key, [])

    def _run(self, name, args):
        if name == "PING":
            return "PONG"
        if name == "INCR":
            value = int(self.strings.get(args[0], b"0")) + 1
            self.strings[args[0]] = str(value).encode()
            return value
        if name == "HSET":
            key, pairs = args[0], args[1:]
            if not pairs or len(pairs) % 2:
                return RespError("ERR wrong number of arguments for 'hset' command")
            table = self.hashes.setdefault(key, {})
            added = 0
            for field, value in zip(pairs[::2], pairs[1::2], strict=True):
                added += _text(field) not in table
                table[_text(field)] = _text(value).encode()
            return added
        if name == "HGET":
            return self.hashes.get(args[0], {}).get(_text(args[1]))
        if name == "HGETALL":
            flat = []
            for field, value in self.hashes.get(args[0], {}).items():
                flat += [field.encode(), value]
            return flat
        if name == "EXPIRE":
            self.ttls[args[0]] = int(args[1])
            return 1 if args[0] in self.hashes else 0
        if name == "LPUSH":
            for value in args[1:]:
                self._list(args[0]).insert(0, _text(value).encode())
            return len(self._list(args[0]))
        if name in ("LMOVE", "BLMOVE"):
            source, destination, where_from, where_to = args[:4]
            items = self._list(source)
            if not items:
                return None
            value = items.pop(0 if where_from == "LEFT" else -1)
            target = self._list(destination)
            if where_to == "LEFT":
                target.insert(0, value)
            else:
                target.append(value)
            return value
        if name == "LREM":
            items, value = self._list(args[0]), _text(args[2]).encode()
            if value in items:
                items.remove(value)
                return 1
            return 0
        return RespError(f"ERR unknown command '{name}'")

    def _one(self, args):
        name, rest = str(args[0]).upper(), list(args[1:])
        self.commands.append((name, *rest))
        if name == "MULTI":
            self._queued = []
            return "OK"
        if name == "EXEC":
            queued, self._queued = self._queued, None
            if queued is None:
                return RespError("ERR EXEC without MULTI")
            return [self._run(n, a) for n, a in queued]
        if self._queued is not None:
            self._queued.append((name, rest))
            return "QUEUED"
        return self._run(name, rest)

    def pipeline(self, commands, timeout=None):
        return [self._one(command) for command in commands]

    def execute(self, *args, timeout=None):
        reply = self._one(args)
        if isinstance(reply, RespError):
            raise reply
        return reply

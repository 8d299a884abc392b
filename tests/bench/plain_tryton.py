#!/usr/bin/env python3
"""The fastest plain client of Tryton for the connector benchmark: N parties created by batches of BATCH per
call, then read back by pages of PAGE (search_read by id), one keep-alive connection, from a script.
  plain_tryton.py URL LOGIN PASSWORD PREFIX N BATCH PAGE
Prints "push <records>/s" and "pull <records>/s"."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "peers", "tryton"))
from trpc import Tryton  # noqa: E402

url, login, password, prefix = sys.argv[1:5]
n, batch, page = (int(v) for v in sys.argv[5:8])
t = Tryton(url, login, password)

started = time.perf_counter()
for at in range(0, n, batch):
    t.call("model.party.party.create",
           [{"code": "%s%06d" % (prefix, i), "name": "Bench Customer %d" % i} for i in range(at, min(n, at + batch))], t.ctx)
push = time.perf_counter() - started

started, after, got = time.perf_counter(), 0, 0
while True:
    rows = t.call("model.party.party.search_read", [["code", "like", prefix + "%"], ["id", ">", after]], 0, page,
                  [["id", "ASC"]], ["id", "code", "name", "write_date", "create_date"], t.ctx)
    got += len(rows)
    if len(rows) < page:
        break
    after = rows[-1]["id"]
pull = time.perf_counter() - started
assert got == n, "read back %d of %d" % (got, n)
print("push %d" % (n / push))
print("pull %d" % (n / pull))

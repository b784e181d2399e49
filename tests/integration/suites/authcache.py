# SPDX-License-Identifier: GPL-2.0-or-later
"""The authentication cache in front of the mysql driver, against a real
MariaDB server: logins while the database is down, password changes, and
the rate of a login storm with and without the cache."""

import signal
import socket
import time

from harness import check
from harness.runner import test
from suites.auth_mysql import VMAIL_USERS, Setup, attempt, pop_stat, sql_quote, user

CACHE = {"authcache-enable": "yes"}


def login_ok(srv, name, password):
    with srv.connect() as c:
        c.login(name, password)
        c.ok("QUIT")


def cached_logins(srv):
    return len([l for l in srv.log_text().splitlines() if "(cached)" in l])


def db_connections(db):
    """Connections the server has accepted since it started, not counting
    the one that asks."""
    out = db.sql("SHOW GLOBAL STATUS LIKE 'Connections'").split()
    return int(out[1]) - 1


def plain_server(ctx, s, extra=None):
    """A second daemon on the same database and mailboxes as S's."""
    conf = dict(s.srv.config)
    conf.pop("listen-address", None)
    conf.pop("mailbox", None)
    for k in ("authcache-enable", "authcache-entry-lifetime", "authcache-use-client-host"):
        conf.pop(k, None)
    conf.update(extra or {})
    return ctx.server(conf)


@test(timeout=300)
def database_down(ctx):
    """Users who logged in within the lifetime still get in while the
    database is down; wrong passwords and everyone else do not. Without
    the cache nobody does."""
    s = Setup(ctx, config=CACHE)
    plain = plain_server(ctx, s)
    alice, alice_pw = user("alice"), VMAIL_USERS["alice"][0]
    dave, dave_pw = user("dave"), VMAIL_USERS["dave"][0]

    login_ok(s.srv, alice, alice_pw)
    login_ok(s.srv, dave, dave_pw)
    check.eq(cached_logins(s.srv), 0, "logins served from the cache at first")
    login_ok(plain, alice, alice_pw)

    s.db.kill()
    with s.srv.connect() as c:
        c.login(alice, alice_pw)
        check.eq(pop_stat(c), s.stat_of("alice"), "STAT of alice from a cached login")
        c.ok("QUIT")
    check.true(s.srv.wait_log(r"login: user=alice@example\.com driver=mysql \(cached\) "
                              r"client=127\.0\.0\.1"),
               "no log line for the cached login")
    login_ok(s.srv, dave, dave_pw)
    check.eq(cached_logins(s.srv), 2, "logins served from the cache")
    # A wrong password goes to the database, which is down.
    for a in (attempt(s.srv, alice, "Wrong-pw"), attempt(s.srv, alice, alice_pw + "x"),
              attempt(s.srv, user("bob"), VMAIL_USERS["bob"][0])):
        check.startswith(a, b"-ERR [SYS/TEMP]", "login the cache cannot answer")
    # The right password still works after the wrong ones.
    login_ok(s.srv, alice, alice_pw)
    check.startswith(attempt(plain, alice, alice_pw), b"-ERR [SYS/TEMP]",
                     "login without the cache while the database is down")

    # A reload starts with an empty cache.
    off = len(s.srv.log_text())
    s.srv.signal(signal.SIGHUP)
    check.true(s.srv.wait_log(r"configuration reloaded", start=off), "no reload")
    check.startswith(attempt(s.srv, alice, alice_pw), b"-ERR [SYS/TEMP]",
                     "cached login after a reload")
    s.db.start()
    login_ok(s.srv, alice, alice_pw)
    s.no_secrets_logged()


@test(timeout=300)
def password_change(ctx):
    """After a password change the old one works only until its entry
    expires (2 s here), counted from the database's yes, not from the last
    use; the new one works at once."""
    s = Setup(ctx, config=dict(CACHE, **{"authcache-entry-lifetime": "2"}))
    alice, old = user("alice"), VMAIL_USERS["alice"][0]
    new = "Alice-new-pw-2"

    t0 = time.monotonic()
    login_ok(s.srv, alice, old)
    s.db.sql("UPDATE popbox SET password_hash = %s WHERE local_part = 'alice'"
             % sql_quote("{plaintext}" + new), "vmail")
    login_ok(s.srv, alice, old)
    time.sleep(1.0)
    login_ok(s.srv, alice, old)
    check.true(time.monotonic() - t0 < 1.9, "the test machine is too slow for a 2 s lifetime")
    check.eq(cached_logins(s.srv), 2, "logins with the old password from the cache")
    time.sleep(max(0.0, t0 + 2.3 - time.monotonic()))
    check.startswith(attempt(s.srv, alice, old), b"-ERR [AUTH]",
                     "the old password after its entry expired")
    login_ok(s.srv, alice, new)
    login_ok(s.srv, alice, new)
    check.eq(cached_logins(s.srv), 3, "logins from the cache after the change")
    # A new password replaces the entry at once: a second change is seen
    # with no wait for the old password's entry.
    s.db.sql("UPDATE popbox SET password_hash = %s WHERE local_part = 'alice'"
             % sql_quote("{plaintext}" + old), "vmail")
    login_ok(s.srv, alice, old)
    check.startswith(attempt(s.srv, alice, new), b"-ERR [AUTH]",
                     "the replaced password after a login with the current one")


@test(timeout=300)
def client_host_keying(ctx):
    """With authcache-use-client-host, an entry serves only its address."""
    s = Setup(ctx, config=dict(CACHE, **{"authcache-use-client-host": "yes"}))
    alice, pw = user("alice"), VMAIL_USERS["alice"][0]
    login_ok(s.srv, alice, pw)
    s.db.kill()
    login_ok(s.srv, alice, pw)
    # The same listener, reached from another loopback address.
    sock = socket.create_connection(("127.0.0.1", s.srv.port), timeout=10,
                                    source_address=("127.0.0.2", 0))
    try:
        f = sock.makefile("rb")
        check.startswith(f.readline(), b"+OK", "greeting from 127.0.0.2")
        sock.sendall(("USER %s\r\n" % alice).encode())
        check.startswith(f.readline(), b"+OK", "USER")
        sock.sendall(("PASS %s\r\n" % pw).encode())
        check.startswith(f.readline(), b"-ERR [SYS/TEMP]", "login from another address")
    finally:
        sock.close()


def storm(srv, n, name, password):
    t0 = time.monotonic()
    for _ in range(n):
        with srv.connect() as c:
            c.login(name, password)
            c.ok("STAT")
            c.ok("QUIT")
    return n / (time.monotonic() - t0)


@test(timeout=600)
def login_storm(ctx):
    """300 sequential sessions of one user, without and with the cache: with
    a fresh entry the database is not asked at all. The rates are printed,
    not checked: they depend on the machine's load."""
    n = 300
    s = Setup(ctx, config=CACHE)
    plain = plain_server(ctx, s)
    alice, pw = user("alice"), VMAIL_USERS["alice"][0]
    storm(plain, 10, alice, pw)             # warm up both daemons and the database
    storm(s.srv, 1, alice, pw)

    before = db_connections(s.db)
    rate_plain = storm(plain, n, alice, pw)
    used_plain = db_connections(s.db) - before - 1
    before = db_connections(s.db)
    rate_cache = storm(s.srv, n, alice, pw)
    used_cache = db_connections(s.db) - before - 1

    print("     login storm, %d sessions of USER/PASS/STAT/QUIT against MariaDB: "
          "%.0f sessions/s without the cache (%d database connections), "
          "%.0f sessions/s with it (%d)"
          % (n, rate_plain, used_plain, rate_cache, used_cache), flush=True)
    check.eq(used_plain, n, "database connections without the cache")
    check.eq(used_cache, 0, "database connections with the cache (entry already fresh)")
    check.eq(cached_logins(s.srv), n, "logins served from the cache")
    s.no_secrets_logged()


# SPDX-License-Identifier: GPL-2.0-or-later
"""The gdbm driver: GNU dbm files made by gdbmtool and by Python's dbm.gnu,
one file or one per domain, opened per login or kept open across logins."""

import base64
import hashlib
import os
import re
import shutil
import signal
import subprocess
import time

from harness import check, mbox
from harness.runner import test
from harness.server import owner_ids, password_of

GDBMTOOL = shutil.which("gdbmtool") or "/usr/bin/gdbmtool"
# The system's Python, which has the dbm.gnu module when python3-gdbm is
# installed (the one running the tests may be another build).
SYSTEM_PYTHON = "/usr/bin/python3"

MAIL_USER, MAIL_GROUP = "nobody", "nogroup"

# user -> (password, stored value, stored with its trailing NUL)
USERS = {
    "guser1": ("Gdbm-secret-1", "{plaintext}Gdbm-secret-1", True),
    "guser2": ("Gdbm-secret-2",
               # SHA-512 crypt of Gdbm-secret-2, no scheme prefix.
               None, True),
    "guser3": ("Gdbm-secret-3",
               "{sha256}" + hashlib.sha256(b"Gdbm-secret-3").hexdigest(), False),
}
PASSWORDS = [p for p, _, _ in USERS.values()] + ["Gdbm-new-secret", "Dom-secret-a",
                                                 "Dom-secret-b", "Py-secret-1"]


def crypt_sha512(password, salt):
    """A SHA-512 crypt(3) hash, made by the system's tools."""
    r = subprocess.run(["openssl", "passwd", "-6", "-salt", salt, password],
                       capture_output=True, check=True)
    return r.stdout.decode().strip()


def stored(user):
    pw, value, _ = USERS[user]
    return value if value is not None else crypt_sha512(pw, "tp3gdbm2salt")


def gdbm_quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def make_gdbm(path, entries):
    """Write the GDBM file PATH with gdbmtool; ENTRIES is a list of (key,
    value, with_nul). Built aside and renamed into place, as an
    administrator replaces a live file."""
    tmp = path + ".new"
    if os.path.exists(tmp):
        os.unlink(tmp)
    lines = []
    for key, value, nul in entries:
        lines.append("define content %s" % ("stringz" if nul else "string"))
        lines.append("store %s %s" % (gdbm_quote(key), gdbm_quote(value)))
    r = subprocess.run([GDBMTOOL, tmp], input="\n".join(lines).encode() + b"\n",
                       capture_output=True, timeout=20)
    check.true(r.returncode == 0 and os.path.exists(tmp),
               "gdbmtool failed: %s" % (r.stdout + r.stderr).decode("latin-1")[:500])
    os.chmod(tmp, 0o600)
    os.rename(tmp, path)


def have_dbm_gnu():
    try:
        r = subprocess.run([SYSTEM_PYTHON, "-c", "import dbm.gnu"],
                           capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return r.returncode == 0


def standard_file(dirpath):
    path = os.path.join(dirpath, "users.gdbm")
    make_gdbm(path, [(u, stored(u), USERS[u][2]) for u in USERS])
    return path


def gdbm_server(ctx, path, extra=None, start=True):
    config = {
        "auth-flatfile-enable": "no",
        "auth-gdbm-enable": "yes",
        "auth-gdbm-passwd-file": path,
        "auth-gdbm-mail-user": MAIL_USER,
        "auth-gdbm-mail-group": MAIL_GROUP,
    }
    config.update(extra or {})
    srv = ctx.server(config, start=start)
    owner = owner_ids(MAIL_USER, MAIL_GROUP)
    for user in list(USERS) + ["alice@example.org", "alice@example.net", "pyuser1",
                               "pyuser2"]:
        srv.put_mbox(user, mbox.small(), owner=owner)
    return srv


def attempt(srv, user, password):
    """The reply to PASS in a fresh connection; QUIT after a success."""
    with srv.connect() as c:
        c.ok("USER " + user)
        r = c.reply("PASS " + password)
        if r.startswith(b"+OK"):
            c.ok("STAT")
            c.ok("QUIT")
        return r


def login_ok(srv, user, password, what):
    r = attempt(srv, user, password)
    check.startswith(r, b"+OK", what)


def no_passwords_logged(srv):
    text = srv.log_text()
    for p in PASSWORDS:
        check.true(p not in text, "a password appears in the daemon log")


@test
def pass_right_wrong_unknown(ctx):
    path = standard_file(ctx.tmpdir("db"))
    srv = gdbm_server(ctx, path)
    msgs = srv.messages("guser1")
    with srv.login("guser1", "Gdbm-secret-1") as c:
        check.eq(c.ok("STAT").split()[1:3],
                 [b"%d" % len(msgs), b"%d" % sum(m.size for m in msgs)], "STAT of guser1")
        check.eq(c.ok_body("RETR 1"), msgs[0].served, "RETR 1 of guser1")
        c.ok("QUIT")
    login_ok(srv, "guser2", "Gdbm-secret-2", "crypt(3) value without a scheme prefix")
    login_ok(srv, "guser3", "Gdbm-secret-3", "value stored without its trailing NUL")
    mark = len(srv.log_text())
    check.startswith(attempt(srv, "guser1", "Gdbm-secret-2"), b"-ERR [AUTH]",
                     "wrong password")
    check.true(srv.wait_log(r"login failed: user=guser1 driver=gdbm[^\n]*wrong password",
                            5, start=mark), "no log line for the wrong password:\n"
               + srv.log_tail())
    check.startswith(attempt(srv, "nosuchuser", "Gdbm-secret-1"), b"-ERR [AUTH]",
                     "unknown user")
    check.true(srv.wait_log(r"user=nosuchuser driver=gdbm[^\n]*no such user", 5, start=mark),
               "no log line for the unknown user:\n" + srv.log_tail())
    no_passwords_logged(srv)


@test
def apop_with_plaintext_value(ctx):
    path = standard_file(ctx.tmpdir("db"))
    srv = gdbm_server(ctx, path)
    with srv.connect() as c:
        check.true(c.timestamp, "no APOP timestamp with the gdbm driver: %r" % c.greeting)
        check.startswith(c.apop("guser1", "Gdbm-secret-1"), b"+OK", "APOP for a {plaintext} value")
        c.ok("STAT")
        c.ok("QUIT")
    with srv.connect() as c:
        check.startswith(c.apop("guser1", "wrong"), b"-ERR [AUTH]", "APOP with a wrong secret")
    with srv.connect() as c:
        check.startswith(c.apop("guser2", "Gdbm-secret-2"), b"-ERR [AUTH]",
                         "APOP for a hashed value")
    check.true(srv.wait_log(r"user=guser2 driver=gdbm[^\n]*no plaintext password", 5),
               "no reason logged for APOP against a hash:\n" + srv.log_tail())


@test
def one_file_per_domain(ctx):
    d = ctx.tmpdir("db")
    make_gdbm(os.path.join(d, "example.org.gdbm"),
              [("alice", "{plaintext}Dom-secret-a", True)])
    make_gdbm(os.path.join(d, "example.net.gdbm"),
              [("alice", "{SHA}" + base64.b64encode(
                  hashlib.sha1(b"Dom-secret-b").digest()).decode(), True)])
    srv = gdbm_server(ctx, os.path.join(d, "$(domain).gdbm"))
    login_ok(srv, "alice@example.org", "Dom-secret-a", "alice in example.org's file")
    login_ok(srv, "alice@example.net", "Dom-secret-b", "alice in example.net's file")
    check.startswith(attempt(srv, "alice@example.org", "Dom-secret-b"), b"-ERR [AUTH]",
                     "example.net's password for alice@example.org")
    mark = len(srv.log_text())
    check.startswith(attempt(srv, "alice@example.com", "Dom-secret-a"), b"-ERR [AUTH]",
                     "a domain without a file")
    check.true(srv.wait_log(r"driver=gdbm[^\n]*no password file", 5, start=mark),
               "missing domain file not logged as such:\n" + srv.log_tail())
    with srv.connect() as c:
        check.startswith(c.apop("alice@example.org", "Dom-secret-a"), b"+OK",
                         "APOP with a per-domain file")
        c.ok("QUIT")
    no_passwords_logged(srv)


def dbm_gnu_file(ctx):
    path = os.path.join(ctx.tmpdir("db"), "py.gdbm")
    entries = [(b"pyuser1", b"{plaintext}Py-secret-1\0"),
               (b"pyuser2", b"{plaintext}Py-secret-1")]
    code = ("import dbm.gnu, sys\n"
            "d = dbm.gnu.open(sys.argv[1], 'n', 0o600)\n"
            "for k, v in %r:\n"
            "    d[k] = v\n"
            "d.close()\n" % (entries,))
    r = subprocess.run([SYSTEM_PYTHON, "-c", code, path], capture_output=True, timeout=20)
    check.eq(r.returncode, 0, "dbm.gnu: %s" % r.stderr.decode("latin-1")[:300])
    return path


if have_dbm_gnu():
    @test
    def file_made_by_python_dbm_gnu(ctx):
        srv = gdbm_server(ctx, dbm_gnu_file(ctx))
        login_ok(srv, "pyuser1", "Py-secret-1", "value with its NUL, made by dbm.gnu")
        login_ok(srv, "pyuser2", "Py-secret-1", "value without a NUL, made by dbm.gnu")


@test
def persistent_reopened_on_sighup(ctx):
    path = standard_file(ctx.tmpdir("db"))
    srv = gdbm_server(ctx, path, {"auth-gdbm-persistent": "yes"})
    login_ok(srv, "guser1", "Gdbm-secret-1", "persistent file, first login")
    login_ok(srv, "guser1", "Gdbm-secret-1", "persistent file, second login")
    # Replace the file: sessions keep using the one opened at start...
    make_gdbm(path, [("guser1", "{plaintext}Gdbm-new-secret", True)])
    with srv.login("guser2", "Gdbm-secret-2") as held:
        check.startswith(attempt(srv, "guser1", "Gdbm-new-secret"), b"-ERR [AUTH]",
                         "new password before SIGHUP (the old file is kept open)")
        # ...until a reload opens the new one.
        mark = len(srv.log_text())
        srv.signal(signal.SIGHUP)
        check.true(srv.wait_log(r"configuration reloaded", 5, start=mark),
                   "no reload after SIGHUP:\n" + srv.log_tail())
        login_ok(srv, "guser1", "Gdbm-new-secret", "new password after SIGHUP")
        check.startswith(attempt(srv, "guser2", "Gdbm-secret-2"), b"-ERR [AUTH]",
                         "user removed from the new file, after SIGHUP")
        # A session that started before the reload is unaffected.
        held.ok("STAT")
        held.ok("QUIT")
    no_passwords_logged(srv)


@test
def persistent_needs_fixed_file(ctx):
    d = ctx.tmpdir("db")
    srv = gdbm_server(ctx, os.path.join(d, "$(domain).gdbm"),
                      {"auth-gdbm-persistent": "yes"}, start=False)
    r = subprocess.run([ctx.binary, "-t", "-f", srv.conf], capture_output=True, timeout=20)
    err = r.stderr.decode("latin-1")
    check.true(r.returncode != 0, "-t accepted auth-gdbm-persistent with $(domain)")
    check.true("auth-gdbm-persistent" in err, "error does not name the directive: %r" % err)


@test
def mail_user_may_not_be_root(ctx):
    path = standard_file(ctx.tmpdir("db"))
    srv = gdbm_server(ctx, path, {"auth-gdbm-mail-user": "root"}, start=False)
    r = subprocess.run([ctx.binary, "-t", "-f", srv.conf], capture_output=True, timeout=20)
    err = r.stderr.decode("latin-1")
    check.true(r.returncode != 0, "-t accepted auth-gdbm-mail-user: root")
    check.true("auth-gdbm-mail-user" in err, "error does not name the directive: %r" % err)


@test
def corrupt_file_is_temporary_failure(ctx):
    d = ctx.tmpdir("db")
    with open(os.path.join(d, "example.org.gdbm"), "wb") as f:
        f.write(b"this is not a GDBM file\n" * 300)
    with open(os.path.join(d, "example.net.gdbm"), "wb") as f:
        pass
    srv = gdbm_server(ctx, os.path.join(d, "$(domain).gdbm"))
    mark = len(srv.log_text())
    for user in ("alice@example.org", "alice@example.net"):
        with srv.connect() as c:
            c.ok("USER " + user)
            check.startswith(c.reply("PASS Dom-secret-a"), b"-ERR [SYS/TEMP]",
                             "login against a corrupt file (%s)" % user)
            # The session carries on.
            c.ok("USER tp3user1")
            c.ok("PASS " + password_of("tp3user1"))
            c.ok("QUIT")
    check.true(srv.wait_log(r"login failed temporarily: user=alice@example.org "
                            r"driver=gdbm[^\n]*cannot open", 5, start=mark),
               "no reason logged for the corrupt file:\n" + srv.log_tail())
    # The daemon is fine otherwise.
    with srv.login("tp3user1") as c:
        c.ok("QUIT")


@test
def persistent_corrupt_file_at_start(ctx):
    d = ctx.tmpdir("db")
    path = os.path.join(d, "users.gdbm")
    with open(path, "wb") as f:
        f.write(os.urandom(4096))
    srv = gdbm_server(ctx, path, {"auth-gdbm-persistent": "yes"})
    check.startswith(attempt(srv, "guser1", "Gdbm-secret-1"), b"-ERR [SYS/TEMP]",
                     "persistent mode with a corrupt file")
    # Repaired and reloaded: logins work again.
    make_gdbm(path, [("guser1", stored("guser1"), True)])
    mark = len(srv.log_text())
    srv.signal(signal.SIGHUP)
    check.true(srv.wait_log(r"configuration reloaded", 5, start=mark),
               "no reload after SIGHUP:\n" + srv.log_tail())
    login_ok(srv, "guser1", "Gdbm-secret-1", "after repairing the file and SIGHUP")


def hold_writer_lock(path):
    """A process that opens PATH as a GDBM writer (an exclusive lock) and
    holds it until its standard input closes."""
    code = ("import dbm.gnu, sys\n"
            "d = dbm.gnu.open(sys.argv[1], 'w')\n"
            "print('locked', flush=True)\n"
            "sys.stdin.read()\n"
            "d.close()\n")
    p = subprocess.Popen([SYSTEM_PYTHON, "-c", code, path], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    line = p.stdout.readline()
    if line.strip() != b"locked":
        p.kill()
        p.wait(5)
        check.fail("could not hold a writer lock: %r %r" % (line, p.stderr.read()[:300]))
    return p


def release(p):
    if p.poll() is None:
        p.stdin.close()
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)


if have_dbm_gnu():
    @test
    def writer_lock_short_and_long(ctx):
        path = standard_file(ctx.tmpdir("db"))
        srv = gdbm_server(ctx, path)
        writer = hold_writer_lock(path)
        ctx.defer(lambda: release(writer))
        # Held throughout: the login gives up after a bounded wait.
        with srv.connect() as c:
            c.ok("USER guser1")
            t0 = time.monotonic()
            r = c.reply("PASS Gdbm-secret-1")
            dt = time.monotonic() - t0
        check.startswith(r, b"-ERR [SYS/TEMP]", "login while a writer holds the file")
        check.true(dt < 3, "login waited %.1fs for a writer" % dt)
        # Released while a login waits: it goes through.
        with srv.connect() as c:
            c.ok("USER guser1")
            c.cmd("PASS Gdbm-secret-1")
            # Early in the driver's 500 ms of retries: the writer process
            # may take a while to close the file on a loaded machine.
            time.sleep(0.05)
            release(writer)
            check.startswith(c.readline(), b"+OK", "login once the writer let go")
            c.ok("QUIT")

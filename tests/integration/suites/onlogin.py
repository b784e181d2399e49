# SPDX-License-Identifier: GPL-2.0-or-later
"""Actions after login: the ONLOGIN request of the other driver, the onlogin
statement of the mysql driver (against a real MariaDB), and the bounds
around them: an action that hangs or fails never delays the login beyond
onlogin-timeout, never fails it, and leaves no process behind."""

import os
import time

from harness import check, mbox, system
from harness.runner import test
from harness.server import owner_ids

from suites.auth_mysql import (Setup, sql_quote, DB_USER, mail_dir, write_mailbox,
                               user as vmail_user)
from suites.auth_other import PRELUDE, PROG_USER, PROG_GROUP

# The program of these tests: "ouser" logs in through it (as nobody, with
# the mailbox MAILBOX); every ONLOGIN request is recorded in RECORDS as one
# file, then answered as MODE says.
PROGRAM = r'''
req = read_request()
method = req.get("method")
if method == "PASS":
    if req["user"] in ACCEPT and req["pass"] == "Other-secret-1":
        reply(result="YES", uid="nobody", gid="nogroup", mailbox=MAILBOX)
    else:
        reply(result="NO", logmsg="not here")
    sys.exit(0)
if method != "ONLOGIN":
    reply(result="NO", logmsg="method %s" % method)
    sys.exit(0)
name = os.path.join(RECORDS, "%d.%d" % (time.time_ns(), os.getpid()))
with open(name + ".tmp", "w") as f:
    f.write(repr(sorted(req.items())))
os.rename(name + ".tmp", name)
if MODE == "hang":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    time.sleep(60)
if MODE == "exit3":
    sys.exit(3)
reply(result="YES")
'''

OTHER_PASSWORD = "Other-secret-1"


class OtherSetup:
    """A daemon with the flat-file and other drivers; the other driver's
    program records the ONLOGIN requests it gets."""

    def __init__(self, ctx, mode="yes", config=None, accept=("ouser",)):
        self.ctx = ctx
        d = ctx.tmpdir("prog")
        self.records = os.path.join(d, "records")
        os.makedirs(self.records)
        nobody = owner_ids(PROG_USER, PROG_GROUP)
        os.chown(self.records, *nobody)
        self.program = os.path.join(d, "onlogin-prog.py")
        conf = {
            "auth-other-enable": "yes",
            "auth-other-program": self.program,
            "auth-other-user": PROG_USER,
            "auth-other-group": PROG_GROUP,
            "auth-other-timeout": "5",
            "onlogin-timeout": "1",
        }
        conf.update(config or {})
        self.srv = ctx.server(conf, start=False)
        self.box = self.srv.put_mbox("ouser-box", mbox.small(), owner=nobody)
        with open(self.program, "w") as f:
            f.write(PRELUDE + "MODE = %r\nRECORDS = %r\nMAILBOX = %r\nACCEPT = %r\n"
                    % (mode, self.records, self.box, list(accept)) + PROGRAM)
        os.chmod(self.program, 0o755)
        self.srv.start()

    def requests(self):
        out = []
        for name in sorted(os.listdir(self.records)):
            if name.endswith(".tmp"):
                continue
            with open(os.path.join(self.records, name)) as f:
                out.append(dict(eval(f.read())))  # our own repr() of str pairs
        return out

    def wait_requests(self, n, timeout=5.0):
        deadline = time.monotonic() + timeout
        while True:
            got = self.requests()
            if len(got) >= n or time.monotonic() > deadline:
                return got
            time.sleep(0.05)


def timed_login(srv, name, password):
    """(seconds PASS took, its reply line, the connection)."""
    c = srv.connect()
    c.ok("USER " + name)
    t0 = time.monotonic()
    r = c.reply("PASS " + password, timeout=20)
    return time.monotonic() - t0, r, c


def leftovers(ctx, srv, known=(), needles=()):
    """Live processes that belong to no session: anything in the daemon's
    process group but the daemon and its sessions, anything re-parented to
    the harness, and anything whose command line holds one of NEEDLES."""
    out = set()
    known = set(known) | {x.proc.pid for x in ctx.servers if x.proc}
    sessions = set(srv.children())
    for p in system.group_members(srv.pgrp):
        st = system.proc_stat(p)
        if p != srv.pid and p not in sessions and st and st[0] != "Z":
            out.add(p)
    for p in system.children_of(os.getpid()):
        st = system.proc_stat(p)
        if p not in known and st and st[0] != "Z":
            out.add(p)
    for p in system.all_pids():
        if any(n in system.cmdline(p) for n in needles):
            st = system.proc_stat(p)
            if st and st[0] != "Z":
                out.add(p)
    return sorted(out)


def wait_no_leftovers(ctx, srv, timeout, known=(), needles=()):
    deadline = time.monotonic() + timeout
    while True:
        left = leftovers(ctx, srv, known, needles)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


def describe(pids):
    return ", ".join("%d (%s)" % (p, system.cmdline(p)) for p in pids)


def session_over(c):
    c.ok("STAT")
    c.cmd("QUIT")
    check.startswith(c.readline(), b"+OK", "QUIT")
    check.true(c.closed_within(2), "connection not closed after QUIT")
    c.close()


# -- the other driver's ONLOGIN -----------------------------------------------

@test
def other_onlogin_request(ctx):
    """Every successful login, through the other driver or another one,
    sends the program one ONLOGIN request with the login's keys; a failed
    login sends none. With onlogin-child-wait it has arrived by +OK."""
    s = OtherSetup(ctx, config={"onlogin-child-wait": "yes"})
    with s.srv.login("fuser1") as c:
        got = s.requests()
        check.eq(len(got), 1, "ONLOGIN requests after a flat-file login")
        session_over(c)
    check.eq(got[0], {"method": "ONLOGIN", "user": "fuser1", "local_part": "fuser1",
                      "clienthost": "127.0.0.1", "serverhost": "127.0.0.1"},
             "ONLOGIN request of a flat-file login")
    with s.srv.login("ouser", OTHER_PASSWORD) as c:
        got = s.requests()
        check.eq(len(got), 2, "ONLOGIN requests after a login through the program")
        session_over(c)
    check.eq(got[1], {"method": "ONLOGIN", "user": "ouser", "local_part": "ouser",
                      "clienthost": "127.0.0.1", "serverhost": "127.0.0.1"},
             "ONLOGIN request of a login through the program")
    with s.srv.connect() as c:
        c.ok("USER fuser1")
        check.startswith(c.reply("PASS wrong-password"), b"-ERR", "wrong password")
    time.sleep(0.3)
    check.eq(len(s.requests()), 2, "ONLOGIN requests after a failed login")
    left = wait_no_leftovers(ctx, s.srv, 3, needles=[s.program])
    check.true(not left, "processes left: " + describe(left))


@test
def other_onlogin_detached(ctx):
    """Without onlogin-child-wait the request is sent after +OK."""
    s = OtherSetup(ctx)
    with s.srv.login("tp3user1") as c:
        session_over(c)
    got = s.wait_requests(1)
    check.eq(got, [{"method": "ONLOGIN", "user": "tp3user1", "local_part": "tp3user1",
                    "clienthost": "127.0.0.1", "serverhost": "127.0.0.1"}],
             "ONLOGIN requests of a passwd login")
    left = wait_no_leftovers(ctx, s.srv, 3, needles=[s.program])
    check.true(not left, "processes left: " + describe(left))


@test(timeout=40)
def hanging_action_bounded(ctx):
    """A program that never answers ONLOGIN (and ignores SIGTERM): without
    onlogin-child-wait the login is not delayed at all and the client's
    connection closes with the session; with it the login waits about
    onlogin-timeout. Either way the action is stopped, logged, and nothing
    of it is left."""
    s = OtherSetup(ctx, mode="hang")
    dt, r, c = timed_login(s.srv, "fuser1", "Flat-secret-1")
    check.startswith(r, b"+OK", "PASS with a hanging action")
    check.true(dt < 0.5, "PASS took %.2f s with a detached action" % dt)
    session_over(c)
    check.true(s.wait_requests(1), "the program got no ONLOGIN request")
    check.true(s.srv.wait_log(r"onlogin: driver other: user fuser1: still running after "
                              r"1\.0 s \(onlogin-timeout\); stopped it", 5),
               "overrun not logged:\n" + s.srv.log_tail())
    left = wait_no_leftovers(ctx, s.srv, 3, needles=[s.program])
    check.true(not left, "processes left: " + describe(left))

    s = OtherSetup(ctx, mode="hang", config={"onlogin-child-wait": "yes"})
    mark = len(s.srv.log_text())
    dt, r, c = timed_login(s.srv, "fuser1", "Flat-secret-1")
    check.startswith(r, b"+OK", "PASS with a hanging action, waited for")
    check.true(0.9 < dt < 2.5, "PASS took %.2f s; onlogin-timeout is 1 s" % dt)
    check.true(s.srv.wait_log(r"onlogin: driver other: user fuser1: still running after "
                              r"1\.0 s \(onlogin-timeout\); stopped it", 2,
                              start=mark),
               "overrun not logged:\n" + s.srv.log_tail())
    session_over(c)
    left = wait_no_leftovers(ctx, s.srv, 3, needles=[s.program])
    check.true(not left, "processes left: " + describe(left))


@test
def failing_action_does_not_fail_login(ctx):
    s = OtherSetup(ctx, mode="exit3", config={"onlogin-child-wait": "yes"})
    msgs = s.srv.messages("fuser1")
    with s.srv.login("fuser1") as c:
        check.eq(c.ok("STAT").split()[1], b"%d" % len(msgs), "STAT after a failed action")
        session_over(c)
    check.true(s.srv.wait_log(r"onlogin: driver other: user fuser1: [^\n]*gave no reply "
                              r"to ONLOGIN; exited with status 3", 3),
               "failed action not logged:\n" + s.srv.log_tail())
    left = wait_no_leftovers(ctx, s.srv, 3, needles=[s.program])
    check.true(not left, "processes left: " + describe(left))


# -- the mysql driver's onlogin statement ---------------------------------------

LOGINS_TABLE = """
CREATE TABLE vmail.logins (
    id INT AUTO_INCREMENT PRIMARY KEY,
    ip VARCHAR(64) NOT NULL,
    user VARCHAR(255) NOT NULL,
    lp VARCHAR(255) NOT NULL,
    dom VARCHAR(255) NOT NULL,
    srv VARCHAR(64) NOT NULL
);
GRANT INSERT ON vmail.logins TO %s@'localhost';
""" % sql_quote(DB_USER)

INSERT = ("INSERT INTO logins (ip, user, lp, dom, srv) VALUES ('$(clienthost)', "
          "'$(user)', '$(local_part)', '$(domain)', '$(serverhost)')")

# Would add a row of its own if the quote got through unescaped; the
# backslash would swallow the closing quote.
EVIL = "x'),('6.6.6.6','i','i','i','i')#\\"


def rows(db):
    out = db.sql("SELECT ip, user, lp, dom, srv FROM vmail.logins ORDER BY id")
    return [tuple(line.split("\t")) for line in out.splitlines()]


@test(timeout=60)
def mysql_onlogin_statement(ctx):
    """Logins through mysql, passwd and the other driver each insert one
    row with their own values, escaped; a statement that hangs delays a
    waited-for login by onlogin-timeout at most and is logged."""
    prog_dir = ctx.tmpdir("prog")
    records = os.path.join(prog_dir, "records")
    os.makedirs(records)
    nobody = owner_ids(PROG_USER, PROG_GROUP)
    os.chown(records, *nobody)
    program = os.path.join(prog_dir, "onlogin-prog.py")
    box = os.path.join(mail_dir(os.path.join(ctx.tmpdir("box"), "mail")), "evil-box")
    write_mailbox(box, mbox.small())
    with open(program, "w") as f:
        f.write(PRELUDE + "MODE = 'yes'\nRECORDS = %r\nMAILBOX = %r\nACCEPT = %r\n"
                % (records, box, [EVIL]) + PROGRAM)
    os.chmod(program, 0o755)
    s = Setup(ctx, config={
        "auth-passwd-enable": "yes",
        "auth-other-enable": "yes",
        "auth-other-program": program,
        "auth-other-user": PROG_USER,
        "auth-other-group": PROG_GROUP,
        "auth-other-timeout": "5",
        "auth-mysql-onlogin-query": INSERT,
        "onlogin-child-wait": "yes",
    })
    s.db.sql(LOGINS_TABLE)

    with s.srv.login(vmail_user("alice"), "Alice-pw-1") as c:
        check.eq(rows(s.db), [("127.0.0.1", "alice@example.com", "alice", "example.com",
                               "127.0.0.1")], "row of a mysql login")
        session_over(c)
    with s.srv.login("tp3user1") as c:
        session_over(c)
    check.eq(rows(s.db)[1:], [("127.0.0.1", "tp3user1", "tp3user1", "", "127.0.0.1")],
             "row of a passwd login")
    # Refused by mysql first (its connection stays open in the session),
    # then accepted by the program.
    with s.srv.login(EVIL, OTHER_PASSWORD) as c:
        session_over(c)
    got = rows(s.db)
    check.eq(len(got), 3, "rows after a login with quotes in the name: %r" % (got,))
    check.eq(got[2], ("127.0.0.1", EVIL.replace("\\", "\\\\"), EVIL.replace("\\", "\\\\"),
                      "", "127.0.0.1"),
             "row of a name with quotes (as the mariadb client prints it)")
    s.no_secrets_logged()

    # A statement that fails, then one that hangs: the same database, a
    # second daemon.
    for query, wait, pattern in [
            ("INSERT INTO no_such_table VALUES ('$(user)')", "no",
             r"onlogin: driver mysql: user tp3user1: statement failed: "),
            ("SELECT SLEEP(30)", "yes",
             r"onlogin: driver mysql: user tp3user1: still running after 1\.0 s")]:
        srv = ctx.server({
            "auth-flatfile-enable": None,
            "auth-mysql-enable": "yes",
            "auth-mysql-hostname": s.db.sock,
            "auth-mysql-database": "vmail",
            "auth-mysql-username": DB_USER,
            "auth-mysql-password": s.srv.config["auth-mysql-password"],
            "auth-mysql-onlogin-query": query,
            "onlogin-child-wait": wait,
            "onlogin-timeout": "1",
        })
        dt, r, c = timed_login(srv, "tp3user1", "Tp3-pass-one")
        check.startswith(r, b"+OK", "PASS with onlogin statement %r" % query)
        limit = (0.9, 2.5) if wait == "yes" else (0, 0.5)
        check.true(limit[0] < dt < limit[1], "PASS took %.2f s with %r, onlogin-child-wait %s"
                   % (dt, query, wait))
        session_over(c)
        check.true(srv.wait_log(pattern, 5), "%r not logged:\n%s" % (pattern, srv.log_tail()))
        left = wait_no_leftovers(ctx, srv, 3, known=[s.db.proc.pid, s.srv.pid])
        check.true(not left, "processes left: " + describe(left))
    check.eq(len(rows(s.db)), 3, "rows after the other daemons")


@test
def mysql_onlogin_config_checks(ctx):
    """tpop3d -t checks the statement's variables."""
    import subprocess
    base = {
        "auth-flatfile-enable": None,
        "auth-mysql-enable": "yes",
        "auth-mysql-hostname": "/nonexistent/sock",
        "auth-mysql-database": "vmail",
        "auth-mysql-username": DB_USER,
    }
    for query, ok in [(INSERT, True),
                      ("INSERT INTO t VALUES ('$(home)')", True),
                      ("none", True),
                      ("INSERT INTO t VALUES ('$(nosuch)')", False),
                      ("INSERT INTO t VALUES ('$(user[0])')", False),
                      ("INSERT INTO t VALUES ('$(user)", True),
                      ("INSERT INTO t VALUES ('$(user')", False)]:
        conf = dict(base)
        conf["auth-mysql-onlogin-query"] = query
        srv = ctx.server(conf, start=False)
        r = subprocess.run([ctx.binary, "-t", "-f", srv.conf], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=20)
        err = r.stderr.decode("latin-1")
        if ok:
            check.eq(r.returncode, 0, "tpop3d -t status for %r (stderr: %s)" % (query, err[:300]))
        else:
            check.true(r.returncode != 0, "tpop3d -t accepted %r" % query)
            check.true("auth-mysql-onlogin-query" in err,
                       "tpop3d -t error for %r does not name the directive: %r"
                       % (query, err[:300]))

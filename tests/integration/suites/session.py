# SPDX-License-Identifier: GPL-2.0-or-later
"""Whole sessions: authentication, every TRANSACTION command, UPDATE."""

import base64
import os
import poplib
import re
import socket
import struct
import time

from harness import check, mbox, system
from harness.runner import test
from harness.server import password_of

CAPS = {"TOP", "UIDL", "USER", "PIPELINING", "RESP-CODES", "AUTH-RESP-CODE"}


def capa(c):
    c.ok("CAPA")
    lines = c.read_body().decode("latin-1").split("\r\n")[:-1]
    return {l.split()[0].upper(): l for l in lines if l.strip()}


@test
def capa_lists_capabilities(ctx):
    srv = ctx.server()
    with srv.connect() as c:
        caps = capa(c)
        missing = (CAPS | {"IMPLEMENTATION"}) - set(caps)
        check.true(not missing, "CAPA lacks %s (got %s)" % (sorted(missing), sorted(caps)))
        c.login("tp3user1", password_of("tp3user1"))
        caps = capa(c)
        missing = {"TOP", "UIDL", "PIPELINING"} - set(caps)
        check.true(not missing, "CAPA in TRANSACTION lacks %s" % sorted(missing))
        c.ok("QUIT")


@test
def apop_only_hides_user(ctx):
    srv = ctx.server({"apop-only": "yes"})
    with srv.connect() as c:
        check.true("USER" not in capa(c), "CAPA offers USER under apop-only")
        r = c.reply("USER tp3user1")
        if r.startswith(b"+OK"):
            r = c.reply("PASS " + password_of("tp3user1"))
        check.startswith(r, b"-ERR", "USER/PASS under apop-only")
        check.startswith(c.apop("fuser1", password_of("fuser1")), b"+OK", "APOP under apop-only")
        c.ok("QUIT")


@test
def greeting_timestamp_only_with_apop_driver(ctx):
    srv = ctx.server()
    with srv.connect() as c:
        check.true(c.greeting.startswith(b"+OK") and c.timestamp,
                   "no APOP timestamp with flatfile enabled: %r" % c.greeting)
        check.true(c.greeting.endswith(c.timestamp), "timestamp does not end the greeting")
    srv2 = ctx.server({"auth-flatfile-enable": "no"})
    with srv2.connect() as c:
        check.true(c.greeting.startswith(b"+OK") and c.timestamp is None,
                   "APOP timestamp offered without an APOP driver: %r" % c.greeting)


def check_all_commands(c, msgs):
    """STAT, LIST, UIDL, RETR and TOP over MSGS, compared with the mbox."""
    total = sum(m.size for m in msgs)
    st = c.ok("STAT")
    check.eq(st.split()[1:3], [b"%d" % len(msgs), b"%d" % total], "STAT")
    listing = c.ok_body("LIST")
    check.eq(listing, b"".join(b"%d %d\r\n" % (i + 1, m.size) for i, m in enumerate(msgs)),
             "LIST")
    for i, m in enumerate(msgs):
        check.eq(c.ok("LIST %d" % (i + 1)).split()[1:3], [b"%d" % (i + 1), b"%d" % m.size],
                 "LIST %d" % (i + 1))
    uidls = c.ok_body("UIDL").decode().split("\r\n")[:-1]
    got = [u.split() for u in uidls]
    check.eq([g[0] for g in got], [str(i + 1) for i in range(len(msgs))], "UIDL numbering")
    ids = [g[1] for g in got]
    check.eq(len(set(ids)), len(ids), "UIDLs are not unique: %s" % ids)
    for i, m in enumerate(msgs):
        check.true(1 <= len(ids[i]) <= 70 and all(0x21 <= ord(ch) <= 0x7e for ch in ids[i]),
                   "UIDL %d is not 1-70 printable characters: %r" % (i + 1, ids[i]))
        # Identical messages cannot all keep the plain digest.
        same = [j for j, o in enumerate(msgs) if o.uidl == m.uidl]
        if len(same) == 1:
            check.eq(ids[i], m.uidl, "UIDL of message %d (md5 of its first 512 bytes)" % (i + 1))
        else:
            check.true(any(ids[j] == m.uidl for j in same),
                       "none of the identical messages %s has the plain digest UIDL"
                       % [j + 1 for j in same])
        check.eq(c.ok("UIDL %d" % (i + 1)).split()[1:3], [b"%d" % (i + 1), ids[i].encode()],
                 "UIDL %d" % (i + 1))
    for i, m in enumerate(msgs):
        check.eq(c.ok_body("RETR %d" % (i + 1)), m.served, "RETR %d" % (i + 1))
    for i, m in enumerate(msgs):
        for n in (0, 1, 3, 100000):
            check.eq(c.ok_body("TOP %d %d" % (i + 1, n)), m.top(n), "TOP %d %d" % (i + 1, n))


@test
def full_session_raw(ctx):
    srv = ctx.server()
    before = srv.read_mbox("tp3user1")
    msgs = mbox.split(before)
    with srv.login("tp3user1") as c:
        check_all_commands(c, msgs)
        c.ok("NOOP")
        c.ok("QUIT")
        check.true(c.closed_within(5), "connection still open after QUIT")
    check.eq(srv.read_mbox("tp3user1"), before, "mailbox after a session without DELE")


@test
def full_session_flatfile_user(ctx):
    srv = ctx.server()
    msgs = srv.messages("fuser2")
    with srv.login("fuser2") as c:
        check_all_commands(c, msgs)
        c.ok("QUIT")


@test
def full_session_poplib(ctx):
    srv = ctx.server()
    before = srv.read_mbox("tp3user1")
    msgs = mbox.split(before)
    # poplib refuses lines over 2 KB; message 7 has a 3000-byte line.
    poplib._MAXLINE = 1 << 20
    p = poplib.POP3("127.0.0.1", srv.port, timeout=20)
    try:
        p.user("tp3user1")
        p.pass_(password_of("tp3user1"))
        check.eq(p.stat(), (len(msgs), sum(m.size for m in msgs)), "poplib stat()")
        _, listing, _ = p.list()
        check.eq(listing, [b"%d %d" % (i + 1, m.size) for i, m in enumerate(msgs)], "poplib list()")
        _, uidls, _ = p.uidl()
        check.eq(len(uidls), len(msgs), "poplib uidl() count")
        check.eq(uidls[0], b"1 " + msgs[0].uidl.encode(), "poplib uidl() first")
        for i, m in enumerate(msgs):
            _, lines, octets = p.retr(i + 1)
            got = b"".join(l + b"\r\n" for l in lines)
            check.eq(got, m.served, "poplib retr(%d)" % (i + 1))
        _, lines, _ = p.top(1, 2)
        check.eq(b"".join(l + b"\r\n" for l in lines), msgs[0].top(2), "poplib top(1, 2)")
        p.dele(2)
        try:
            p.retr(2)
            check.fail("RETR of a deleted message succeeded")
        except poplib.error_proto:
            pass
        p.rset()
        check.eq(p.stat()[0], len(msgs), "message count after RSET")
        p.dele(1)
        p.dele(len(msgs))
        check.eq(p.stat(), (len(msgs) - 2, sum(m.size for m in msgs[1:-1])), "stat() after DELE")
        p.quit()
    finally:
        p.close()
    after = srv.read_mbox("tp3user1")
    check.eq(after, b"".join(m.raw for m in msgs[1:-1]),
             "mailbox after deleting the first and last message")


@test
def quit_commits_deletions(ctx):
    srv = ctx.server()
    msgs = srv.messages("tp3user1")
    gone = {1, 3, 6, 8, 11}
    with srv.login("tp3user1") as c:
        for n in sorted(gone):
            c.ok("DELE %d" % n)
        c.ok("QUIT")
        check.true(c.closed_within(5), "connection still open after QUIT")
    kept = [m for i, m in enumerate(msgs) if i + 1 not in gone]
    check.eq(srv.read_mbox("tp3user1"), b"".join(m.raw for m in kept),
             "mailbox after QUIT (remaining messages must be byte-identical)")
    # The survivors keep their sizes and (non-duplicate) UIDLs.
    with srv.login("tp3user1") as c:
        listing = c.ok_body("LIST")
        check.eq(listing, b"".join(b"%d %d\r\n" % (i + 1, m.size) for i, m in enumerate(kept)),
                 "LIST after the commit")
        ids = c.ok_body("UIDL").decode().split("\r\n")[:-1]
        for i, m in enumerate(kept):
            if sum(o.uidl == m.uidl for o in kept) == 1:
                check.eq(ids[i].split()[1], m.uidl, "UIDL of a survivor changed")
        for i, m in enumerate(kept):
            check.eq(c.ok_body("RETR %d" % (i + 1)), m.served, "RETR of survivor %d" % (i + 1))
        c.ok("QUIT")
    check.true(srv.wait_log(r"end=QUIT", 5), "no end=QUIT in the log")


@test
def delete_everything(ctx):
    srv = ctx.server()
    msgs = srv.messages("tp3user2")
    with srv.login("tp3user2") as c:
        for i in range(len(msgs)):
            c.ok("DELE %d" % (i + 1))
        check.eq(c.ok("STAT").split()[1:3], [b"0", b"0"], "STAT with every message deleted")
        check.eq(c.ok_body("LIST"), b"", "LIST with every message deleted")
        c.ok("QUIT")
    check.eq(srv.read_mbox("tp3user2"), b"", "mailbox after deleting everything")


@test
def rset_undeletes(ctx):
    srv = ctx.server()
    before = srv.read_mbox("tp3user1")
    with srv.login("tp3user1") as c:
        c.ok("DELE 1")
        c.ok("DELE 2")
        c.err("DELE 1")
        c.err("RETR 1")
        c.err("TOP 1 0")
        c.err("LIST 1")
        c.err("UIDL 2")
        c.ok("RSET")
        c.ok("RETR 1")
        c.read_body()
        c.ok("QUIT")
    check.eq(srv.read_mbox("tp3user1"), before, "mailbox after DELE, RSET, QUIT")


def _drop(c, reset):
    if reset:
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()


@test
def drop_without_quit_deletes_nothing(ctx):
    srv = ctx.server()
    before = srv.read_mbox("tp3user1")
    for reset in (False, True):
        c = srv.login("tp3user1")
        n = int(c.ok("STAT").split()[1])
        for i in range(n):
            c.ok("DELE %d" % (i + 1))
        _drop(c, reset)
        check.true(srv.wait_no_children(10), "session child still running after the client left")
        check.eq(srv.read_mbox("tp3user1"), before,
                 "mailbox after a client dropped without QUIT (%s)" % ("RST" if reset else "FIN"))
        check.true(srv.wait_log(r"user=tp3user1.*end=drop|end=drop.*user=tp3user1", 5),
                   "no log line with user=tp3user1 ... end=drop")
    with srv.login("tp3user1") as c:  # the lock went with the session
        c.ok("QUIT")


@test
def session_log_line(ctx):
    srv = ctx.server()
    with srv.login("tp3user2") as c:
        c.ok_body("RETR 1")
        c.ok_body("RETR 2")
        c.ok("DELE 3")
        c.ok("QUIT")
    m = srv.wait_log(r"[^\n]*user=tp3user2[^\n]*end=[^\n]*", 5)
    check.true(m, "no log line with user=tp3user2:\n" + srv.log_tail())
    line = m.group(0)
    for want in (r"client=(\[)?127\.0\.0\.1\b", r"retrieved=2\b", r"deleted=1\b", r"end=QUIT\b"):
        check.true(re.search(want, line), "log line lacks %s: %r" % (want, line))


@test
def verbose_logs_dialogue_not_secrets(ctx):
    srv = ctx.server(extra=["-v"])
    with srv.login("tp3user1") as c:
        c.ok("STAT")
        c.ok_body("RETR 1")
        c.ok("QUIT")
    srv.wait_log(r"end=QUIT", 5)
    text = srv.log_text()
    check.true("STAT" in text and "RETR" in text, "-v did not log the dialogue:\n" + srv.log_tail())
    check.true("BODYMARKER-1" not in text, "-v logged a message body")
    # Passwords are checked for every test when the daemon stops.


@test
def verbose_hides_unparsable_lines(ctx):
    """A line that is no command (a tab after PASS) may still hold a
    password: -v logs only its start and length."""
    srv = ctx.server(extra=["-v"])
    with srv.connect() as c:
        c.ok("USER tp3user1")
        r = c.reply("PASS\tsecret123")
        check.startswith(r, b"-ERR", "PASS with a tab")
        c.ok("QUIT")
    check.true(srv.wait_log(r"unparsable line \"PASS\.\.\.\" \(14 octets\)", 5),
               "no summary of the unparsable line:\n" + srv.log_tail())
    check.true("secret123" not in srv.log_text(), "-v logged the password")


# An onlogin action that holds its processes up for a while, so that their
# memory can be searched; answers NO to every login.
HOLDER = r'''#!/bin/sh
case "$(tr '\000' ' ')" in
*ONLOGIN*) sleep 4 ;;
esac
printf 'result\0NO\0\0'
'''


def parent_of(pid):
    with open("/proc/%d/stat" % pid) as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def memory_holds(pid, needle):
    """Whether the writable memory of process PID holds NEEDLE. Regions
    over 256 MiB (a sanitizer's shadow and reserved heap) are skipped."""
    with open("/proc/%d/maps" % pid) as maps, open("/proc/%d/mem" % pid, "rb") as mem:
        for line in maps:
            fields = line.split()
            start, end = (int(x, 16) for x in fields[0].split("-"))
            if "rw" not in fields[1] or end - start > 256 << 20:
                continue
            try:
                mem.seek(start)
                if needle in mem.read(end - start):
                    return True
            except (OSError, ValueError, OverflowError):
                pass
    return False


@test(timeout=60)
def password_gone_before_onlogin(ctx):
    """The processes forked for the onlogin actions (as root, or as the
    user) do not carry the password: it is wiped once checked, whether it
    came by PASS or in a SASL PLAIN or LOGIN exchange."""
    prog_dir = ctx.tmpdir("prog")
    os.chmod(prog_dir, 0o755)
    program = os.path.join(prog_dir, "holder.sh")
    with open(program, "w") as f:
        f.write(HOLDER)
    os.chmod(program, 0o755)
    srv = ctx.server({"auth-other-enable": "yes", "auth-other-program": program,
                      "auth-other-user": "nobody", "auth-other-group": "nogroup",
                      "auth-other-timeout": "10"})
    secret = password_of("tp3user1")
    b64 = lambda b: base64.b64encode(b).decode()
    logins = (
        ("PASS", ["USER tp3user1", "PASS " + secret]),
        ("AUTH PLAIN", ["AUTH PLAIN " + b64(b"\0tp3user1\0" + secret.encode())]),
        ("AUTH LOGIN", ["AUTH LOGIN " + b64(b"tp3user1"), b64(secret.encode())]),
    )
    for what, lines in logins:
        with srv.connect() as c:
            for line in lines[:-1]:
                c.reply(line)
            check.startswith(c.reply(lines[-1]), b"+OK", what)
            # The action's processes: the program, the worker that waits
            # for it, the coordinator above.
            deadline = time.monotonic() + 5
            pids = []
            while not pids:
                check.true(time.monotonic() < deadline, "%s: no onlogin action seen" % what)
                pids = [p for p in system.all_pids()
                        if program in system.cmdline(p) and "sleep" not in system.cmdline(p)]
                time.sleep(0.02)
            worker = parent_of(pids[0])
            for pid in (worker, parent_of(worker)):
                check.true(not memory_holds(pid, secret.encode()),
                           "%s: process %d (%s) holds the password"
                           % (what, pid, system.cmdline(pid)))
            c.ok("QUIT")


@test
def second_session_gets_in_use(ctx):
    srv = ctx.server()
    first = srv.login("tp3user1")
    try:
        first.ok("STAT")
        with srv.connect(timeout=15) as c:
            c.ok("USER tp3user1")
            t0 = time.monotonic()
            r = c.reply("PASS " + password_of("tp3user1"), timeout=15)
            check.startswith(r, b"-ERR [IN-USE]", "login to a mailbox in use")
            check.true(time.monotonic() - t0 < 10, "IN-USE took over 10 s")
        first.ok_body("RETR 1")
        first.ok("QUIT")
    finally:
        first.close()
    with srv.login("tp3user1") as c:
        c.ok("QUIT")


@test
def two_users_at_once(ctx):
    srv = ctx.server()
    a = srv.login("tp3user1")
    b = srv.login("tp3user2")
    f = srv.login("fuser1")
    for c in (a, b, f):
        c.ok("STAT")
        c.ok("QUIT")
        c.close()


@test
def bad_password(ctx):
    srv = ctx.server()
    with srv.connect() as c:
        for user, pw in (("tp3user1", "wrong"), ("nosuchuser", "wrong"), ("fuser2", "wrong")):
            c.ok("USER " + user)
            t0 = time.monotonic()
            r = c.reply("PASS " + pw)
            dt = time.monotonic() - t0
            check.startswith(r, b"-ERR [AUTH]", "PASS with a bad password for %s" % user)
            check.true(dt >= 0.8, "failed login for %s answered after %.2fs, no delay" % (user, dt))
            # Only three failures are allowed per connection; stop at three.
        check.true(c.closed_within(5), "still connected after three failed logins")
    with srv.login("tp3user1") as c:
        c.ok("QUIT")


@test
def apop_wrong_digest(ctx):
    srv = ctx.server()
    with srv.connect() as c:
        check.startswith(c.apop("fuser1", "not-the-secret"), b"-ERR [AUTH]", "APOP, wrong secret")
        # A crypt()-hashed account cannot do APOP; a system account neither.
        check.startswith(c.apop("fuser2", password_of("fuser2")), b"-ERR", "APOP for a hashed entry")
    with srv.connect() as c:
        check.startswith(c.apop("tp3user1", password_of("tp3user1")), b"-ERR",
                         "APOP for a passwd account")


@test
def missing_mailbox_is_empty(ctx):
    srv = ctx.server()
    os.unlink(srv.mbox_path("tp3user1"))
    with srv.login("tp3user1") as c:
        check.eq(c.ok("STAT").split()[1:3], [b"0", b"0"], "STAT of a missing mailbox")
        check.eq(c.ok_body("LIST"), b"", "LIST of a missing mailbox")
        c.err("RETR 1")
        c.ok("QUIT")


@test
def empty_mailbox(ctx):
    srv = ctx.server()
    srv.put_mbox("tp3user1", b"")
    with srv.login("tp3user1") as c:
        check.eq(c.ok("STAT").split()[1:3], [b"0", b"0"], "STAT of an empty mailbox")
        c.ok("QUIT")


@test
def lowercase_and_domains(ctx):
    srv = ctx.server({"lowercase-user": "yes", "strip-domain": "yes"})
    for name in ("TP3USER1", "tp3user1@example.org", "Tp3User1%example.org"):
        with srv.connect() as c:
            c.ok("USER " + name)
            r = c.reply("PASS " + password_of("tp3user1"))
            check.startswith(r, b"+OK", "login as %r with lowercase-user and strip-domain" % name)
            c.ok("QUIT")


@test
def pipelined_commands(ctx):
    srv = ctx.server()
    msgs = srv.messages("tp3user1")
    with srv.connect() as c:
        cmds = ["USER tp3user1", "PASS " + password_of("tp3user1"), "STAT", "LIST", "UIDL"]
        cmds += ["RETR %d" % (i + 1) for i in range(len(msgs))]
        cmds += ["TOP 1 0", "DELE 2", "NOOP", "LIST 2", "RSET", "LIST 2", "QUIT"]
        c.send(b"".join(x.encode() + b"\r\n" for x in cmds))
        check.startswith(c.readline(), b"+OK", "pipelined USER")
        check.startswith(c.readline(), b"+OK", "pipelined PASS")
        check.eq(c.readline().split()[:2], [b"+OK", b"%d" % len(msgs)], "pipelined STAT")
        check.startswith(c.readline(), b"+OK", "pipelined LIST")
        check.eq(c.read_body().count(b"\r\n"), len(msgs), "pipelined LIST lines")
        check.startswith(c.readline(), b"+OK", "pipelined UIDL")
        c.read_body()
        for i, m in enumerate(msgs):
            check.startswith(c.readline(), b"+OK", "pipelined RETR %d" % (i + 1))
            check.eq(c.read_body(), m.served, "pipelined RETR %d" % (i + 1))
        check.startswith(c.readline(), b"+OK", "pipelined TOP")
        check.eq(c.read_body(), msgs[0].top(0), "pipelined TOP 1 0")
        for what, want in (("DELE", b"+OK"), ("NOOP", b"+OK"), ("LIST 2", b"-ERR"),
                           ("RSET", b"+OK"), ("LIST 2", b"+OK"), ("QUIT", b"+OK")):
            check.startswith(c.readline(), want, "pipelined " + what)
    # A burst bigger than any input buffer: 3000 NOOPs in one write.
    with srv.login("tp3user1") as c:
        c.send(b"NOOP\r\n" * 3000 + b"QUIT\r\n")
        for i in range(3000):
            check.startswith(c.readline(), b"+OK", "NOOP %d of a 3000-command burst" % (i + 1))
        check.startswith(c.readline(), b"+OK", "QUIT after the burst")

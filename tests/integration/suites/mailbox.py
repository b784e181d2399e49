# SPDX-License-Identifier: GPL-2.0-or-later
"""The mbox on disk: ownership, locks, mail arriving mid-session, sizes."""

import os
import signal
import time

from harness import check, mbox
from harness.runner import test
from harness.server import owner_ids, password_of


def login_reply(srv, user, timeout=15):
    with srv.connect(timeout=timeout) as c:
        c.ok("USER " + user)
        return c.reply("PASS " + password_of(user), timeout=timeout)


@test
def wrong_owner_refused(ctx):
    srv = ctx.server()
    path = srv.mbox_path("tp3user2")
    before = srv.read_mbox("tp3user2")
    uid, gid = owner_ids("tp3user1")
    os.chown(path, uid, gid)
    os.chmod(path, 0o666)
    r = login_reply(srv, "tp3user2")
    check.startswith(r, b"-ERR", "login to a mailbox owned by someone else")
    check.eq(srv.read_mbox("tp3user2"), before, "mailbox owned by someone else")


@test
def symlinked_mailbox_refused(ctx):
    srv = ctx.server()
    real = os.path.join(srv.root, "elsewhere")
    os.rename(srv.mbox_path("tp3user1"), real)
    os.symlink(real, srv.mbox_path("tp3user1"))
    r = login_reply(srv, "tp3user1")
    check.startswith(r, b"-ERR", "login to a mailbox that is a symlink")


@test
def flatfile_mail_user_must_own(ctx):
    srv = ctx.server()
    uid, gid = owner_ids("tp3user1")
    os.chown(srv.mbox_path("fuser1"), uid, gid)
    r = login_reply(srv, "fuser1")
    check.startswith(r, b"-ERR", "flat-file login to a mailbox not owned by the mail user")


@test
def foreign_dotlock_means_in_use(ctx):
    srv = ctx.server()
    lock = srv.mbox_path("tp3user1") + ".lock"
    with open(lock, "w") as f:
        f.write("12345\n")
    t0 = time.monotonic()
    r = login_reply(srv, "tp3user1")
    check.startswith(r, b"-ERR [IN-USE]", "login while an MDA holds NAME.lock")
    check.true(time.monotonic() - t0 < 10, "waited over 10 s for the lock")
    check.true(os.path.exists(lock), "a fresh lock file of someone else was removed")
    os.unlink(lock)
    check.startswith(login_reply(srv, "tp3user1"), b"+OK", "login once the lock is gone")


@test
def stale_dotlock_is_broken(ctx):
    srv = ctx.server()
    lock = srv.mbox_path("tp3user1") + ".lock"
    with open(lock, "w") as f:
        f.write("")
    # Left by an earlier session of the same user that crashed: in a
    # sticky spool only its owner may remove it.
    uid, gid = owner_ids("tp3user1")
    os.chown(lock, uid, gid)
    old = time.time() - 3600
    os.utime(lock, (old, old))
    check.startswith(login_reply(srv, "tp3user1"), b"+OK", "login with an hour-old NAME.lock")


@test
def lock_released_after_session(ctx):
    srv = ctx.server()
    lock = srv.mbox_path("tp3user1") + ".lock"
    with srv.login("tp3user1") as c:
        c.ok("STAT")
        check.true(os.path.exists(lock), "no NAME.lock while the session has the mailbox")
        c.ok("QUIT")
    check.true(srv.wait_no_children(10), "session did not end after QUIT")
    check.true(not os.path.exists(lock), "NAME.lock left after QUIT")


@test
def no_dotlock_option(ctx):
    srv = ctx.server({"mailspool-no-dotfile-locking": "yes"})
    lock = srv.mbox_path("tp3user1") + ".lock"
    with srv.login("tp3user1") as c:
        c.ok("STAT")
        check.true(not os.path.exists(lock), "NAME.lock made despite mailspool-no-dotfile-locking")
        c.ok("QUIT")


@test
def mail_appended_during_session_survives(ctx):
    srv = ctx.server()
    before = srv.read_mbox("tp3user1")
    msgs = mbox.split(before)
    new = b"\n" + mbox.FROM_LINE + b"Subject: arrived late\n\nlate body\n"
    with srv.login("tp3user1") as c:
        c.ok("DELE 1")
        c.ok("DELE 5")
        # An MDA that ignored the locks appends while the session runs.
        with open(srv.mbox_path("tp3user1"), "ab") as f:
            f.write(new)
        c.ok("QUIT")
    kept = [m for i, m in enumerate(msgs) if i not in (0, 4)]
    check.eq(srv.read_mbox("tp3user1"), b"".join(m.raw for m in kept) + new,
             "mailbox after QUIT with mail appended during the session")


@test
def trailing_blank_line(ctx):
    """Files written by MTAs end with a blank line; whichever way the last
    message is served, its size and its RETR must agree."""
    srv = ctx.server()
    contents = mbox.standard_contents()[:3]
    srv.put_mbox("tp3user1", mbox.build(contents, trailing_blank=True))
    with srv.login("tp3user1") as c:
        size = int(c.ok("LIST 3").split()[2])
        body = c.ok_body("RETR 3")
        check.eq(len(body), size, "LIST size of the last message vs its RETR")
        served = mbox.crlf(contents[2])
        check.true(body in (served, served + b"\r\n"),
                   "last message of a file ending in a blank line: %r" % body[-80:])
        c.ok("QUIT")


@test
def many_messages(ctx):
    srv = ctx.server()
    contents = [b"Subject: number %d\n\n" % i + b"x" * (i % 700) + b"\n" + b"." * (i % 3) + b"\n"
                for i in range(2000)]
    data = mbox.build(contents)
    srv.put_mbox("tp3user1", data)
    msgs = mbox.split(data)
    with srv.login("tp3user1") as c:
        t0 = time.monotonic()
        check.eq(c.ok("STAT").split()[1:3],
                 [b"2000", b"%d" % sum(m.size for m in msgs)], "STAT of 2000 messages")
        check.eq(c.ok_body("LIST"),
                 b"".join(b"%d %d\r\n" % (i + 1, m.size) for i, m in enumerate(msgs)),
                 "LIST of 2000 messages")
        ids = c.ok_body("UIDL").split(b"\r\n")[:-1]
        check.eq(len(set(l.split()[1] for l in ids)), 2000, "unique UIDLs of 2000 messages")
        for i in range(0, 2000, 2):
            c.ok("DELE %d" % (i + 1))
        check.eq(c.ok_body("RETR 2000"), msgs[1999].served, "RETR 2000")
        c.ok("QUIT")
        check.true(time.monotonic() - t0 < 20, "2000 messages took over 20 s")
    check.eq(srv.read_mbox("tp3user1"), b"".join(m.raw for m in msgs[1::2]),
             "mailbox after deleting every other of 2000 messages")


@test(timeout=120)
def commit_survives_kill9(ctx):
    """A session killed at any instant of its commit must leave every
    message it did not delete intact. The commit of a 60 MB mailbox whose
    first message is deleted moves all the others; the session is killed
    at points spread over the time a commit takes."""
    srv = ctx.server()
    contents = [b"Subject: small, deleted\n\nsmall\n"] + [
        b"Subject: big %d\n\n" % i + (b"line of big message %d\n" % i) * 4000
        for i in range(600)]
    data = mbox.build(contents)
    msgs = mbox.split(data)
    lock = srv.mbox_path("tp3user1") + ".lock"

    def session(kill_after):
        srv.put_mbox("tp3user1", data)
        if os.path.exists(lock):
            os.unlink(lock)  # left by the previous, killed session
        c = srv.login("tp3user1", timeout=60)
        with c:
            c.ok("DELE 1")
            (child,) = srv.children()
            t0 = time.monotonic()
            c.cmd("QUIT")
            if kill_after is None:
                check.startswith(c.readline(timeout=60), b"+OK", "QUIT")
                return time.monotonic() - t0
            time.sleep(kill_after)
            try:
                os.kill(child, signal.SIGKILL)
            except ProcessLookupError:
                pass  # the commit finished first: a valid outcome too
            c.closed_within(10)
        check.true(srv.wait_no_children(10), "killed session not reaped")
        return None

    took = session(None)
    check.eq(srv.read_mbox("tp3user1"), b"".join(m.raw for m in msgs[1:]), "committed mailbox")
    kept = [m.content for m in msgs[1:]]
    for frac in (0.05, 0.2, 0.4, 0.6, 0.8):
        session(took * frac)
        # The killed session's dotlock is fresh, so it stays until an admin
        # removes it; then the next session may repair what it finds.
        if os.path.exists(lock):
            os.unlink(lock)
        try:
            with srv.login("tp3user1", timeout=60) as c:
                c.ok("STAT")
                c.ok("QUIT")
        except AssertionError:
            pass
        after = srv.read_mbox("tp3user1")
        found = set(m.content for m in mbox.split(after))
        bad = [i + 2 for i, c in enumerate(kept) if c not in found]
        check.true(not bad, "kill -9 %.1f ms into a %.1f ms commit: message(s) %s lost or "
                   "corrupted (file now %d bytes, was %d)"
                   % (took * frac * 1000, took * 1000, bad[:5], len(after), len(data)))


@test
def mailbox_path_cannot_escape_spool(ctx):
    """User names come from the wire and from password files; one that
    climbs out of the spool through $(user) must not open a file there."""
    srv = ctx.server()
    outside = os.path.join(srv.root, "outside")
    with open(outside, "wb") as f:
        f.write(mbox.small())
    uid, gid = owner_ids("nobody", "nogroup")
    os.chown(outside, uid, gid)
    os.chmod(outside, 0o600)
    before = os.stat(outside)
    with open(srv.flatfile, "a") as f:
        f.write("../outside:{plaintext}Esc-pass-1\n")
    with srv.connect() as c:
        c.reply("USER ../outside")
        r = c.reply("PASS Esc-pass-1")
        if r.startswith(b"+OK"):
            check.fail("a user named ../outside logged in; STAT says %r" % c.reply("STAT"))
        check.startswith(r, b"-ERR", "login as ../outside")
    check.true(not os.path.exists(outside + ".lock"), "a lock file was made outside the spool")
    check.eq(os.stat(outside).st_mtime, before.st_mtime, "mtime of the file outside the spool")

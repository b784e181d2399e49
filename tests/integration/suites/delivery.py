# SPDX-License-Identifier: GPL-2.0-or-later
"""Mail delivered by real MDAs (procmail; dotlockfile with an fcntl-locked
append) while POP sessions read and delete it: no message lost, duplicated
or torn, and the daemon and the MDAs keep out of each other's way through
the dotlock and the kernel locks."""

import errno
import fcntl
import os
import random
import re
import shutil
import signal
import stat
import subprocess
import threading
import time

from harness import check, mbox, system
from harness.runner import test
from harness.server import owner_ids, password_of

USER = "tp3user1"
SENDER = "sender@example.org"
CLEAN_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"}

# The daemon retries a held lock for about two seconds (MAILBOX_LOCK_WAIT_MS)
# before it answers -ERR [IN-USE].
IN_USE_MIN = 1.5
IN_USE_MAX = 3.5

MSGID_RE = re.compile(rb"^Message-ID: <deliv-([a-z]+)-(\d+)@example\.org>\r?$", re.M)
FROM_RE = re.compile(rb"From [^ \n]+ [^\n]*\n")


# -- messages ----------------------------------------------------------------

def content(kind, n):
    """Message N of an MDA KIND as it enters the MDA, without a From_ line.
    Sizes vary from under to well over 512 bytes; the body has lines that
    need dot-stuffing, but none starting "From " (which MDAs rewrite)."""
    rng = random.Random("%s-%d" % (kind, n))
    out = [b"Return-Path: <%s>" % SENDER.encode(),
           b"From: Sender <%s>" % SENDER.encode(),
           b"To: %s@example.org" % USER.encode(),
           b"Subject: %s delivery %d" % (kind.encode(), n),
           b"Message-ID: <deliv-%s-%d@example.org>" % (kind.encode(), n),
           b"",
           b"BEGIN %s %d" % (kind.encode(), n)]
    for i in range(rng.randint(0, 60)):
        r = rng.random()
        if r < 0.08:
            out.append(b".")
        elif r < 0.16:
            out.append(b"..leading dots %d" % i)
        elif r < 0.22:
            out.append(b"")
        else:
            width = rng.randint(1, 120)
            out.append((b"%s %d line %d " % (kind.encode(), n, i) +
                        b"abcdefghijklmnopqrstuvwxyz0123456789" * 4)[:width])
    out.append(b"END %s %d" % (kind.encode(), n))
    return b"\n".join(out) + b"\n"


def identify(data):
    """(kind, n) from the Message-ID header of DATA, or None."""
    head = data.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    m = MSGID_RE.search(head)
    return (m.group(1).decode(), int(m.group(2))) if m else None


def label(key):
    return "%s-%d" % key


def parse_strict(data):
    """Walk an mbox written by the MDAs: every message a From_ line, the
    exact content the MDA was given, and the blank separator line, with
    nothing in between. Returns ([key, ...], None) or (keys so far, what
    is wrong)."""
    keys = []
    pos = 0
    while pos < len(data):
        m = FROM_RE.match(data, pos)
        if not m:
            return keys, "no From_ line at offset %d: %r" % (pos, data[pos:pos + 80])
        start = m.end()
        key = identify(data[start:start + 4096])
        if key is None:
            return keys, "message at offset %d has no test Message-ID: %r" % (
                pos, data[start:start + 200])
        want = content(*key) + b"\n"
        got = data[start:start + len(want)]
        if got != want:
            return keys, "message %s at offset %d torn or altered: %s" % (
                label(key), pos, check.bytes_diff(got, want))
        keys.append(key)
        pos = start + len(want)
    return keys, None


# -- MDAs ----------------------------------------------------------------------

def as_user(user):
    """subprocess arguments that run a program as USER, as an MDA for
    USER's mailbox would run."""
    uid, gid = owner_ids(user)
    return dict(user=uid, group=gid, extra_groups=[], env=dict(CLEAN_ENV), cwd="/")


def system_mailbox_guard(ctx, user):
    """Debian's procmail is set-uid root and makes sure the user's system
    mailbox exists before it reads its rcfile: remove the empty one it
    creates, and fail when mail went there instead of the test mailbox."""
    path = os.path.join("/var/mail", user)
    if os.path.lexists(path):
        return

    def cleanup():
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return
        if not stat.S_ISREG(st.st_mode):
            raise AssertionError("%s appeared and is not a regular file" % path)
        os.unlink(path)
        if st.st_size:
            raise AssertionError("procmail wrote %d bytes to %s instead of the "
                                 "test mailbox" % (st.st_size, path))
    ctx.defer(cleanup)


def procmail_setup(ctx, srv, user=USER):
    """An rcfile that sends everything to USER's test mailbox, as $DEFAULT:
    procmail then takes DEFAULT.lock (made with link()) and an fcntl lock
    on the mailbox for each delivery. Returns the argv of one delivery."""
    system_mailbox_guard(ctx, user)
    d = ctx.tmpdir("procmail")
    rc = os.path.join(d, "procmailrc")
    with open(rc, "w") as f:
        f.write("SHELL=/bin/sh\n"
                "# retry a busy lock every second, not every eight\n"
                "LOCKSLEEP=1\n"
                "DEFAULT=%s\n" % srv.mbox_path(user))
    os.chmod(rc, 0o644)
    return ["procmail", "-f", SENDER, rc]


# Appends one message read from stdin to the mbox named by argv[1] the way
# a careful MDA does: PATH.lock through dotlockfile (which writes our pid
# into it), then an fcntl write lock, then the From_ line, the message and
# the blank separator line, written in two parts so that a reader ignoring
# the locks could catch the message half written.
APPENDER = r'''
import fcntl, os, subprocess, sys, time

def write_all(fd, data):
    while data:
        data = data[os.write(fd, data):]

path, sender = sys.argv[1], sys.argv[2].encode()
lock = path + ".lock"
data = sys.stdin.buffer.read()
deadline = time.monotonic() + 60
while True:
    r = subprocess.run(["dotlockfile", "-l", "-r", "0", "-p", lock],
                       stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if r.returncode == 0:
        break
    # 4: held by someone else; anything else is an error.
    if r.returncode != 4 or time.monotonic() > deadline:
        sys.stderr.write("dotlockfile -l: status %d: %s\n"
                         % (r.returncode, r.stderr.decode("latin-1")))
        sys.exit(75)
    time.sleep(0.02)
try:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX)
        stamp = time.strftime("%a %b %e %H:%M:%S %Y", time.gmtime()).encode()
        half = len(data) // 2
        write_all(fd, b"From " + sender + b" " + stamp + b"\n" + data[:half])
        time.sleep(0.002)
        write_all(fd, data[half:] + b"\n")
        fcntl.lockf(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
finally:
    subprocess.run(["dotlockfile", "-u", lock], stdin=subprocess.DEVNULL)
'''


def appender_setup(ctx, srv, user=USER):
    d = ctx.tmpdir("appender")
    script = os.path.join(d, "append.py")
    with open(script, "w") as f:
        f.write(APPENDER)
    os.chmod(script, 0o644)
    # The system's python3: the one running the tests may live where the
    # user cannot reach it.
    python = shutil.which("python3", path=CLEAN_ENV["PATH"])
    check.true(python, "no python3 in %s" % CLEAN_ENV["PATH"])
    return [python, "-B", script, srv.mbox_path(user), SENDER]


def deliver(argv, data, user=USER, timeout=90):
    """Run one delivery; (exit status, stderr without procmail's complaint
    that the test account's home does not exist)."""
    r = subprocess.run(argv, input=data, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=timeout, **as_user(user))
    err = b"\n".join(l for l in r.stderr.splitlines() if b"Couldn't chdir" not in l)
    return r.returncode, err.decode("latin-1")


# -- concurrent deliveries and sessions ---------------------------------------

class Ledger:
    """What the MDAs and the sessions did, shared by their threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.abort = threading.Event()
        self.problems = []
        self.delivered = set()
        self.sessions = []          # Session records, QUIT answered +OK
        self.claimed = 0
        self.in_use = 0
        self.deliveries_running = 0

    def problem(self, text):
        with self.lock:
            self.problems.append(text)
        self.abort.set()


class Session:
    def __init__(self, t_pass, t_quit, seen, deleted, uidls, during_delivery):
        self.t_pass = t_pass        # just before PASS was sent
        self.t_quit = t_quit        # just after QUIT was answered +OK
        self.seen = seen            # keys in mailbox order
        self.deleted = deleted      # keys deleted and committed
        self.uidls = uidls          # key -> UIDL
        self.during_delivery = during_delivery


def one_session(srv, ledger, rng, delete_most):
    """Log in, list, retrieve every message, delete some, QUIT. Returns a
    Session, or None when the mailbox was in use."""
    with srv.connect(timeout=30) as c:
        check.startswith(c.greeting, b"+OK", "greeting")
        c.ok("USER " + USER)
        t_pass = time.monotonic()
        r = c.reply("PASS " + password_of(USER), timeout=30)
        if r.startswith(b"-ERR [IN-USE]"):
            return None
        check.startswith(r, b"+OK", "login")
        with ledger.lock:
            during = ledger.deliveries_running > 0
        stat_line = c.ok("STAT").split()
        n, octets = int(stat_line[1]), int(stat_line[2])
        sizes = [int(l.split()[1]) for l in c.ok_body("LIST").split(b"\r\n")[:-1]]
        uidl_lines = [l.split() for l in c.ok_body("UIDL").split(b"\r\n")[:-1]]
        check.eq(len(sizes), n, "LIST lines vs STAT %d" % n)
        check.eq(sum(sizes), octets, "sum of LIST sizes vs STAT octets")
        check.eq(len(uidl_lines), n, "UIDL lines vs STAT %d" % n)
        check.eq(len(set(u[1] for u in uidl_lines)), n, "distinct UIDLs among %d" % n)
        seen = []
        uidls = {}
        for i in range(n):
            body = c.ok_body("RETR %d" % (i + 1))
            key = identify(body)
            if key is None:
                check.fail("RETR %d of %d: not a test message: %r" % (i + 1, n, body[:200]))
            want = mbox.crlf(content(*key))
            # The last message of a file ending in a blank line may be
            # served with that line.
            if not (body == want or (i == n - 1 and body == want + b"\r\n")):
                check.fail("RETR %d of %d (%s) torn or altered: %s"
                           % (i + 1, n, label(key), check.bytes_diff(body, want)))
            check.eq(len(body), sizes[i], "RETR %d length vs LIST size" % (i + 1))
            seen.append(key)
            uidls[key] = uidl_lines[i][1]
        if len(set(seen)) != len(seen):
            dups = sorted(set(k for k in seen if seen.count(k) > 1))
            check.fail("one session lists message(s) twice: %s"
                       % ", ".join(label(k) for k in dups[:10]))
        gone = rng.sample(seen, min(len(seen), rng.randint(0, delete_most)))
        for k in gone:
            c.ok("DELE %d" % (seen.index(k) + 1))
        c.ok("QUIT", timeout=60)
        t_quit = time.monotonic()
    return Session(t_pass, t_quit, seen, gone, uidls, during)


def session_worker(srv, ledger, rng, target, deliveries, deadline, delete_most, pause):
    while not ledger.abort.is_set():
        with ledger.lock:
            # A slot is claimed before the session runs, so that the
            # threads together run exactly TARGET sessions.
            if ledger.claimed >= target:
                return
            slot = ledger.claimed
            ledger.claimed += 1
        # Spread the sessions over the deliveries, however fast the MDA.
        while (len(ledger.delivered) < slot * deliveries // target and ledger.deliveries_running
               and not ledger.abort.is_set() and time.monotonic() < deadline):
            time.sleep(0.01)
        if time.monotonic() > deadline:
            ledger.problem("sessions not done in time: %d of %d" % (len(ledger.sessions), target))
            return
        try:
            s = one_session(srv, ledger, rng, delete_most)
        except Exception as e:
            ledger.problem("session: %s: %s" % (type(e).__name__, e))
            return
        with ledger.lock:
            if s is None:
                ledger.in_use += 1
                ledger.claimed -= 1
            else:
                ledger.sessions.append(s)
        time.sleep(rng.uniform(0, pause))


def delivery_worker(argv, kind, numbers, ledger, rng, deadline, pause):
    for n in numbers:
        if ledger.abort.is_set():
            return
        if time.monotonic() > deadline:
            ledger.problem("deliveries not done in time")
            return
        time.sleep(rng.uniform(0, pause))
        try:
            rc, err = deliver(argv, content(kind, n))
        except Exception as e:
            ledger.problem("delivery %s-%d: %s: %s" % (kind, n, type(e).__name__, e))
            return
        if rc != 0:
            ledger.problem("delivery %s-%d: %s exited %d: %s" % (kind, n, argv[0], rc, err))
            return
        with ledger.lock:
            ledger.delivered.add((kind, n))


def concurrent_run(ctx, srv, argv, kind, mda, deliveries=200, sessions=50,
                   delivery_threads=4, session_threads=2):
    """DELIVERIES messages through ARGV while SESSIONS sessions list,
    retrieve and delete; then account for every message."""
    srv.put_mbox(USER, b"")
    spool_files = os.listdir(srv.spool)
    seed = random.randrange(1 << 30)
    ledger = Ledger()
    t0 = time.monotonic()
    deadline = t0 + 120
    threads = []
    for k in range(delivery_threads):
        nums = list(range(k, deliveries, delivery_threads))
        threads.append(threading.Thread(
            target=delivery_worker,
            args=(argv, kind, nums, ledger, random.Random(seed + k), deadline, 0.08)))
    for k in range(session_threads):
        threads.append(threading.Thread(
            target=session_worker,
            args=(srv, ledger, random.Random(seed + 100 + k), sessions, deliveries,
                  deadline, 6, 0.05)))
    delivery_part = threads[:delivery_threads]

    def watch():
        """Track whether deliveries are still running."""
        for t in delivery_part:
            t.join()
        with ledger.lock:
            ledger.deliveries_running = 0

    ledger.deliveries_running = delivery_threads
    threads.append(threading.Thread(target=watch))
    for t in threads:
        t.daemon = True
        t.start()
    try:
        for t in threads:
            t.join(max(1, deadline + 15 - time.monotonic()))
    finally:
        # Also when the test's time is up: the workers stop soon after.
        if any(t.is_alive() for t in threads):
            ledger.abort.set()
    if any(t.is_alive() for t in threads):
        for t in threads:
            t.join(60)
        check.fail("workers still running after %.0f s (seed %d)" % (time.monotonic() - t0, seed))
    if ledger.problems:
        check.fail("%s (seed %d; %d delivered, %d sessions so far)"
                   % ("; ".join(ledger.problems[:3]), seed, len(ledger.delivered),
                      len(ledger.sessions)))
    elapsed = time.monotonic() - t0

    # -- accounting ----------------------------------------------------------
    delivered = ledger.delivered
    data = srv.read_mbox(USER)
    remaining, bad = parse_strict(data)
    deleted = {}
    double = []
    for s in ledger.sessions:
        for k in s.deleted:
            if k in deleted:
                double.append(k)
            deleted[k] = s
    rem = set(remaining)
    dup_remaining = sorted(set(k for k in remaining if remaining.count(k) > 1))
    resurrected = sorted(rem & set(deleted))
    # Seen by a session that logged in after the deleting session's commit.
    seen_after = []
    for k, s in deleted.items():
        for t in ledger.sessions:
            if t.t_pass > s.t_quit and k in t.seen:
                seen_after.append(k)
                break
    lost = sorted(delivered - rem - set(deleted))
    unknown = sorted((rem | set(deleted)) - delivered)
    uidl_changed = []
    first_uidl = {}
    for s in ledger.sessions:
        for k, u in s.uidls.items():
            if first_uidl.setdefault(k, u) != u:
                uidl_changed.append(k)
    duplicated = len(set(dup_remaining) | set(double) | set(resurrected) | set(seen_after))
    during = sum(1 for s in ledger.sessions if s.during_delivery)
    summary = ("delivered %d, deleted %d, remaining %d, lost %d, duplicated %d; "
               "%d sessions (%d while %s delivered, %d answered IN-USE), %.1f s"
               % (len(delivered), len(deleted), len(remaining), len(lost), duplicated,
                  len(ledger.sessions), during, mda, ledger.in_use,
                  elapsed))
    print("     %s" % summary, flush=True)

    def names(keys):
        return ", ".join(label(k) for k in sorted(set(keys))[:8])

    check.true(bad is None, "mailbox after the run is not a valid mbox: %s [%s]" % (bad, summary))
    check.eq(len(delivered), deliveries, "deliveries that succeeded")
    check.eq(len(ledger.sessions), sessions, "sessions that ran")
    check.true(not lost, "message(s) lost: %s [%s]" % (names(lost), summary))
    check.true(not dup_remaining, "message(s) twice in the mailbox: %s [%s]"
               % (names(dup_remaining), summary))
    check.true(not double, "message(s) deleted by two sessions: %s [%s]" % (names(double), summary))
    check.true(not resurrected, "deleted message(s) still in the mailbox: %s [%s]"
               % (names(resurrected), summary))
    check.true(not seen_after, "deleted message(s) served again later: %s [%s]"
               % (names(seen_after), summary))
    check.true(not unknown, "message(s) that no delivery made: %s" % names(unknown))
    check.true(not uidl_changed, "UIDL of message(s) changed between sessions: %s"
               % names(uidl_changed))
    # Deliveries and sessions must really have overlapped.
    check.true(during >= sessions // 4,
               "only %d of %d sessions ran while mail was being delivered [%s]"
               % (during, sessions, summary))

    # What the daemon serves now is exactly what is on disk.
    with srv.login(USER, timeout=30) as c:
        check.eq(c.ok("STAT").split()[1], b"%d" % len(remaining), "STAT after the run")
        for i, k in enumerate(remaining):
            body = c.ok_body("RETR %d" % (i + 1))
            want = mbox.crlf(content(*k))
            check.true(body == want or (i == len(remaining) - 1 and body == want + b"\r\n"),
                       "RETR %d (%s) after the run: %s" % (i + 1, label(k),
                                                           check.bytes_diff(body, want)))
        c.ok("QUIT")
    check.eq(srv.read_mbox(USER), data, "mailbox after a session that deleted nothing")
    check.true(srv.wait_no_children(10), "sessions still running after the last QUIT")
    leftovers = sorted(set(os.listdir(srv.spool)) - set(spool_files))
    check.true(not leftovers, "files left in the spool: %s" % leftovers)


@test(timeout=180)
def procmail_during_sessions(ctx):
    """200 procmail deliveries while 50 sessions list, retrieve and delete."""
    srv = ctx.server()
    concurrent_run(ctx, srv, procmail_setup(ctx, srv), "procmail", "procmail",
                   delivery_threads=4)


@test(timeout=180)
def dotlockfile_append_during_sessions(ctx):
    """200 appends under dotlockfile and an fcntl lock while 50 sessions
    list, retrieve and delete."""
    srv = ctx.server()
    concurrent_run(ctx, srv, appender_setup(ctx, srv), "dotlock", "dotlockfile")


# -- a mailbox held by an MDA --------------------------------------------------

def timed_login(srv, user=USER, timeout=15):
    """(seconds PASS took, its reply)."""
    with srv.connect(timeout=timeout) as c:
        c.ok("USER " + user)
        t0 = time.monotonic()
        r = c.reply("PASS " + password_of(user), timeout=timeout)
        dt = time.monotonic() - t0
        if r.startswith(b"+OK"):
            c.ok("QUIT")
        return dt, r


def kernel_lock_free(path):
    """True when nobody holds an fcntl lock on PATH (tried, then undone)."""
    fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        if e.errno in (errno.EACCES, errno.EAGAIN):
            return False
        raise
    finally:
        os.close(fd)  # drops the lock if we got it
    return True


def wait_for(cond, timeout, step=0.005):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step)
    return cond()


def reap_later(ctx, proc):
    """Make sure PROC and what it started (dotlockfile's command) are gone
    when the test ends, whatever happened."""
    def cleanup():
        if proc.poll() is None:
            system.kill_and_reap(system.children_of(proc.pid))
            for sig in (signal.SIGCONT, signal.SIGKILL):
                try:
                    os.kill(proc.pid, sig)
                except ProcessLookupError:
                    pass
            proc.wait(10)
    ctx.defer(cleanup)


def procmail_paused(ctx, srv):
    """Start procmail on an empty mailbox and return it once it is mid-
    delivery. Debian's procmail writes the first byte of a message to an
    empty mailbox, then sleeps a second before the rest (so that the
    mailbox's access time ends up before its change time), holding its
    dotlock and its fcntl lock all along."""
    argv = procmail_setup(ctx, srv)
    path = srv.mbox_path(USER)
    for _ in range(3):
        srv.put_mbox(USER, b"")
        # procmail only pauses when, after its first byte, the mailbox's
        # mtime and atime fall in the same second: start early in a second
        # with the atime set to that second.
        wait_for(lambda: time.time() % 1 < 0.3, 1.1, 0.01)
        now = int(time.time())
        os.utime(path, (now, now))
        p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, **as_user(USER))
        reap_later(ctx, p)
        p.stdin.write(content("procmail", 1))
        p.stdin.close()
        if wait_for(lambda: os.path.exists(path + ".lock") and os.path.getsize(path) == 1
                    or p.poll() is not None, 5) and p.poll() is None:
            return p
        check.eq(p.wait(10), 0, "procmail's exit status")
    check.fail("procmail never seen mid-delivery in three deliveries (mailbox %d bytes)"
               % os.path.getsize(path))


@test
def login_waits_for_procmail(ctx):
    """A login while procmail is mid-delivery waits for it and then sees
    the whole message, not the part written so far."""
    srv = ctx.server()
    p = procmail_paused(ctx, srv)
    with srv.connect(timeout=15) as c:
        c.ok("USER " + USER)
        t0 = time.monotonic()
        r = c.reply("PASS " + password_of(USER), timeout=15)
        dt = time.monotonic() - t0
        check.startswith(r, b"+OK", "login during a procmail delivery (after %.2f s)" % dt)
        check.eq(p.wait(10), 0, "procmail's exit status")
        check.eq(c.ok("STAT").split()[1], b"1", "messages after the delivery")
        body = c.ok_body("RETR 1")
        want = mbox.crlf(content("procmail", 1))
        check.true(body in (want, want + b"\r\n"),
                   "message delivered by procmail: %s" % check.bytes_diff(body, want))
        c.ok("QUIT")


@test
def procmail_stopped_mid_delivery_means_in_use(ctx):
    """procmail stopped mid-delivery holds its dotlock and its fcntl lock:
    a login answers -ERR [IN-USE] after the lock wait, leaves the mailbox
    and procmail's lock alone, and works once procmail has finished."""
    srv = ctx.server()
    path = srv.mbox_path(USER)
    p = procmail_paused(ctx, srv)
    os.kill(p.pid, signal.SIGSTOP)
    check.eq(os.path.getsize(path), 1, "mailbox size when procmail was stopped")
    check.true(os.path.exists(path + ".lock"), "procmail holds no %s.lock" % USER)
    check.true(not kernel_lock_free(path), "procmail holds no fcntl lock on the mailbox")
    lock_before = os.stat(path + ".lock")
    dt, r = timed_login(srv)
    check.startswith(r, b"-ERR [IN-USE]", "login while procmail is stopped mid-delivery")
    check.true(IN_USE_MIN <= dt <= IN_USE_MAX,
               "-ERR [IN-USE] after %.2f s, expected after the lock wait of about 2 s" % dt)
    check.eq(os.path.getsize(path), 1, "mailbox size after the refused login")
    after = os.stat(path + ".lock")
    check.eq((after.st_ino, after.st_mtime), (lock_before.st_ino, lock_before.st_mtime),
             "procmail's lock file (inode, mtime) after the refused login")
    os.kill(p.pid, signal.SIGCONT)
    check.eq(p.wait(10), 0, "procmail's exit status")
    check.true(not os.path.exists(path + ".lock"), "procmail's lock file left")
    with srv.login(USER) as c:
        check.eq(c.ok("STAT").split()[1], b"1", "messages once procmail finished")
        want = mbox.crlf(content("procmail", 1))
        body = c.ok_body("RETR 1")
        check.true(body in (want, want + b"\r\n"),
                   "message delivered by procmail: %s" % check.bytes_diff(body, want))
        c.ok("QUIT")


@test
def dotlockfile_holder_means_in_use(ctx):
    """PATH.lock held through dotlockfile (with its pid in it): -ERR
    [IN-USE] after the lock wait, the lock left alone; a lock released
    during the wait lets the login through."""
    srv = ctx.server()
    path = srv.mbox_path(USER)
    lock = path + ".lock"
    before = srv.read_mbox(USER)

    def hold():
        p = subprocess.Popen(["dotlockfile", "-l", "-r", "0", "-p", lock, "sleep", "60"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, **as_user(USER))
        reap_later(ctx, p)
        check.true(wait_for(lambda: os.path.exists(lock) and os.path.getsize(lock) > 0, 5),
                   "dotlockfile made no lock (exit %r)" % p.poll())
        with open(lock) as f:
            check.eq(f.read().strip(), str(p.pid), "pid in the lock file")
        return p

    def release(p):
        for pid in system.children_of(p.pid):  # the sleep: dotlockfile then unlocks
            os.kill(pid, signal.SIGTERM)
        check.eq(p.wait(10), 0, "dotlockfile's exit status")

    p = hold()
    dt, r = timed_login(srv)
    check.startswith(r, b"-ERR [IN-USE]", "login while dotlockfile holds the lock")
    check.true(IN_USE_MIN <= dt <= IN_USE_MAX,
               "-ERR [IN-USE] after %.2f s, expected after the lock wait of about 2 s" % dt)
    with open(lock) as f:
        check.eq(f.read().strip(), str(p.pid), "lock file after the refused login")
    release(p)
    check.true(not os.path.exists(lock), "dotlockfile left its lock")
    dt, r = timed_login(srv)
    check.startswith(r, b"+OK", "login once dotlockfile released the lock")

    # Released half a second into the login's wait.
    p = hold()
    result = {}

    def login():
        try:
            result["r"] = timed_login(srv)
        except Exception as e:
            result["e"] = e
    t = threading.Thread(target=login)
    t.start()
    time.sleep(0.5)
    release(p)
    t.join(20)
    if "e" in result:
        raise result["e"]
    dt, r = result["r"]
    check.startswith(r, b"+OK", "login whose wait saw the lock released after 0.5 s")
    check.true(dt >= 0.4, "login answered +OK after %.2f s although the lock was held" % dt)
    check.eq(srv.read_mbox(USER), before, "mailbox after the sessions")


@test
def kernel_lock_holder_means_in_use(ctx):
    """An MDA that only takes an fcntl lock, or only flock: -ERR [IN-USE]
    after the lock wait, no NAME.lock left behind, login once released."""
    srv = ctx.server()
    path = srv.mbox_path(USER)
    for kind in ("fcntl", "flock"):
        fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW)
        try:
            if kind == "fcntl":
                fcntl.lockf(fd, fcntl.LOCK_EX)
            else:
                fcntl.flock(fd, fcntl.LOCK_EX)
            dt, r = timed_login(srv)
            check.startswith(r, b"-ERR [IN-USE]", "login while an %s lock is held" % kind)
            check.true(IN_USE_MIN <= dt <= IN_USE_MAX,
                       "-ERR [IN-USE] after %.2f s with an %s lock held, expected after "
                       "the lock wait of about 2 s" % (dt, kind))
            check.true(not os.path.exists(path + ".lock"),
                       "NAME.lock left after the refused login (%s lock held)" % kind)
        finally:
            os.close(fd)
        dt, r = timed_login(srv)
        check.startswith(r, b"+OK", "login once the %s lock is released" % kind)


# -- a spool where no dotlock can be made ----------------------------------------

def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def deny_dotlocks(srv):
    """The spool belongs to root and only root may write it: the user can
    read and rewrite the mailbox but make no PATH.lock next to it (as on
    a system spool writable only by group mail, or a user over quota)."""
    os.chown(srv.spool, 0, 0)
    os.chmod(srv.spool, 0o755)


@test
def unwritable_spool_is_temporary_failure(ctx):
    srv = ctx.server()
    deny_dotlocks(srv)
    files = sorted(os.listdir(srv.spool))
    before = srv.read_mbox(USER)
    start = len(srv.log_text())
    dt, r = timed_login(srv)
    check.startswith(r, b"-ERR [SYS/TEMP]", "login when the dotlock cannot be made")
    check.true(dt < IN_USE_MAX, "-ERR [SYS/TEMP] took %.2f s" % dt)
    check.true(srv.wait_log(r"mailspool-no-dotfile-locking", 5, start),
               "no log line naming mailspool-no-dotfile-locking:\n" + srv.log_tail())
    check.eq(srv.read_mbox(USER), before, "mailbox after the refused login")
    check.eq(sorted(os.listdir(srv.spool)), files, "files in the spool after the refused login")


@test
def unwritable_spool_without_dotlocks(ctx):
    """With mailspool-no-dotfile-locking the user logs in, retrieves and
    deletes; the commit works although no file can be made in the spool."""
    srv = ctx.server({"mailspool-no-dotfile-locking": "yes"})
    deny_dotlocks(srv)
    files = sorted(os.listdir(srv.spool))
    data = srv.read_mbox(USER)
    msgs = mbox.split(data)
    dele = (1, 2, 8, len(msgs))
    with srv.login(USER) as c:
        check.eq(c.ok("STAT").split()[1], b"%d" % len(msgs), "STAT")
        for i, m in enumerate(msgs):
            check.eq(c.ok_body("RETR %d" % (i + 1)), m.served, "RETR %d" % (i + 1))
        for i in dele:
            c.ok("DELE %d" % i)
        c.ok("QUIT")
    check.true(srv.wait_no_children(10), "session did not end after QUIT")
    kept = [m for i, m in enumerate(msgs) if i + 1 not in dele]
    check.eq(srv.read_mbox(USER), b"".join(m.raw for m in kept),
             "mailbox after deleting messages %s" % (dele,))
    check.eq(sorted(os.listdir(srv.spool)), files, "files in the spool after the commit")
    with srv.login(USER) as c:
        check.eq(c.ok("STAT").split()[1], b"%d" % len(kept), "STAT in the next session")
        check.eq(c.ok_body("RETR 1"), kept[0].served, "RETR 1 in the next session")
        c.ok("QUIT")


@test
def full_spool_without_dotlocks(ctx):
    """A spool where no file can be made any more (no free inode, as for a
    user at the file quota): the login fails with the hint, and with
    mailspool-no-dotfile-locking the commit works in place."""
    spool = ctx.tmpdir("full")
    # Two inodes: the directory and the mailbox.
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,nr_inodes=2,mode=1777",
                        "tpop3d-full-spool", spool], capture_output=True, text=True)
    check.eq(r.returncode, 0, "mount of a small tmpfs for the spool: %s" % r.stderr.strip())
    ctx.defer(lambda: subprocess.run(["umount", spool], check=True))
    path = os.path.join(spool, USER)
    data = mbox.standard()
    msgs = mbox.split(data)
    with open(path, "wb") as f:
        f.write(data)
    os.chown(path, *owner_ids(USER))
    os.chmod(path, 0o600)
    try:
        with open(os.path.join(spool, "probe"), "w"):
            pass
        check.fail("the spool still has room for a new file")
    except OSError as e:
        check.eq(e.errno, errno.ENOSPC, "errno making a file in the full spool")
    where = {"mailbox": "bsd:%s/$(user)" % spool}

    srv = ctx.server(where)
    dt, r = timed_login(srv)
    check.startswith(r, b"-ERR [SYS/TEMP]", "login when the spool has no room for a dotlock")
    check.true(srv.wait_log(r"mailspool-no-dotfile-locking", 5),
               "no log line naming mailspool-no-dotfile-locking:\n" + srv.log_tail())
    check.eq(read_file(path), data, "mailbox after the refused login")

    srv = ctx.server(dict(where, **{"mailspool-no-dotfile-locking": "yes"}))
    dele = (1, 3, 9)
    with srv.login(USER) as c:
        for i, m in enumerate(msgs):
            check.eq(c.ok_body("RETR %d" % (i + 1)), m.served, "RETR %d" % (i + 1))
        for i in dele:
            c.ok("DELE %d" % i)
        c.ok("QUIT")
    check.true(srv.wait_no_children(10), "session did not end after QUIT")
    kept = [m for i, m in enumerate(msgs) if i + 1 not in dele]
    check.eq(read_file(path), b"".join(m.raw for m in kept),
             "mailbox after deleting messages %s" % (dele,))
    check.eq(os.listdir(spool), [USER], "files in the spool after the commit")

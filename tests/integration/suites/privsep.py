# SPDX-License-Identifier: GPL-2.0-or-later
"""Privilege separation before login: who holds the client's socket, as
which user and in which root, across the login, the handoff and the relay."""

import os
import pwd
import re
import signal
import subprocess
import threading
import time

from harness import check, system
from harness.client import Pop3
from harness.runner import test
from harness.server import FLAT_MAIL_USER, password_of
from suites.sasl import Scram, cram_response, unb64
from suites.tls import Pki, pop3s, start_tls, tls_server, wait_ports


def _conn_inodes(server_port, client_port):
    """Socket inodes of the server's side of one TCP connection."""
    out = []
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            lport = int(fields[1].rsplit(":", 1)[1], 16)
            rport = int(fields[2].rsplit(":", 1)[1], 16)
            if lport == server_port and rport == client_port and fields[9] != "0":
                out.append(fields[9])
    return out


def holders(srv, c, port=None):
    """PIDs of the processes that hold the server side of connection C
    (to PORT, the plain listener by default)."""
    links = {"socket:[%s]" % i
             for i in _conn_inodes(port or srv.port, c.sock.getsockname()[1])}
    pids = []
    for pid in system.all_pids():
        try:
            fds = os.listdir("/proc/%d/fd" % pid)
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink("/proc/%d/fd/%s" % (pid, fd)) in links:
                    pids.append(pid)
                    break
            except OSError:
                pass
    return pids


def wait_holders(srv, c, want, what, timeout=3.0, port=None):
    """The holders once there are WANT of them (a handoff takes a moment)."""
    deadline = time.monotonic() + timeout
    while True:
        pids = holders(srv, c, port)
        if len(pids) == want or time.monotonic() > deadline:
            check.eq(len(pids), want, "processes holding the client socket %s" % what)
            return pids
        time.sleep(0.02)


def ids(pid):
    """(uids, gids): real, effective, saved and filesystem ids of PID."""
    uids = gids = None
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Uid:"):
                uids = [int(x) for x in line.split()[1:]]
            elif line.startswith("Gid:"):
                gids = [int(x) for x in line.split()[1:]]
    return uids, gids


def check_unprivileged(pid, chroot, what):
    uids, gids = ids(pid)
    user = pwd.getpwnam(system.PRIVSEP_USER)
    check.eq(uids, [user.pw_uid] * 4, "uids of the %s" % what)
    check.eq(gids, [user.pw_gid] * 4, "gids of the %s" % what)
    check.eq(os.readlink("/proc/%d/root" % pid), chroot, "root directory of the %s" % what)
    with open("/proc/%d/status" % pid) as f:
        groups = [l for l in f if l.startswith("Groups:")][0].split()[1:]
    check.true("0" not in groups, "the %s is in group 0: %r" % (what, groups))


def chroot_dir(ctx):
    d = ctx.tmpdir("empty")
    os.chmod(d, 0o755)
    return d


@test
def prelogin_runs_unprivileged_in_chroot(ctx):
    empty = chroot_dir(ctx)
    srv = ctx.server({"privsep-directory": empty})
    with srv.connect() as c:
        c.ok("CAPA")
        c.read_body()
        c.ok("USER tp3user1")
        pid = wait_holders(srv, c, 1, "before the login")[0]
        check_unprivileged(pid, empty, "pre-login process")
        check.true(pid != srv.pid, "the listener holds the client socket")
        c.ok("PASS " + password_of("tp3user1"))
        after = wait_holders(srv, c, 1, "after the login")[0]
        check.true(after != pid, "the pre-login process still holds the socket")
        uid = pwd.getpwnam("tp3user1").pw_uid
        uids, gids = ids(after)
        check.eq(uids, [uid] * 4, "uids of the session after the login")
        check.true(0 not in gids, "a gid of the session is 0: %r" % gids)
        check.eq(os.readlink("/proc/%d/root" % after), "/", "root of the session after the login")
        c.ok("STAT")
        c.ok("QUIT")
    m = srv.wait_log(r"session end: user=tp3user1 .* end=QUIT")
    check.true(m, "no session log line with the user:\n" + srv.log_tail())


@test
def pipelined_login_crosses_the_handoff(ctx):
    srv = ctx.server()
    msgs = srv.messages("tp3user1")
    with srv.connect() as c:
        c.send(("CAPA\r\nUSER tp3user1\r\nPASS %s\r\nSTAT\r\nLIST\r\nQUIT\r\n"
                % password_of("tp3user1")).encode())
        check.startswith(c.readline(), b"+OK", "pipelined CAPA")
        c.read_body()
        check.startswith(c.readline(), b"+OK", "pipelined USER")
        check.startswith(c.readline(), b"+OK", "pipelined PASS")
        check.eq(c.readline().split()[:2], [b"+OK", b"%d" % len(msgs)], "pipelined STAT")
        check.startswith(c.readline(), b"+OK", "pipelined LIST")
        check.eq(c.read_body().count(b"\r\n"), len(msgs), "pipelined LIST lines")
        check.startswith(c.readline(), b"+OK", "pipelined QUIT")
        check.true(c.closed_within(3), "connection open after QUIT")


@test
def relay_serves_a_whole_session(ctx):
    empty = chroot_dir(ctx)
    srv = ctx.server({"privsep-relay": "yes", "privsep-directory": empty})
    msgs = srv.messages("tp3user1")
    with srv.connect() as c:
        c.send(("USER tp3user1\r\nPASS %s\r\nSTAT\r\n" % password_of("tp3user1")).encode())
        check.startswith(c.readline(), b"+OK", "USER")
        check.startswith(c.readline(), b"+OK", "PASS")
        check.eq(c.readline().split()[:2], [b"+OK", b"%d" % len(msgs)], "STAT through the relay")
        # The relay keeps the socket, unprivileged and chrooted.
        pid = wait_holders(srv, c, 1, "in a relayed session")[0]
        check_unprivileged(pid, empty, "relay")
        for i, m in enumerate(msgs):
            check.startswith(c.reply("RETR %d" % (i + 1)), b"+OK", "RETR %d" % (i + 1))
            check.eq(c.read_body(), m.served, "RETR %d through the relay" % (i + 1))
        c.ok("DELE 1")
        c.ok("QUIT")
        check.true(c.closed_within(3), "connection open after QUIT")
    left = srv.messages("tp3user1")
    check.eq(len(left), len(msgs) - 1, "messages left after DELE 1 and QUIT")
    check.eq([m.served for m in left], [m.served for m in msgs[1:]], "the messages kept")
    check.true(srv.wait_no_children(5), "session processes left after a relayed QUIT")
    check.true(srv.wait_log(r"session end: user=tp3user1 .* end=QUIT"),
               "no session log line:\n" + srv.log_tail())


@test
def relay_client_drop_ends_the_session(ctx):
    srv = ctx.server({"privsep-relay": "yes"})
    c = srv.login("tp3user1")
    c.ok("STAT")
    c.close()
    check.true(srv.wait_no_children(5), "session processes left after the client dropped")
    check.true(srv.wait_log(r"session end: user=tp3user1 .* end=drop"),
               "no session log line:\n" + srv.log_tail())


@test
def killed_prelogin_does_not_hang_the_monitor(ctx):
    srv = ctx.server()
    with srv.connect() as c:
        pid = wait_holders(srv, c, 1, "before the login")[0]
        os.kill(pid, signal.SIGKILL)
        check.true(c.closed_within(3), "client not disconnected when its pre-login process died")
    check.true(srv.wait_no_children(5), "the monitor outlived its pre-login process")
    check.true(srv.wait_log(r"session end: user=- .* end=error"),
               "no session log line:\n" + srv.log_tail())
    check.true(srv.wait_log(r"pre-login process \d+ killed by signal 9"),
               "the monitor did not report the killed process:\n" + srv.log_tail())
    # The daemon goes on serving.
    with srv.login("tp3user1") as c:
        c.ok("QUIT")


@test
def failed_logins_are_counted_and_delayed_by_the_monitor(ctx):
    srv = ctx.server()
    with srv.connect() as c:
        start = time.monotonic()
        for i in range(3):
            c.ok("USER tp3user1")
            check.startswith(c.reply("PASS wrong-%d" % i), b"-ERR [AUTH]", "bad password %d" % i)
        took = time.monotonic() - start
        check.true(took >= 2.7, "three failures took only %.2fs" % took)
        check.true(c.closed_within(3), "connection open after three failures")
    check.true(srv.wait_log(r"session end: user=- .* end=auth failures"),
               "no session log line:\n" + srv.log_tail())


@test
def sigterm_ends_prelogin_and_relay(ctx):
    srv = ctx.server({"privsep-relay": "yes"})
    waiting = srv.connect()
    relayed = srv.login("tp3user1")
    relayed.ok("STAT")
    srv.signal(signal.SIGTERM)
    check.true(waiting.closed_within(5), "pre-login session open after SIGTERM")
    check.true(relayed.closed_within(5), "relayed session open after SIGTERM")
    waiting.close()
    relayed.close()


def _check_config(ctx, updates):
    srv = ctx.server(updates, start=False)
    p = subprocess.run(srv.command(["-t"]), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=10)
    return p.returncode, p.stdout.decode("latin-1")


@test
def missing_user_or_unsafe_directory_refused(ctx):
    rc, out = _check_config(ctx, {"privsep-user": "tp3-no-such-user"})
    check.eq(rc, 1, "tpop3d -t with a missing privsep-user: %s" % out)
    check.true("privsep-user" in out and "useradd" in out and ":" in out,
               "the message says what and how: %r" % out)
    rc, out = _check_config(ctx, {"privsep-user": "root"})
    check.eq(rc, 1, "tpop3d -t with privsep-user root: %s" % out)
    full = ctx.tmpdir("full")
    os.chmod(full, 0o755)
    with open(os.path.join(full, "x"), "w"):
        pass
    rc, out = _check_config(ctx, {"privsep-directory": full})
    check.eq(rc, 1, "tpop3d -t with a non-empty directory: %s" % out)
    check.true("privsep-directory" in out and "empty" in out, "message: %r" % out)
    open_dir = ctx.tmpdir("open")
    os.chmod(open_dir, 0o777)
    rc, out = _check_config(ctx, {"privsep-directory": open_dir})
    check.eq(rc, 1, "tpop3d -t with a world-writable directory: %s" % out)
    # And the daemon itself does not start.
    srv = ctx.server({"privsep-user": "tp3-no-such-user"}, start=False)
    p = subprocess.run(srv.command(["-d"]), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=10)
    check.eq(p.returncode, 1, "daemon start with a missing privsep-user")
    check.true(b"privsep-user" in p.stdout, "start message: %r" % p.stdout)


@test
def stls_login_crosses_to_the_relay(ctx):
    """STLS and the login happen in the pre-login process; after the login
    it keeps the TLS connection and relays it, still unprivileged and
    chrooted, while the monitor serves the mailbox as the user."""
    pki = Pki(ctx)
    empty = chroot_dir(ctx)
    srv = tls_server(ctx, pki, {"privsep-directory": empty,
                                "tls-required-for-auth": "yes"})
    msgs = srv.messages("tp3user1")
    c = Pop3(srv.stls)
    try:
        pid = wait_holders(srv, c, 1, "before STLS", port=srv.stls)[0]
        check_unprivileged(pid, empty, "pre-login process")
        # The policy holds in the pre-login process: no password yet.
        check.startswith(c.err("USER tp3user1"), b"-ERR [AUTH]", "USER before STLS")
        start_tls(c, pki)
        check.eq(wait_holders(srv, c, 1, "after STLS", port=srv.stls), [pid],
                 "the process holding the socket after STLS")
        c.login("tp3user1", password_of("tp3user1"))
        check.eq(wait_holders(srv, c, 1, "after the login", port=srv.stls), [pid],
                 "the process holding the socket after the login")
        check_unprivileged(pid, empty, "relay")
        uid = pwd.getpwnam("tp3user1").pw_uid
        monitors = [p for p in srv.children() if ids(p)[0] == [uid] * 4]
        check.eq(len(monitors), 1, "session processes running as the user")
        check.eq(ids(pid)[0].count(uid), 0, "the relay runs as the user")
        for i, m in enumerate(msgs):
            check.startswith(c.reply("RETR %d" % (i + 1)), b"+OK", "RETR %d" % (i + 1))
            check.eq(c.read_body(), m.served, "RETR %d over TLS through the relay" % (i + 1))
        c.ok("QUIT")
        check.true(c.closed_within(3), "connection open after QUIT")
    finally:
        c.close()
    check.eq([m.served for m in srv.messages("tp3user1")], [m.served for m in msgs],
             "the mailbox after the session")
    check.true(srv.wait_no_children(5), "session processes left after QUIT")
    check.true(srv.wait_log(r"session end: user=tp3user1 .* end=QUIT"),
               "no session log line:\n" + srv.log_tail())


def _sasl_login(srv, c, mech):
    """Log in to C with MECH as fuser1 (a plaintext secret in the
    flatfile); the status line."""
    user, secret = "fuser1", password_of("fuser1")
    if mech == "CRAM-MD5":
        challenge = unb64(c.reply("AUTH CRAM-MD5"))
        return c.reply(cram_response(challenge, user, secret))
    s = Scram(user, secret)
    c.cmd("AUTH SCRAM-SHA-256 " + s.client_first())
    r = c.reply(s.client_final(unb64(c.readline())), timeout=15)
    if r.startswith(b"-ERR"):
        return r
    s.check_final(unb64(r))
    return c.reply("")


@test
def challenge_response_logins_through_the_monitor(ctx):
    """CRAM-MD5 and SCRAM-SHA-256 are spoken by the pre-login process and
    decided by the monitor, which hands the socket to the user's session."""
    empty = chroot_dir(ctx)
    srv = ctx.server({"privsep-directory": empty})
    uid = pwd.getpwnam(FLAT_MAIL_USER).pw_uid      # the flat-file users' mail user
    for mech in ("CRAM-MD5", "SCRAM-SHA-256"):
        with srv.connect() as c:
            pid = wait_holders(srv, c, 1, "before %s" % mech)[0]
            check_unprivileged(pid, empty, "pre-login process")
            check.startswith(_sasl_login(srv, c, mech), b"+OK", mech)
            after = wait_holders(srv, c, 1, "after %s" % mech)[0]
            check.true(after != pid, "the pre-login process holds the socket after %s" % mech)
            check.eq(ids(after)[0], [uid] * 4, "uids of the session after %s" % mech)
            check.startswith(c.ok("STAT"), b"+OK", "STAT after %s" % mech)
            c.ok("QUIT")
    check.eq(len(re.findall(r"session end: user=fuser1 .* end=QUIT", srv.log_text())), 2,
             "session lines of the two logins:\n" + srv.log_tail())


@test
def scram_signature_refused_ends_before_the_login(ctx):
    """A client that refuses our SCRAM signature never reaches its
    mailbox: the pre-login process ends the session, the monitor logs it."""
    srv = ctx.server()
    with srv.connect() as c:
        s = Scram("fuser1", password_of("fuser1"))
        c.cmd("AUTH SCRAM-SHA-256 " + s.client_first())
        r = c.reply(s.client_final(unb64(c.readline())), timeout=15)
        check.startswith(r, b"+ ", "the server-final continuation")
        check.eq(c.reply("*"), b"-ERR authentication cancelled", "refused signature")
        check.true(c.closed_within(5), "session open after a refused signature")
    check.true(srv.wait_log(r"session end: user=fuser1 .* end=SASL cancelled"),
               "no session log line:\n" + srv.log_tail())
    check.true("opened" not in srv.log_text(), "a mailbox was opened:\n" + srv.log_tail())


@test
def challenges_are_bounded(ctx):
    """The monitor hands out a bounded number of challenges a session."""
    srv = ctx.server()
    with srv.connect() as c:
        for i in range(64):
            r = c.reply("AUTH CRAM-MD5")
            check.startswith(r, b"+ ", "challenge %d" % (i + 1))
            check.eq(c.reply("*"), b"-ERR authentication cancelled", "cancel %d" % (i + 1))
        check.startswith(c.err("AUTH SCRAM-SHA-256 " + Scram("fuser1", "x").client_first()),
                         b"-ERR [SYS/TEMP]", "the 65th exchange")
        # Passwords still go through.
        c.ok("USER fuser1")
        c.ok("PASS " + password_of("fuser1"))
        c.ok("QUIT")


@test(timeout=40)
def relayed_session_ends_despite_a_hanging_onlogin_action(ctx):
    """The onlogin actions run in a process forked from the monitor; on a
    relayed session it must not keep the channel to the relay open, or the
    client's connection would outlive its QUIT until the action stops."""
    from suites.onlogin import OtherSetup, timed_login
    s = OtherSetup(ctx, mode="hang", config={"privsep-relay": "yes",
                                              "onlogin-timeout": "4"})
    dt, r, c = timed_login(s.srv, "fuser1", "Flat-secret-1")
    check.startswith(r, b"+OK", "PASS with a hanging action")
    check.true(s.wait_requests(1), "the program got no ONLOGIN request")
    c.ok("STAT")
    c.cmd("QUIT")
    check.startswith(c.readline(), b"+OK", "QUIT")
    t0 = time.monotonic()
    check.true(c.closed_within(2), "relayed connection open %.1f s after QUIT"
               % (time.monotonic() - t0))
    c.close()
    check.true(s.srv.wait_log(r"onlogin: driver other: user fuser1: still running after "
                              r"4\.0 s \(onlogin-timeout\); stopped it", 6),
               "overrun not logged:\n" + s.srv.log_tail())


# -- the sandbox (privsep-sandbox) ---------------------------------------------

def _drain(fd, path):
    """Copy what the daemon writes on FD into its log file until every
    holder of the pipe's other end has gone."""
    with open(path, "ab", buffering=0) as out:
        while True:
            data = os.read(fd, 65536)
            if not data:
                break
            out.write(data)
    os.close(fd)


def start_on_pipe(srv):
    """Start SRV with its stdout and stderr on a pipe, as under a service
    manager, rather than on a file: the pre-login process then gets the
    whole set of limits (a log file on stderr keeps RLIMIT_FSIZE open)."""
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"}
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if k in os.environ:
            env[k] = os.environ[k]
    env.update(srv.env)
    srv.log = open(srv.logpath, "ab")
    r, w = os.pipe()
    srv.proc = subprocess.Popen(srv.command(), stdin=subprocess.DEVNULL, stdout=w,
                                stderr=w, env=env, cwd=srv.root, start_new_session=True)
    os.close(w)
    srv.pgrp = srv.proc.pid
    threading.Thread(target=_drain, args=(r, srv.logpath), daemon=True).start()
    srv.wait_listening()
    return srv


def status_field(pid, name):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(name + ":"):
                return line.split()[1]
    return None


def limits(pid):
    """{name: (soft, hard)} from /proc/PID/limits."""
    out = {}
    with open("/proc/%d/limits" % pid) as f:
        for line in f.read().splitlines()[1:]:
            out[line[:26].strip()] = tuple(line[26:].split()[:2])
    return out


def check_sandboxed(pid, what, file_size="0"):
    check.eq(status_field(pid, "Seccomp"), "2", "Seccomp of the %s" % what)
    check.eq(status_field(pid, "NoNewPrivs"), "1", "NoNewPrivs of the %s" % what)
    lim = limits(pid)
    check.eq(lim["Max processes"], ("0", "0"), "RLIMIT_NPROC of the %s" % what)
    check.eq(lim["Max file size"], (file_size, file_size), "RLIMIT_FSIZE of the %s" % what)
    check.eq(lim["Max core file size"], ("0", "0"), "RLIMIT_CORE of the %s" % what)
    # Just above the highest descriptor it held when it was confined.
    top = max(int(fd) for fd in os.listdir("/proc/%d/fd" % pid))
    check.eq(lim["Max open files"], (str(top + 1),) * 2, "RLIMIT_NOFILE of the %s" % what)


def retr_all(c, msgs, what):
    for i, m in enumerate(msgs):
        check.startswith(c.reply("RETR %d" % (i + 1)), b"+OK", "RETR %d %s" % (i + 1, what))
        check.eq(c.read_body(), m.served, "RETR %d %s" % (i + 1, what))


@test
def prelogin_is_sandboxed(ctx):
    """The pre-login process runs under the system-call filter and the
    resource limits, and a whole session through it still works."""
    srv = start_on_pipe(ctx.server(start=False))
    msgs = srv.messages("tp3user1")
    with srv.connect() as c:
        c.ok("CAPA")
        c.read_body()
        pid = wait_holders(srv, c, 1, "before the login")[0]
        check_sandboxed(pid, "pre-login process")
        c.ok("USER tp3user1")
        check.startswith(c.err("PASS wrong"), b"-ERR", "a wrong password")
        c.login("tp3user1", password_of("tp3user1"))
        after = wait_holders(srv, c, 1, "after the login")[0]
        check.eq(status_field(after, "Seccomp"), "0", "Seccomp of the session after the login")
        retr_all(c, msgs, "after a sandboxed login")
        c.ok("QUIT")
    check.true(srv.wait_log(r"session end: user=tp3user1 .* end=QUIT"),
               "no session log line:\n" + srv.log_tail())
    check.true(not srv.wait_log(r"system-call filter", timeout=0.2),
               "a filter kill:\n" + srv.log_tail())


@test
def sandbox_off_leaves_prelogin_unfiltered(ctx):
    srv = start_on_pipe(ctx.server({"privsep-sandbox": "no"}, start=False))
    with srv.connect() as c:
        pid = wait_holders(srv, c, 1, "before the login")[0]
        check.eq(status_field(pid, "Seccomp"), "0", "Seccomp with privsep-sandbox: no")
        check.true(limits(pid)["Max processes"] != ("0", "0"),
                   "RLIMIT_NPROC 0 with privsep-sandbox: no")
        c.login("tp3user1", password_of("tp3user1"))
        c.ok("STAT")
        c.ok("QUIT")


@test
def log_file_on_stderr_keeps_file_size_open(ctx):
    """Started with its log on a file (tpop3d -d > file), the pre-login
    process may still write that log; every other limit holds."""
    srv = ctx.server()
    with srv.connect() as c:
        pid = wait_holders(srv, c, 1, "before the login")[0]
        check_sandboxed(pid, "pre-login process", file_size="unlimited")
        c.ok("QUIT")


@test
def sandboxed_tls_sessions(ctx):
    """STLS and POP3S: the handshake, the login and the relay all happen
    under the filter."""
    pki = Pki(ctx)
    srv = tls_server(ctx, pki, start=False)
    start_on_pipe(srv)
    wait_ports(srv)
    msgs = srv.messages("tp3user1")
    with pop3s(srv, pki) as c:
        check.startswith(c.greeting, b"+OK", "POP3S greeting")
        pid = wait_holders(srv, c, 1, "after the POP3S handshake", port=srv.pop3s)[0]
        check_sandboxed(pid, "pre-login process under POP3S")
        c.login("tp3user1", password_of("tp3user1"))
        check.eq(wait_holders(srv, c, 1, "after the login", port=srv.pop3s), [pid],
                 "the relay after the POP3S login")
        check.eq(status_field(pid, "Seccomp"), "2", "Seccomp of the relay")
        retr_all(c, msgs, "over POP3S")
        c.ok("QUIT")
        check.true(c.closed_within(3), "connection open after QUIT")
    c = Pop3(srv.stls)
    try:
        pid = wait_holders(srv, c, 1, "before STLS", port=srv.stls)[0]
        start_tls(c, pki)
        check_sandboxed(pid, "pre-login process after STLS")
        c.login("tp3user1", password_of("tp3user1"))
        retr_all(c, msgs, "after STLS")
        c.ok("QUIT")
        check.true(c.closed_within(3), "connection open after QUIT")
    finally:
        c.close()
    check.true(srv.wait_log(r"session end: user=tp3user1 .* end=QUIT"),
               "no session log line:\n" + srv.log_tail())
    check.true(not srv.wait_log(r"system-call filter", timeout=0.2),
               "a filter kill:\n" + srv.log_tail())


@test
def sandboxed_kernel_tls(ctx):
    """With tls-kernel-offload, OpenSSL's calls that hand the connection to
    kernel TLS are allowed (whether this kernel has it or not), and the
    session works under the filter."""
    pki = Pki(ctx)
    srv = tls_server(ctx, pki, {"tls-kernel-offload": "yes"}, start=False)
    start_on_pipe(srv)
    wait_ports(srv)
    msgs = srv.messages("tp3user1")
    with pop3s(srv, pki) as c:
        check.startswith(c.greeting, b"+OK", "POP3S greeting with kernel TLS asked for")
        pid = wait_holders(srv, c, 1, "after the POP3S handshake", port=srv.pop3s)[0]
        check_sandboxed(pid, "pre-login process with kernel TLS asked for")
        c.login("tp3user1", password_of("tp3user1"))
        retr_all(c, msgs, "over POP3S with kernel TLS asked for")
        c.ok("QUIT")
        check.true(c.closed_within(3), "connection open after QUIT")
    check.true(srv.wait_log(r"session end: user=tp3user1 .* end=QUIT"),
               "no session log line:\n" + srv.log_tail())
    check.true(not srv.wait_log(r"system-call filter", timeout=0.2),
               "a filter kill:\n" + srv.log_tail())


@test
def filter_kill_is_logged_and_closes_the_connection(ctx):
    """A pre-login process that dies of SIGSYS (what the filter does to a
    forbidden call; sent by hand here) is named in the monitor's log, and
    the client's connection just closes."""
    srv = start_on_pipe(ctx.server(start=False))
    with srv.connect() as c:
        c.ok("USER tp3user1")
        pid = wait_holders(srv, c, 1, "before the login")[0]
        os.kill(pid, signal.SIGSYS)
        check.true(c.closed_within(3), "connection open after the pre-login process died")
    check.true(srv.wait_log(r"pre-login process for 127\.0\.0\.1 killed by the "
                            r"system-call filter"),
               "no log line naming the filter:\n" + srv.log_tail())
    check.true(srv.wait_no_children(5), "session processes left")

# SPDX-License-Identifier: GPL-2.0-or-later
"""The command line: -h, -t, -p, and running detached."""

import os
import re
import signal
import subprocess
import time

from harness import check, system
from harness.runner import test
from harness.server import listening


def run(ctx, args, timeout=20):
    return subprocess.run([ctx.binary] + args, stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=timeout)


@test
def help_lists_drivers(ctx):
    r = run(ctx, ["-h"])
    out = (r.stdout + r.stderr).decode("latin-1")
    for word in ("-f", "-t", "passwd", "flatfile", "bsd"):
        check.true(word in out, "tpop3d -h does not mention %r:\n%s" % (word, out[:1500]))


@test
def check_good_config(ctx):
    srv = ctx.server(start=False)
    r = run(ctx, ["-t", "-f", srv.conf])
    err = r.stderr.decode("latin-1")
    check.eq(r.returncode, 0, "exit status of -t on a good config (stderr: %s)" % err[:500])
    check.true(re.search(r"configuration\b.*\bOK", err),
               "-t says nothing like 'configuration OK': %r" % err[:500])


BAD_VALUES = [
    ("max-children", "lots"),
    ("max-children", "0"),
    ("timeout-seconds", "-5"),
    ("auth-passwd-enable", "maybe"),
    ("listen-address", "127.0.0.1:99999"),
    ("log-facility", "nosuchfacility"),
]


@test
def check_bad_config(ctx):
    srv = ctx.server(start=False)
    original = open(srv.conf).read().splitlines()
    problems = []
    for key, value in BAD_VALUES:
        good = [l for l in original if not l.startswith(key + ":")]
        # The bad line goes third, after the comment and one good line.
        lines = good[:2] + ["%s: %s" % (key, value)] + good[2:]
        srv.write_config(text="\n".join(lines) + "\n")
        r = run(ctx, ["-t", "-f", srv.conf])
        err = r.stderr.decode("latin-1")
        if r.returncode == 0:
            problems.append("%s: %s accepted (status 0)" % (key, value))
        elif not re.search(r"tpop3d\.conf:3\b", err):
            problems.append("%s: %s: stderr lacks tpop3d.conf:3: %r" % (key, value, err[:300]))
    check.true(not problems, "; ".join(problems))


@test
def check_unknown_directive_warns(ctx):
    srv = ctx.server(start=False)
    text = open(srv.conf).read().splitlines()
    text.insert(1, "no-such-directive: 1")
    srv.write_config(text="\n".join(text) + "\n")
    r = run(ctx, ["-t", "-f", srv.conf])
    err = r.stderr.decode("latin-1")
    check.true(re.search(r"tpop3d\.conf:2\b", err) and "no-such-directive" in err,
               "unknown directive not reported with file:line: %r" % err[:500])


@test
def check_missing_config(ctx):
    path = os.path.join(ctx.tmpdir(), "absent.conf")
    r = run(ctx, ["-t", "-f", path])
    check.true(r.returncode != 0, "-t on a missing file exited 0")
    check.true("absent.conf" in r.stderr.decode("latin-1"),
               "error does not name the file: %r" % r.stderr[:300])


@test
def daemon_refuses_bad_config(ctx):
    srv = ctx.server(start=False)
    srv.write_config({"max-children": "lots"})
    r = subprocess.run(srv.command(), stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=20, start_new_session=True)
    check.true(r.returncode != 0, "daemon started on a bad config (status 0)")
    check.true(re.search(r"tpop3d\.conf:\d+", r.stderr.decode("latin-1")),
               "no file:line in the error: %r" % r.stderr[:300])
    check.true(not listening(srv.port), "something listens on the port of a refused config")


@test
def pidfile_written_and_removed(ctx):
    srv = ctx.server()
    with open(srv.pidfile) as f:
        check.eq(f.read().strip(), str(srv.pid), "pid file contents")
    srv.signal(signal.SIGTERM)
    srv.proc.wait(10)
    check.true(not os.path.exists(srv.pidfile), "pid file left after SIGTERM")


@test
def detached_daemon(ctx):
    """Without -d the daemon goes to the background; the command returns."""
    srv = ctx.server(start=False)
    cmd = [ctx.binary, "-f", srv.conf, "-p", srv.pidfile]
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
    check.eq(r.returncode, 0, "status of the detaching command (stderr %r)" % r.stderr[:300])
    # start-stop-daemon and systemd (Type=forking) read the pid file as
    # soon as the command returns.
    early = os.path.exists(srv.pidfile)
    pid = None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not (pid and listening(srv.port)):
        try:
            pid = int(open(srv.pidfile).read().strip())
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    check.true(pid, "no pid file from the detached daemon")

    def kill():
        if system.proc_stat(pid):
            system.kill_and_reap([pid] + system.group_members(pid))
    ctx.defer(kill)
    check.true(listening(srv.port), "detached daemon is not listening")
    with srv.login("tp3user1") as c:
        c.ok("STAT")
        c.ok("QUIT")
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and system.proc_stat(pid) and \
            system.proc_stat(pid)[0] != "Z":
        time.sleep(0.05)
    kill()
    check.true(not listening(srv.port), "still listening after SIGTERM")
    check.true(early, "the pid file did not exist yet when the detaching command returned")


@test
def world_readable_config_warns(ctx):
    """The config may hold database passwords: a mode that lets every local
    user read it deserves a warning."""
    srv = ctx.server(start=False)
    os.chmod(srv.conf, 0o644)
    r = run(ctx, ["-t", "-f", srv.conf])
    # The path itself (it names this test) must not count as the warning.
    err = r.stderr.decode("latin-1").replace(srv.conf, "CONFIG")
    check.true(re.search(r"(?i)warn[^\n]*CONFIG[^\n]*(readable|accessible|other users)", err),
               "no warning about a world-readable config from -t: %r" % err[:300])

# SPDX-License-Identifier: GPL-2.0-or-later
"""etc/tpop3d.init driving the built daemon: start, status, reload,
restart, stop, and refusing a broken config."""

import os
import shutil
import subprocess
import time

from harness import check, system
from harness.runner import test
from harness.server import listening


def init(ctx, srv, action):
    script = os.path.join(ctx.srcdir, "etc", "tpop3d.init")
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C",
           "DAEMON": ctx.binary, "CONFIG": srv.conf, "PIDFILE": srv.pidfile,
           "DEFAULTS": os.path.join(srv.root, "no-defaults")}
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):
        if k in os.environ:
            env[k] = os.environ[k]
    r = subprocess.run(["sh", script, action], stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=60, env=env)
    return r.returncode, (r.stdout + r.stderr).decode("latin-1")


def daemon_pid(srv, wait=5.0):
    """The pid in the pid file, waiting up to WAIT seconds for it (whether
    it is there at once is cli.detached_daemon's business)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            with open(srv.pidfile) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            if time.monotonic() > deadline:
                return None
        time.sleep(0.05)


def wait_listening(srv, want=True, timeout=10):
    deadline = time.monotonic() + timeout
    while listening(srv.port) != want:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@test(timeout=120)
def init_script_cycle(ctx):
    if not shutil.which("start-stop-daemon"):
        check.fail("start-stop-daemon is missing (package dpkg)")
    srv = ctx.server(start=False)
    pids = set()

    def cleanup():
        for pid in pids:
            if system.proc_stat(pid):
                system.kill_and_reap([pid] + system.group_members(pid))
    ctx.defer(cleanup)

    rc, out = init(ctx, srv, "status")
    check.eq(rc, 3, "status before start (output %r)" % out)
    rc, out = init(ctx, srv, "start")
    check.eq(rc, 0, "start (output %r)" % out)
    pid = daemon_pid(srv)
    check.true(pid, "no pid file after start")
    pids.add(pid)
    check.true(wait_listening(srv), "not listening after start")
    rc, out = init(ctx, srv, "status")
    check.eq(rc, 0, "status while running (output %r)" % out)
    rc, out = init(ctx, srv, "start")
    check.eq(rc, 0, "start while running (output %r)" % out)
    check.eq(daemon_pid(srv), pid, "a second start replaced the daemon")

    with srv.login("tp3user1") as c:
        c.ok("STAT")
        rc, out = init(ctx, srv, "reload")
        check.eq(rc, 0, "reload (output %r)" % out)
        c.ok("STAT")
        c.ok("QUIT")
    check.eq(daemon_pid(srv), pid, "reload replaced the daemon")

    good = open(srv.conf).read()
    srv.write_config(text=good + "max-children: lots\n")
    rc, out = init(ctx, srv, "reload")
    check.true(rc != 0, "reload accepted a broken config")
    check.true("tpop3d.conf:" in out, "refusal does not say where: %r" % out)
    rc, out = init(ctx, srv, "restart")
    check.true(rc != 0, "restart accepted a broken config")
    check.eq(daemon_pid(srv), pid, "refused restart touched the daemon")
    check.true(listening(srv.port), "refused restart stopped the daemon")
    srv.write_config(text=good)

    rc, out = init(ctx, srv, "restart")
    check.eq(rc, 0, "restart (output %r)" % out)
    new = daemon_pid(srv)
    check.true(new and new != pid, "restart kept the old daemon")
    pids.add(new)
    check.true(wait_listening(srv), "not listening after restart")
    rc, out = init(ctx, srv, "stop")
    check.eq(rc, 0, "stop (output %r)" % out)
    check.true(wait_listening(srv, False), "still listening after stop")
    rc, out = init(ctx, srv, "status")
    check.eq(rc, 3, "status after stop (output %r)" % out)
    rc, out = init(ctx, srv, "stop")
    check.eq(rc, 0, "stop when stopped (output %r)" % out)

    srv.write_config(text=good + "timeout-seconds: never\n")
    rc, out = init(ctx, srv, "start")
    check.true(rc != 0, "start accepted a broken config")
    check.true(not wait_listening(srv, True, 1), "started on a broken config")

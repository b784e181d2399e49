# SPDX-License-Identifier: GPL-2.0-or-later
"""Test registry and runner: one line per test, then "N passed, N failed"."""

import os
import re
import shutil
import signal
import tempfile
import time
import traceback

from . import system
from .server import Server, DaemonError

REGISTRY = []
DEFAULT_TIMEOUT = 60


class TestTimeout(AssertionError):
    pass


def test(fn=None, *, timeout=DEFAULT_TIMEOUT):
    """Register a test function taking a Context."""
    def reg(f):
        mod = f.__module__.rsplit(".", 1)[-1]
        REGISTRY.append(("%s.%s" % (mod, f.__name__), f, timeout))
        return f
    return reg(fn) if fn else reg


def register(name, fn, timeout=DEFAULT_TIMEOUT):
    REGISTRY.append((name, fn, timeout))


class Context:
    """What one test gets: its binary, a scratch directory, and servers
    that are stopped (and checked) when the test ends."""

    def __init__(self, binary, srcdir, workdir):
        self.binary = binary
        self.srcdir = srcdir
        self.workdir = workdir
        self.servers = []
        self.cleanups = []
        self._n = 0

    def tmpdir(self, name="d"):
        self._n += 1
        path = os.path.join(self.workdir, "%s%d" % (name, self._n))
        os.makedirs(path)
        os.chmod(path, 0o755)
        return path

    def server(self, config=None, start=True, extra=(), env=None):
        """A fresh spool and config (the defaults plus CONFIG; a value of
        None removes a directive) and, unless START is false, the daemon
        running on it."""
        srv = Server(self.binary, self.tmpdir("srv"), config=config, env=env)
        self.servers.append(srv)
        if start:
            srv.start(extra=extra)
        return srv

    def defer(self, fn):
        self.cleanups.append(fn)

    def finish(self):
        """Stop everything; return the problems found while doing so."""
        problems = []
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception as e:  # keep cleaning up
                problems.append("cleanup: %s" % e)
        for srv in self.servers:
            for complaint in srv.stop():
                problems.append(complaint)
            problems.extend(srv.log_problems())
        live = {s.proc.pid for s in self.servers if s.proc}
        stray = system.stray_children(live)
        if stray:
            problems.append("stray processes: " + ", ".join(
                "%d (%s)" % (p, system.cmdline(p)) for p in stray))
            system.kill_and_reap(stray)
        return problems


def _alarm(signum, frame):
    raise TestTimeout("test did not finish in time")


def run(binary, srcdir, pattern=None, keep=False, verbose=False, preflight=None):
    tests = [t for t in REGISTRY if not pattern or re.search(pattern, t[0])]
    passed = failed = 0
    base = tempfile.mkdtemp(prefix="tpop3d-it.")
    os.chmod(base, 0o755)
    signal.signal(signal.SIGALRM, _alarm)
    blocked = None
    if preflight:
        blocked = preflight(Context(binary, srcdir, os.path.join(base, "preflight")))
        if blocked:
            print("The daemon under test does not work; every test below fails:\n  "
                  + blocked.replace("\n", "\n  "), flush=True)
    for name, fn, limit in tests:
        if blocked:
            print("FAIL %s: not run, the daemon does not start" % name, flush=True)
            failed += 1
            continue
        work = os.path.join(base, name)
        os.makedirs(work)
        os.chmod(work, 0o755)
        ctx = Context(binary, srcdir, work)
        t0 = time.monotonic()
        err = None
        signal.alarm(limit)
        try:
            fn(ctx)
        except Exception as e:
            err = e
        finally:
            signal.alarm(0)
        try:
            problems = ctx.finish()
        except Exception as e:
            problems = ["cleanup failed: %r" % e]
        dt = time.monotonic() - t0
        if err is None and not problems:
            passed += 1
            print("PASS %s (%.1fs)" % (name, dt), flush=True)
            if not keep:
                shutil.rmtree(work, ignore_errors=True)
            continue
        failed += 1
        why = describe(err) if err else problems.pop(0)
        print("FAIL %s (%.1fs): %s" % (name, dt, why), flush=True)
        for p in problems:
            print("     also: " + p.replace("\n", "\n     "), flush=True)
        if verbose and err is not None and not isinstance(err, (AssertionError, DaemonError)):
            traceback.print_exception(type(err), err, err.__traceback__)
        for srv in ctx.servers:
            if err is not None and not isinstance(err, DaemonError):
                print("     daemon log (%s), last lines:\n       %s"
                      % (srv.logpath, srv.log_tail(15).replace("\n", "\n       ")),
                      flush=True)
    if not keep and failed == 0:
        shutil.rmtree(base, ignore_errors=True)
    elif failed:
        print("scratch files kept in %s" % base)
    print("%d passed, %d failed" % (passed, failed), flush=True)
    return failed == 0


def describe(e):
    """The failure and the line of the test that raised it."""
    where = ""
    for fr in reversed(traceback.extract_tb(e.__traceback__)):
        if "/suites/" in fr.filename:
            where = " [%s:%d]" % (os.path.basename(fr.filename), fr.lineno)
            break
    if isinstance(e, (AssertionError, DaemonError)):
        return (str(e) or type(e).__name__) + where
    return "%s: %s%s" % (type(e).__name__, e, where)

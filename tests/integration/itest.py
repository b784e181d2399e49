#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Run the integration tests against one tpop3d binary (as root)."""

import argparse
import importlib
import os
import sys

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from harness import runner, system  # noqa: E402
from harness.server import DaemonError  # noqa: E402

# In the order they run: cheap checks first.
SUITES = ["cli", "transcripts", "session", "clients", "mailbox", "robustness",
          "limits", "signals", "initscript", "delivery", "auth_pam",
          "auth_gdbm", "auth_other", "auth_mysql", "authcache", "domains",
          "onlogin", "relay", "bulletin", "tls", "sasl", "privsep", "bigmbox"]


def preflight(ctx):
    """None when the daemon starts and greets, else why not."""
    os.makedirs(ctx.workdir)
    try:
        srv = ctx.server()
        with srv.connect() as c:
            if not c.greeting.startswith(b"+OK"):
                return "greeting is not +OK: %r" % c.greeting
    except DaemonError as e:
        return str(e)
    except Exception as e:
        return "%s: %s" % (type(e).__name__, e)
    finally:
        problems = ctx.finish()
        if problems:
            print("preflight: " + "; ".join(problems), flush=True)
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("binary", nargs="?", help="path of the tpop3d binary under test")
    ap.add_argument("-k", dest="pattern", help="run only tests whose name matches this regex")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directories")
    ap.add_argument("-v", dest="verbose", action="store_true", help="tracebacks on errors")
    ap.add_argument("--list", action="store_true", help="list the tests and exit")
    args = ap.parse_args()

    for name in SUITES:
        importlib.import_module("suites." + name)
    if args.list:
        for name, _, _ in runner.REGISTRY:
            print(name)
        return 0

    if not args.binary:
        ap.error("the path of the daemon binary is required")
    binary = os.path.abspath(args.binary)
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        print("no executable daemon at %s" % binary)
        print("0 passed, 1 failed")
        return 1
    try:
        system.require_root()
        main.lock = system.take_run_lock()  # held until the process exits
        system.become_subreaper()
        created = system.ensure_users()
    except (system.SetupError, OSError) as e:
        print("set-up failed: %s" % e)
        print("0 passed, 1 failed")
        return 1
    try:
        ok = runner.run(binary, os.path.dirname(os.path.dirname(HERE)),
                        pattern=args.pattern, keep=args.keep,
                        verbose=args.verbose, preflight=preflight)
    finally:
        if os.environ.get("TPOP3D_IT_KEEP_USERS") != "1":
            system.remove_users(created)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

# SPDX-License-Identifier: GPL-2.0-or-later
"""POP-before-SMTP relay grants: logins over IPv4 and IPv6 recorded with
their client address and user, expiry, the export and its rebuild command,
tpop3d-relay, and Exim reading the export in host-checking mode."""

import os
import re
import shutil
import subprocess
import time

from harness import check
from harness.client import Pop3
from harness.runner import test
from harness.server import listening, password_of

EXIM = shutil.which("exim4") or "/usr/sbin/exim4"
# Seconds: long enough to see a grant right after the login, short enough
# to wait out in a test.
SHORT_LIFETIME = 2
GRANT_WAIT = 8.0


def relay_tool(ctx):
    """tpop3d-relay of the build under test (tools/ beside src/)."""
    return os.path.join(os.path.dirname(os.path.dirname(ctx.binary)),
                        "tools", "tpop3d-relay")


def run_tool(ctx, srv, *args, timeout=20):
    r = subprocess.run([relay_tool(ctx), "-f", srv.conf] + list(args),
                       stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=timeout, env=tool_env())
    return r.returncode, r.stdout.decode("latin-1"), r.stderr.decode("latin-1")


def tool_env():
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"}
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if k in os.environ:
            env[k] = os.environ[k]
    return env


def grants(ctx, srv):
    """{address: user} of the live grants, by tpop3d-relay list."""
    rc, out, err = run_tool(ctx, srv, "list")
    check.eq(rc, 0, "tpop3d-relay list exit status (stderr: %s)" % err[:300])
    found = {}
    for line in out.splitlines():
        m = re.fullmatch(r"(\S+) (\S+) (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)", line)
        check.true(m, "tpop3d-relay list line not 'address user time': %r" % line)
        found[m.group(1)] = m.group(2)
    return found


def wait_grants(ctx, srv, want):
    """Wait (bounded) until the live grants include WANT; return them all."""
    deadline = time.monotonic() + GRANT_WAIT
    while True:
        got = grants(ctx, srv)
        if all(got.get(a) == u for a, u in want.items()):
            return got
        if time.monotonic() > deadline:
            check.fail("relay grants %r after %.0fs, expected %r; log:\n%s"
                       % (got, GRANT_WAIT, want, srv.log_tail(10)))
        time.sleep(0.05)


def login_from(srv, host, user):
    with Pop3(srv.port, host=host) as c:
        check.startswith(c.greeting, b"+OK", "greeting over %s" % host)
        c.login(user, password_of(user))
        c.ok("STAT")
        c.ok("QUIT")


def relay_server(ctx, lifetime=1800, extra=None, ipv6=False):
    d = ctx.tmpdir("relay")
    conf = {
        "relay-grant-enable": "yes",
        "relay-grant-database": os.path.join(d, "db", "relay.db"),
        "relay-grant-lifetime": str(lifetime),
        "onlogin-child-wait": "yes",
    }
    if extra:
        conf.update(extra(d))
    srv = ctx.server(config=conf, start=False)
    if ipv6:
        srv.write_config({"listen-address": "127.0.0.1:%d [::1]:%d"
                          % (srv.port, srv.port)})
    srv.start()
    # start() waits for the IPv4 listener only.
    deadline = time.monotonic() + 10
    while ipv6 and not listening(srv.port, "::1"):
        check.true(time.monotonic() < deadline, "not listening on [::1]:%d" % srv.port)
        time.sleep(0.02)
    return srv, d


def recorder(d):
    """A rebuild command that appends its arguments, one per line, and its
    environment to files in D."""
    script = os.path.join(d, "rebuild.sh")
    with open(script, "w") as f:
        f.write("#!/bin/sh\n"
                "{ echo \"$0\"; for a in \"$@\"; do echo \"$a\"; done; echo --; } >> %s/argv\n"
                "env > %s/env\n" % (d, d))
    os.chmod(script, 0o755)
    return script


def read(path):
    with open(path) as f:
        return f.read()


@test
def grants_ipv4_and_ipv6(ctx):
    srv, d = relay_server(ctx, ipv6=True, extra=lambda d: {
        "relay-grant-export": os.path.join(d, "map"),
        "relay-grant-export-format": "%i %u",
        "relay-grant-export-command": "%s first 'second word'" % recorder(d),
    })
    login_from(srv, "127.0.0.1", "tp3user1")
    wait_grants(ctx, srv, {"127.0.0.1": "tp3user1"})
    login_from(srv, "::1", "fuser1")
    got = wait_grants(ctx, srv, {"::1": "fuser1"})
    check.eq(got, {"127.0.0.1": "tp3user1", "::1": "fuser1"}, "live grants")
    check.eq(read(os.path.join(d, "map")), "127.0.0.1 tp3user1\n::1 fuser1\n",
             "export after two logins")
    st = os.stat(os.path.join(d, "db", "relay.db"))
    check.eq((st.st_uid, st.st_mode & 0o7777), (0, 0o600), "database owner and mode")
    # The rebuild command ran after each change, without a shell between.
    argv = read(os.path.join(d, "argv"))
    one = "%s\nfirst\n'second\nword'\n--\n" % os.path.join(d, "rebuild.sh")
    check.eq(argv, one * 2, "arguments of the rebuild command")
    env = read(os.path.join(d, "env"))
    check.true("PATH=/usr/sbin:/usr/bin:/sbin:/bin" in env and "LANG=" not in env,
               "rebuild command environment not clean: %r" % env[:300])
    # A renewal that leaves the map unchanged does not run it again.
    login_from(srv, "127.0.0.1", "tp3user1")
    wait_grants(ctx, srv, {"127.0.0.1": "tp3user1"})
    check.eq(read(os.path.join(d, "argv")), one * 2, "command after a renewal")


@test
def failing_command_is_logged(ctx):
    srv, d = relay_server(ctx, extra=lambda d: {
        "relay-grant-export": os.path.join(d, "map"),
        "relay-grant-export-command": "/bin/false",
    })
    login_from(srv, "127.0.0.1", "tp3user1")
    wait_grants(ctx, srv, {"127.0.0.1": "tp3user1"})
    m = srv.wait_log(r"relay-grant.*tp3user1.*/bin/false exited with status 1")
    check.true(m, "no log line for the failed rebuild command; log:\n%s" % srv.log_tail(10))
    check.eq(read(os.path.join(d, "map")), "127.0.0.1 OK\n", "export despite the failure")


@test
def expiry_and_tool(ctx):
    srv, d = relay_server(ctx, lifetime=SHORT_LIFETIME, extra=lambda d: {
        "relay-grant-export": os.path.join(d, "map"),
        "relay-grant-export-format": "%i OK",
    })
    login_from(srv, "127.0.0.1", "tp3user2")
    wait_grants(ctx, srv, {"127.0.0.1": "tp3user2"})
    check.eq(read(os.path.join(d, "map")), "127.0.0.1 OK\n", "export after the login")
    time.sleep(SHORT_LIFETIME + 0.2)
    check.eq(grants(ctx, srv), {}, "grants after the lifetime")
    # list leaves the map alone; export rewrites it.
    check.eq(read(os.path.join(d, "map")), "127.0.0.1 OK\n", "export before tpop3d-relay export")
    rc, out, err = run_tool(ctx, srv, "export")
    check.eq((rc, out, err), (0, "", ""), "tpop3d-relay export")
    check.eq(read(os.path.join(d, "map")), "", "export after expiry")
    rc, out, err = run_tool(ctx, srv, "-v", "expire")
    check.eq((rc, out, err), (0, "0 expired grants removed\n", ""),
             "tpop3d-relay expire after export pruned")
    # expire alone prunes too.
    login_from(srv, "127.0.0.1", "tp3user2")
    wait_grants(ctx, srv, {"127.0.0.1": "tp3user2"})
    time.sleep(SHORT_LIFETIME + 0.2)
    rc, out, err = run_tool(ctx, srv, "-v", "expire")
    check.eq((rc, out, err), (0, "1 expired grant removed\n", ""), "tpop3d-relay expire")


@test
def tool_errors(ctx):
    srv = ctx.server(start=False)
    tool = relay_tool(ctx)
    r = subprocess.run([tool, "-f", srv.conf, "frobnicate"], capture_output=True,
                       timeout=20, env=tool_env())
    check.eq(r.returncode, 2, "exit status for an unknown command")
    r = subprocess.run([tool, "-f", srv.conf], capture_output=True, timeout=20,
                       env=tool_env())
    check.eq(r.returncode, 2, "exit status without a command")
    # export needs relay-grant-export.
    srv.write_config({"relay-grant-database": os.path.join(srv.root, "relay.db")})
    rc, out, err = run_tool(ctx, srv, "export")
    check.eq(rc, 1, "exit status of export without relay-grant-export")
    check.true("relay-grant-export: is not set" in err, "message: %r" % err)
    # A bad format is refused by tpop3d -t and tpop3d-relay, with its line.
    srv.write_config({"relay-grant-export": os.path.join(srv.root, "map"),
                      "relay-grant-export-format": "%i %q"})
    lines = read(srv.conf).splitlines()
    lineno = 1 + next(i for i, l in enumerate(lines)
                      if l.startswith("relay-grant-export-format:"))
    want = "%s:%d: relay-grant-export-format: unknown escape %%q" % (srv.conf, lineno)
    for argv in ([ctx.binary, "-t", "-f", srv.conf], [tool, "-f", srv.conf, "list"]):
        r = subprocess.run(argv, capture_output=True, timeout=20, env=tool_env())
        err = r.stderr.decode("latin-1")
        check.eq(r.returncode, 1, "exit status of %s on a bad format" % argv[0])
        check.true(want in err, "%s: expected %r in %r" % (argv[0], want, err[:500]))
    # A syntax error in the file: file:line, as tpop3d -t says it.
    srv.write_config(text="relay-grant-lifetime: soon\n")
    rc, out, err = run_tool(ctx, srv, "list")
    check.eq(rc, 1, "exit status on a malformed value")
    check.true(err.startswith("tpop3d-relay: %s:1: " % srv.conf),
               "message on a malformed value: %r" % err)


# -- Exim, in host-checking mode (-bh: an SMTP dialogue on stdin, no daemon) --

EXIM_CONF = """\
primary_hostname = tpop3d-test.example
spool_directory = {d}/spool
log_file_path = {d}/log/%slog
domainlist local_domains = local.example
acl_smtp_rcpt = acl_check_rcpt
begin acl
acl_check_rcpt:
  accept domains = +local_domains
  accept hosts = net-iplsearch;{map}
  deny message = relaying not permitted
begin routers
begin transports
"""

DIALOGUE = (b"EHLO client.example\r\nMAIL FROM:<someone@client.example>\r\n"
            b"RCPT TO:<friend@elsewhere.example>\r\nQUIT\r\n")


def exim_rcpt(d, address):
    """Exim's reply to the relayed RCPT from ADDRESS."""
    r = subprocess.run([EXIM, "-C", os.path.join(d, "exim.conf"), "-bh", address],
                       input=DIALOGUE, capture_output=True, timeout=20,
                       env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"})
    out = r.stdout.decode("latin-1")
    replies = [l for l in out.splitlines() if re.match(r"\d{3}[ -]", l)]
    rcpt = [l for l in replies if l.startswith(("250 Accepted", "550"))]
    check.true(rcpt, "no reply to RCPT from exim -bh %s: %s %s"
               % (address, out[-800:], r.stderr.decode("latin-1")[-300:]))
    return rcpt[0]


@test
def exim_reads_the_export(ctx):
    if not os.access(EXIM, os.X_OK):
        check.fail("exim4 not installed (package exim4-daemon-light)")
    srv, d = relay_server(ctx, lifetime=SHORT_LIFETIME + 1, ipv6=True, extra=lambda d: {
        "relay-grant-export": os.path.join(d, "map"),
        # Exim's lsearch keys end at a colon unless quoted: IPv6 needs it.
        "relay-grant-export-format": '"%i" %u',
    })
    os.makedirs(os.path.join(d, "spool"))
    os.makedirs(os.path.join(d, "log"))
    with open(os.path.join(d, "exim.conf"), "w") as f:
        f.write(EXIM_CONF.format(d=d, map=os.path.join(d, "map")))
    os.chmod(os.path.join(d, "exim.conf"), 0o644)
    with open(os.path.join(d, "map"), "w") as f:
        pass
    check.startswith(exim_rcpt(d, "127.0.0.1"), "550", "relay before any login")
    login_from(srv, "127.0.0.1", "tp3user1")
    login_from(srv, "::1", "tp3user2")
    wait_grants(ctx, srv, {"127.0.0.1": "tp3user1", "::1": "tp3user2"})
    check.eq(read(os.path.join(d, "map")), '"127.0.0.1" tp3user1\n"::1" tp3user2\n',
             "export for Exim")
    check.startswith(exim_rcpt(d, "127.0.0.1"), "250", "relay from the granted 127.0.0.1")
    check.startswith(exim_rcpt(d, "::1"), "250", "relay from the granted ::1")
    check.startswith(exim_rcpt(d, "127.0.0.2"), "550", "relay from another address")
    check.startswith(exim_rcpt(d, "::2"), "550", "relay from another IPv6 address")
    time.sleep(SHORT_LIFETIME + 1.2)
    rc, out, err = run_tool(ctx, srv, "export")
    check.eq((rc, err), (0, ""), "tpop3d-relay export after expiry")
    check.startswith(exim_rcpt(d, "127.0.0.1"), "550", "relay after expiry and export")
    check.startswith(exim_rcpt(d, "::1"), "550", "IPv6 relay after expiry and export")

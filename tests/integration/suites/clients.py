# SPDX-License-Identifier: GPL-2.0-or-later
"""Real clients: Python's poplib (APOP), curl and fetchmail."""

import os
import poplib
import subprocess

from harness import check
from harness.runner import test
from harness.server import password_of


@test
def poplib_apop(ctx):
    srv = ctx.server()
    msgs = srv.messages("fuser1")
    p = poplib.POP3("127.0.0.1", srv.port, timeout=20)
    try:
        check.true(p.timestamp is not None, "poplib found no APOP timestamp")
        p.apop("fuser1", password_of("fuser1"))
        check.eq(p.stat(), (len(msgs), sum(m.size for m in msgs)), "stat() after APOP")
        _, lines, _ = p.retr(3)
        check.eq(b"".join(l + b"\r\n" for l in lines), msgs[2].served, "retr(3) after APOP")
        p.quit()
    finally:
        p.close()


def curl(url, timeout=30):
    r = subprocess.run(["curl", "--silent", "--show-error", "--max-time", str(timeout),
                        "--noproxy", "*", url],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout + 10)
    if r.returncode != 0:
        check.fail("curl %s: status %d: %s" % (url.split("@")[-1], r.returncode,
                                               r.stderr.decode("latin-1").strip()))
    return r.stdout


@test
def curl_apop_list_and_retr(ctx):
    """The greeting offers APOP, so curl authenticates with APOP."""
    srv = ctx.server()
    msgs = srv.messages("fuser1")
    base = "pop3://fuser1:%s@127.0.0.1:%d/" % (password_of("fuser1"), srv.port)
    check.eq(curl(base), b"".join(b"%d %d\r\n" % (i + 1, m.size) for i, m in enumerate(msgs)),
             "curl LIST")
    for n in (1, 3, 4, 8):
        check.eq(curl(base + str(n)), msgs[n - 1].served, "curl RETR %d" % n)


@test
def curl_user_pass(ctx):
    """No APOP in the greeting: curl falls back to USER/PASS."""
    srv = ctx.server({"auth-flatfile-enable": "no"})
    msgs = srv.messages("tp3user1")
    base = "pop3://tp3user1:%s@127.0.0.1:%d/" % (password_of("tp3user1"), srv.port)
    check.eq(curl(base), b"".join(b"%d %d\r\n" % (i + 1, m.size) for i, m in enumerate(msgs)),
             "curl LIST")
    for n in (1, 2, 3, 5, 8, 11):
        check.eq(curl(base + str(n)), msgs[n - 1].served, "curl RETR %d" % n)


def fetchmail(ctx, srv, user, keep, outdir, port=None, options='sslproto ""', timeout=120):
    """Run fetchmail once against SRV (PORT, by default its plain port) for
    USER, delivering into OUTDIR; OPTIONS are its TLS options. Returns the
    exit status and the output."""
    home = ctx.tmpdir("fmhome")
    os.chmod(home, 0o700)
    rc = os.path.join(home, "fetchmailrc")
    with open(rc, "w") as f:
        f.write('set no bouncemail\n'
                'set no syslog\n'
                'poll 127.0.0.1 service %d protocol pop3 auth password timeout 30\n'
                '  user "%s" there with password "%s" is "root" here\n'
                '  options fetchall %s no rewrite stripcr %s\n'
                '  mda "/bin/sh -c \'cat > %s/msg.$$\'"\n'
                % (port or srv.port, user, password_of(user), "keep" if keep else "nokeep",
                   options, outdir))
    os.chmod(rc, 0o600)
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": home, "FETCHMAILHOME": home,
           "LANG": "C"}
    r = subprocess.run(["fetchmail", "--nodetach", "--nosyslog", "-f", rc,
                        "--idfile", os.path.join(home, "ids"), "--pidfile",
                        os.path.join(home, "pid"), "--invisible"],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, env=env)
    return r.returncode, (r.stdout + r.stderr).decode("latin-1")


def delivered(outdir):
    out = []
    for name in os.listdir(outdir):
        with open(os.path.join(outdir, name), "rb") as f:
            out.append(f.read())
    return out


@test(timeout=150)
def fetchmail_fetches_and_deletes(ctx):
    srv = ctx.server()
    msgs = srv.messages("tp3user1")
    out = ctx.tmpdir("fetched")
    status, text = fetchmail(ctx, srv, "tp3user1", False, out)
    check.eq(status, 0, "fetchmail status (output: %s)" % text[-800:])
    got = sorted(delivered(out))
    # fetchmail hands the MDA the message with LF line ends.
    want = sorted(m.served.replace(b"\r\n", b"\n") for m in msgs)
    check.eq(len(got), len(want), "messages delivered by fetchmail")
    for g, w in zip(got, want):
        check.eq(g, w, "a message delivered by fetchmail")
    check.eq(srv.read_mbox("tp3user1"), b"", "mailbox after fetchmail with nokeep")
    out2 = ctx.tmpdir("fetched")
    status, text = fetchmail(ctx, srv, "tp3user1", False, out2)
    check.eq(status, 1, "fetchmail status on an empty mailbox (1: no mail); output: %s"
             % text[-500:])


@test(timeout=150)
def fetchmail_keep(ctx):
    srv = ctx.server()
    before = srv.read_mbox("tp3user2")
    out = ctx.tmpdir("fetched")
    status, text = fetchmail(ctx, srv, "tp3user2", True, out)
    check.eq(status, 0, "fetchmail status (output: %s)" % text[-800:])
    check.eq(len(delivered(out)), len(srv.messages("tp3user2")), "messages fetched with keep")
    check.eq(srv.read_mbox("tp3user2"), before, "mailbox after fetchmail with keep")

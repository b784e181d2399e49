# SPDX-License-Identifier: GPL-2.0-or-later
"""AUTH (RFC 5034) with PLAIN, LOGIN, CRAM-MD5 and SCRAM-SHA-256: the
exchanges byte by byte, a SCRAM client that checks the server's signature,
and the real clients curl and mpop. The flat-file user fuser1 has a
{plaintext} secret, so every mechanism works for it; fuser2's is a crypt
hash, which only PLAIN and LOGIN can check."""

import base64
import hashlib
import hmac
import os
import re
import shutil
import subprocess

from harness import check
from harness.client import Pop3
from harness.runner import test
from harness.server import password_of
from suites.tls import Pki, start_tls, tls_server

USER = "fuser1"
SECRET = password_of(USER)
FULL = b"SASL PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256"


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode()


def unb64(line):
    """The octets of a "+ base64" continuation line."""
    check.true(line.startswith(b"+ ") or line == b"+",
               "expected a continuation, got %r" % line)
    return base64.b64decode(line[2:], validate=True)


def capa(c):
    c.ok("CAPA")
    return c.read_body().split(b"\r\n")


def plain(user, password, authzid=""):
    return b64("%s\0%s\0%s" % (authzid, user, password))


def logged_in(c, what):
    """After a +OK for AUTH: the mailbox is open and STAT works."""
    r = c.ok("STAT")
    check.true(re.match(rb"^\+OK \d+ \d+$", r), "%s: STAT says %r" % (what, r))
    c.ok("QUIT")


def cram_response(challenge, user, secret):
    digest = hmac.new(secret.encode(), challenge, hashlib.md5).hexdigest()
    return b64("%s %s" % (user, digest))


class Scram:
    """The client side of SCRAM-SHA-256 (RFC 5802, RFC 7677)."""

    def __init__(self, user, password, gs2="n,,", nonce="cl13ntN0nce+/x"):
        self.user = user
        self.password = password
        self.gs2 = gs2
        self.cnonce = nonce
        self.first_bare = "n=%s,r=%s" % (user.replace("=", "=3D").replace(",", "=2C"),
                                         nonce)

    def client_first(self):
        return b64(self.gs2 + self.first_bare)

    def client_final(self, server_first, nonce=None, cbind=None):
        """The final message for SERVER_FIRST (bytes); NONCE and CBIND
        replace the right values to test refusals."""
        attrs = dict(kv.split("=", 1) for kv in server_first.decode().split(","))
        check.true(attrs["r"].startswith(self.cnonce) and len(attrs["r"]) > len(self.cnonce),
                   "server nonce %r does not extend ours" % attrs["r"])
        check.eq(attrs["i"], "4096", "iteration count")
        salt = base64.b64decode(attrs["s"], validate=True)
        check.true(len(salt) >= 16, "salt of %d octets" % len(salt))
        self.salt = salt
        without_proof = "c=%s,r=%s" % (cbind or b64(self.gs2), nonce or attrs["r"])
        auth_message = ",".join([self.first_bare, server_first.decode(), without_proof])
        salted = hashlib.pbkdf2_hmac("sha256", self.password.encode(), salt, 4096)
        client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
        stored_key = hashlib.sha256(client_key).digest()
        client_sig = hmac.new(stored_key, auth_message.encode(), hashlib.sha256).digest()
        proof = bytes(a ^ b for a, b in zip(client_key, client_sig))
        server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
        self.server_signature = hmac.new(server_key, auth_message.encode(),
                                         hashlib.sha256).digest()
        return b64(without_proof + ",p=" + b64(proof))

    def check_final(self, server_final):
        check.eq(server_final, b"v=" + b64(self.server_signature).encode(),
                 "the server's SCRAM signature")


def scram_login(c, user, password, initial=True, gs2="n,,"):
    """Run SCRAM-SHA-256 on C; the final status line. On success the
    server's signature has been checked."""
    s = Scram(user, password, gs2=gs2)
    if initial:
        c.cmd("AUTH SCRAM-SHA-256 " + s.client_first())
    else:
        check.eq(c.reply("AUTH SCRAM-SHA-256"), b"+ ", "empty challenge")
        c.cmd(s.client_first())
    server_first = unb64(c.readline())
    r = c.reply(s.client_final(server_first), timeout=15)
    if r.startswith(b"-ERR"):
        return r
    s.check_final(unb64(r))
    return c.reply("")


@test
def capa_and_listing(ctx):
    """CAPA and bare AUTH list what is usable now: everything with a
    plaintext secret store; no CRAM-MD5 or SCRAM with the passwd driver
    alone; no PLAIN or LOGIN under apop-only."""
    srv = ctx.server()
    with srv.connect() as c:
        check.true(FULL in capa(c), "CAPA lacks %r" % FULL)
        c.ok("AUTH")
        check.eq(c.read_body(), b"PLAIN\r\nLOGIN\r\nCRAM-MD5\r\nSCRAM-SHA-256\r\n",
                 "bare AUTH")
        r = c.err("AUTH DIGEST-MD5")
        check.eq(r, b"-ERR unknown SASL mechanism", "unknown mechanism")
        c.err("AUTH X")
        c.ok("QUIT")

    srv2 = ctx.server({"auth-flatfile-enable": "no"})
    with srv2.connect() as c:
        check.true(b"SASL PLAIN LOGIN" in capa(c), "CAPA without a plaintext store")
        c.ok("AUTH")
        check.eq(c.read_body(), b"PLAIN\r\nLOGIN\r\n", "bare AUTH, passwd only")
        check.startswith(c.err("AUTH CRAM-MD5"),
                         b"-ERR SASL mechanism CRAM-MD5 is not available", "CRAM-MD5")
        c.err("AUTH SCRAM-SHA-256 " + Scram("tp3user1", "x").client_first())
        c.ok("AUTH PLAIN " + plain("tp3user1", password_of("tp3user1")))
        logged_in(c, "PLAIN for a passwd user")

    srv3 = ctx.server({"apop-only": "yes"})
    with srv3.connect() as c:
        lines = capa(c)
        check.true(b"SASL CRAM-MD5 SCRAM-SHA-256" in lines, "CAPA under apop-only: %r"
                   % lines)
        check.startswith(c.err("AUTH PLAIN " + plain(USER, SECRET)),
                         b"-ERR [AUTH] SASL mechanism PLAIN is not available", "PLAIN")
        c.err("AUTH LOGIN")
        check.startswith(scram_login(c, USER, SECRET), b"+OK", "SCRAM under apop-only")
        logged_in(c, "SCRAM under apop-only")


@test
def tls_policy(ctx):
    """tls-required-for-auth: yes on a listener without TLS: PLAIN, LOGIN
    and CRAM-MD5 (a sniffed exchange can be guessed offline, as APOP's) are
    neither listed nor accepted; SCRAM-SHA-256 is. Under TLS all are."""
    srv = ctx.server({"tls-required-for-auth": "yes"})
    with srv.connect() as c:
        lines = capa(c)
        check.true(b"SASL SCRAM-SHA-256" in lines, "CAPA without TLS: %r" % lines)
        check.true(not any(b"CRAM-MD5" in l for l in lines),
                   "CAPA without TLS lists CRAM-MD5: %r" % lines)
        c.ok("AUTH")
        check.eq(c.read_body(), b"SCRAM-SHA-256\r\n", "bare AUTH without TLS")
        for cmd in ("AUTH PLAIN " + plain(USER, SECRET), "AUTH LOGIN", "AUTH CRAM-MD5",
                    "AUTH cram-md5"):
            check.eq(c.err(cmd), b"-ERR [AUTH] password logins need TLS: use the POP3S port",
                     cmd[:13] + " without TLS")
        check.startswith(scram_login(c, USER, SECRET), b"+OK", "SCRAM without TLS")
        logged_in(c, "SCRAM without TLS")

    pki = Pki(ctx)
    srv2 = tls_server(ctx, pki, {"tls-required-for-auth": "yes"})
    with Pop3(srv2.stls) as c:
        check.eq(c.err("AUTH CRAM-MD5"),
                 b"-ERR [AUTH] password logins need TLS first: use STLS",
                 "CRAM-MD5 before STLS")
        start_tls(c, pki)
        lines = capa(c)
        check.true(FULL in lines, "CAPA under TLS: %r" % lines)
        challenge = unb64(c.reply("AUTH CRAM-MD5"))
        check.startswith(c.reply(cram_response(challenge, USER, SECRET)), b"+OK",
                         "CRAM-MD5 under TLS")
        logged_in(c, "CRAM-MD5 under TLS")


@test
def plain_exchanges(ctx):
    srv = ctx.server()
    # Initial response; the mechanism name in any case.
    with srv.connect() as c:
        check.startswith(c.reply("AUTH plain " + plain(USER, SECRET)), b"+OK", "PLAIN")
        logged_in(c, "PLAIN")
    # Continuation, with authzid = authcid; a crypt-hashed user.
    with srv.connect() as c:
        check.eq(c.reply("AUTH PLAIN"), b"+ ", "PLAIN's empty challenge")
        check.startswith(c.reply(plain(USER, SECRET, authzid=USER)), b"+OK",
                         "PLAIN by continuation")
        logged_in(c, "PLAIN by continuation")
    with srv.connect() as c:
        check.startswith(c.reply("AUTH PLAIN " + plain("fuser2", password_of("fuser2"))),
                         b"+OK", "PLAIN for a hashed password")
        logged_in(c, "PLAIN, hashed")
    with srv.connect() as c:
        # Acting as someone else is refused before any check.
        check.eq(c.err("AUTH PLAIN " + plain(USER, SECRET, authzid="fuser2")),
                 b"-ERR authorization identity must be empty or the user name",
                 "PLAIN with another authzid")
        # "=" is an empty initial response, which is no PLAIN message.
        check.eq(c.err("AUTH PLAIN ="), b"-ERR malformed PLAIN message", "AUTH PLAIN =")
        check.eq(c.err("AUTH PLAIN " + b64("\0" + USER + "\0")),
                 b"-ERR empty user name or password", "empty password")
        check.eq(c.err("AUTH PLAIN " + plain(USER, "wrong-secret")),
                 b"-ERR [AUTH] authentication failed", "wrong password")
        check.startswith(c.reply("AUTH PLAIN " + plain(USER, SECRET)), b"+OK",
                         "PLAIN after a failure")
        logged_in(c, "PLAIN after a failure")
    log = srv.log_text()
    check.true(re.search(r"login failed: [^\n]*fuser1[^\n]*wrong password", log),
               "failure not logged")
    for leak in (plain(USER, SECRET), plain(USER, "wrong-secret"), "wrong-secret"):
        check.true(leak not in log, "the log holds %r" % leak)


@test
def login_exchanges(ctx):
    srv = ctx.server()
    with srv.connect() as c:
        check.eq(unb64(c.reply("AUTH LOGIN")), b"Username:", "first LOGIN prompt")
        check.eq(unb64(c.reply(b64(USER))), b"Password:", "second LOGIN prompt")
        check.startswith(c.reply(b64(SECRET)), b"+OK", "LOGIN")
        logged_in(c, "LOGIN")
    # The user name as initial response, as some clients send it.
    with srv.connect() as c:
        check.eq(unb64(c.reply("AUTH LOGIN " + b64(USER))), b"Password:", "LOGIN with IR")
        check.eq(c.reply(b64("wrong-secret")), b"-ERR [AUTH] authentication failed",
                 "LOGIN, wrong password")
        c.reply("AUTH LOGIN " + b64(USER))
        check.eq(c.reply(""), b"-ERR empty or malformed LOGIN response", "empty password")
        c.reply("AUTH LOGIN " + b64(USER))
        check.startswith(c.reply(b64(SECRET)), b"+OK", "LOGIN after a failure")
        logged_in(c, "LOGIN after a failure")


@test
def cram_md5_exchanges(ctx):
    srv = ctx.server()
    with srv.connect() as c:
        challenge = unb64(c.reply("AUTH CRAM-MD5"))
        check.true(re.match(rb"^<[0-9a-f]{16}\.\d+@[^<>@]+>$", challenge),
                   "challenge %r" % challenge)
        check.startswith(c.reply(cram_response(challenge, USER, SECRET)), b"+OK",
                         "CRAM-MD5")
        logged_in(c, "CRAM-MD5")
    with srv.connect() as c:
        check.eq(c.err("AUTH CRAM-MD5 " + b64("x")),
                 b"-ERR CRAM-MD5 takes no initial response", "CRAM-MD5 with IR")
        challenge = unb64(c.reply("AUTH CRAM-MD5"))
        check.eq(c.reply(cram_response(challenge, USER, "wrong-secret")),
                 b"-ERR [AUTH] authentication failed", "CRAM-MD5, wrong secret")
        # A hashed password cannot answer a challenge.
        challenge = unb64(c.reply("AUTH CRAM-MD5"))
        check.eq(c.reply(cram_response(challenge, "fuser2", password_of("fuser2"))),
                 b"-ERR [AUTH] authentication failed", "CRAM-MD5, hashed password")
        # A replayed answer to an old challenge is no good: the third
        # failure ends the session.
        c.cmd("AUTH CRAM-MD5")
        c.readline()
        r = c.reply(cram_response(challenge, USER, SECRET))
        check.eq(r, b"-ERR [AUTH] authentication failed", "replayed CRAM-MD5")
        check.true(c.closed_within(5), "session open after three failures")
    log = srv.log_text()
    check.true("wrong CRAM-MD5 digest" in log, "CRAM-MD5 failure not logged")
    check.true("no plaintext password for CRAM-MD5" in log, "hashed-user refusal not logged")


@test
def scram_exchanges(ctx):
    srv = ctx.server()
    with srv.connect() as c:
        check.startswith(scram_login(c, USER, SECRET), b"+OK", "SCRAM with IR")
        logged_in(c, "SCRAM with IR")
    with srv.connect() as c:
        check.startswith(scram_login(c, USER, SECRET, initial=False, gs2="y,,"), b"+OK",
                         "SCRAM by continuation, y flag")
        logged_in(c, "SCRAM by continuation")
    with srv.connect() as c:
        s = Scram(USER, SECRET, gs2="n,a=%s," % USER)
        first = unb64(c.reply("AUTH SCRAM-SHA-256 " + s.client_first()))
        r = c.reply(s.client_final(first))
        s.check_final(unb64(r))
        check.startswith(c.reply(""), b"+OK", "SCRAM with authzid = user")
        logged_in(c, "SCRAM with authzid")
    with srv.connect() as c:
        check.eq(c.err("AUTH SCRAM-SHA-256 " + b64("p=tls-unique,,n=fuser1,r=abc")),
                 b"-ERR channel binding is not supported", "SCRAM p=")
        check.eq(c.err("AUTH SCRAM-SHA-256 " + b64("n,a=fuser2,n=fuser1,r=abc")),
                 b"-ERR authorization identity must be the user name", "SCRAM a=other")
        check.eq(c.err("AUTH SCRAM-SHA-256 " + b64("n,,m=x,n=fuser1,r=abc")),
                 b"-ERR mandatory SCRAM extensions are not supported", "SCRAM m=")
        s = Scram(USER, SECRET)
        first = unb64(c.reply("AUTH SCRAM-SHA-256 " + s.client_first()))
        check.eq(c.reply(s.client_final(first, nonce=s.cnonce + "forged")),
                 b"-ERR wrong SCRAM nonce", "SCRAM wrong nonce")
        first = unb64(c.reply("AUTH SCRAM-SHA-256 " + s.client_first()))
        check.eq(c.reply(s.client_final(first, cbind=b64("y,,"))),
                 b"-ERR SCRAM channel binding does not match", "SCRAM c= mismatch")
        first = unb64(c.reply("AUTH SCRAM-SHA-256 " + s.client_first()))
        check.eq(c.reply(b64("c=biws,r=" + first.decode().split(",")[0][2:])),
                 b"-ERR SCRAM proof missing", "SCRAM without proof")
        check.eq(scram_login(c, USER, "wrong-secret"), b"-ERR [AUTH] authentication failed",
                 "SCRAM wrong password")
        check.startswith(scram_login(c, USER, SECRET), b"+OK", "SCRAM after failures")
        logged_in(c, "SCRAM after failures")
    # A client that does not accept our signature ends the session.
    with srv.connect() as c:
        s = Scram(USER, SECRET)
        first = unb64(c.reply("AUTH SCRAM-SHA-256 " + s.client_first()))
        s.check_final(unb64(c.reply(s.client_final(first))))
        check.eq(c.reply("*"), b"-ERR authentication cancelled", "refused signature")
        check.true(c.closed_within(5), "session open after a refused signature")
    check.true("wrong SCRAM-SHA-256 proof" in srv.log_text(), "SCRAM failure not logged")


@test
def cancel_and_malformed(ctx):
    srv = ctx.server()
    with srv.connect() as c:
        for mech in ("PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-256"):
            c.reply("AUTH " + mech)
            check.eq(c.reply("*"), b"-ERR authentication cancelled", "cancel " + mech)
        c.reply("AUTH LOGIN " + b64(USER))
        check.eq(c.reply("*"), b"-ERR authentication cancelled", "cancel at LOGIN's password")
        for bad in ("AHRpbQB0YW5zdGFhZg", "AHRpbQB0YW5zdGFhZg=", "AHRp bQB0YW5zdGFhZg==",
                    "AHRpbQB0YW5zdGFhZh==", "AHRpbQB0YW5zdGFhZg===", " AHRpbQB0YW5zdGFhZg=="):
            c.reply("AUTH PLAIN")
            check.eq(c.reply(bad), b"-ERR malformed base64 in SASL response",
                     "continuation %r" % bad)
    # Malformed base64 counts as a bad command.
    with srv.connect() as c:
        for bad in ("AHRpbQB0YW5zdGFhZg", "AHRpbQB0YW5zdGFhZg=", "AHRpbQB0YW5zdGFhZh==",
                    "AHRpbQB0YW5zdGFhZg===", "AHRpbQB0YW5zdGFhZg-="):
            check.eq(c.err("AUTH PLAIN " + bad), b"-ERR malformed base64 in SASL response",
                     "initial response %r" % bad)
        # A NUL in a response line.
        c.reply("AUTH PLAIN")
        c.send(b"AHRpbQ\0B0YW5zdGFhZg==\r\n")
        check.eq(c.readline(), b"-ERR NUL byte in SASL response", "NUL")
    # An over-long response is refused and counts as a bad command: ten
    # of them end the session. Nothing after the cancel was a login
    # attempt, so no delay.
    with srv.connect() as c:
        c.reply("AUTH PLAIN")
        check.eq(c.reply(b64("x" * 1600)), b"-ERR SASL response too long", "2136 octets")
        check.eq(c.reply("NOOP"), b"-ERR NOOP is not allowed in the AUTHORIZATION state",
                 "the session goes on")
        c.reply("AUTH PLAIN")
        check.startswith(c.reply(plain(USER, SECRET + "x" * 240)),
                         b"-ERR [AUTH]", "a long response within the limit")
        for _ in range(8):
            check.eq(c.reply("AUTH PLAIN"), b"+ ", "empty challenge")
            check.eq(c.reply(b64("y" * 1600)), b"-ERR SASL response too long", "again")
        c.reply("AUTH PLAIN")
        r = c.reply("z" * 4000)
        check.eq(r, b"-ERR too many bad commands, closing connection", "tenth bad command")
        check.true(c.closed_within(5), "session open after ten bad commands")


@test
def gdbm_driver(ctx):
    """The GDBM driver checks CRAM-MD5 and SCRAM with its {plaintext}
    values, as it does APOP."""
    from suites import auth_gdbm
    path = auth_gdbm.standard_file(ctx.tmpdir("db"))
    srv = auth_gdbm.gdbm_server(ctx, path)
    user, secret = "guser1", auth_gdbm.USERS["guser1"][0]
    with srv.connect() as c:
        check.true(FULL in capa(c), "CAPA with the gdbm driver")
        challenge = unb64(c.reply("AUTH CRAM-MD5"))
        check.startswith(c.reply(cram_response(challenge, user, secret)), b"+OK",
                         "CRAM-MD5 with gdbm")
        logged_in(c, "CRAM-MD5 with gdbm")
    with srv.connect() as c:
        check.startswith(scram_login(c, user, secret), b"+OK", "SCRAM with gdbm")
        logged_in(c, "SCRAM with gdbm")
    with srv.connect() as c:
        # guser2's value is a crypt hash: PLAIN works, SCRAM cannot.
        check.eq(scram_login(c, "guser2", auth_gdbm.USERS["guser2"][0]),
                 b"-ERR [AUTH] authentication failed", "SCRAM for a hashed value")
        check.startswith(c.reply("AUTH PLAIN " + plain("guser2", auth_gdbm.USERS["guser2"][0])),
                         b"+OK", "PLAIN for a hashed value")
        logged_in(c, "PLAIN with gdbm")
    check.true(re.search(r"no plaintext password for SCRAM-SHA-256", srv.log_text()),
               "hashed-value refusal not logged")


@test
def other_driver(ctx):
    """The external program is given APOP digests, which it can check,
    but no CRAM-MD5 or SCRAM: with it alone, only PLAIN and LOGIN are
    offered, and a SASL PLAIN login reaches it as PASS."""
    from suites import auth_other
    srv, _ = auth_other.good_server(ctx, {"auth-passwd-enable": "no"})
    with srv.connect() as c:
        check.true(c.timestamp, "APOP offered with auth-other")
        lines = capa(c)
        check.true(b"SASL PLAIN LOGIN" in lines, "CAPA with auth-other: %r" % lines)
        check.startswith(c.err("AUTH CRAM-MD5"),
                         b"-ERR SASL mechanism CRAM-MD5 is not available", "CRAM-MD5")
        check.startswith(c.err("AUTH SCRAM-SHA-256"),
                         b"-ERR SASL mechanism SCRAM-SHA-256 is not available", "SCRAM")
        check.startswith(c.reply("AUTH PLAIN " + plain("ouser1", "Other-secret-1")), b"+OK",
                         "PLAIN with auth-other")
        logged_in(c, "PLAIN with auth-other")


def curl_sasl(srv, mech, user, password, path=""):
    """curl with --login-options AUTH=MECH: its status, output and the
    commands it sent (from --verbose)."""
    url = "pop3://127.0.0.1:%d/%s" % (srv.port, path)
    r = subprocess.run(["curl", "--verbose", "--silent", "--show-error", "--max-time", "20",
                        "--noproxy", "*", "--user", "%s:%s" % (user, password),
                        "--login-options", "AUTH=" + mech, url],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    err = r.stderr.decode("latin-1")
    sent = [l[2:] for l in err.splitlines() if l.startswith("> ")]
    return r.returncode, r.stdout, sent, err.strip()[-300:]


@test
def curl_mechanisms(ctx):
    """curl 7.88 on Debian 12 does PLAIN, LOGIN and CRAM-MD5 itself; SCRAM
    needs a curl built with libgsasl, which Debian's is not, so it finds no
    mechanism to use and never sends AUTH."""
    srv = ctx.server()
    msgs = srv.messages(USER)
    listing = b"".join(b"%d %d\r\n" % (i + 1, m.size) for i, m in enumerate(msgs))
    for mech in ("PLAIN", "LOGIN", "CRAM-MD5"):
        rc, out, sent, err = curl_sasl(srv, mech, USER, SECRET)
        check.eq(rc, 0, "curl AUTH=%s: %s" % (mech, err))
        check.true(any(l.startswith("AUTH " + mech) for l in sent),
                   "curl AUTH=%s sent %r" % (mech, sent))
        check.true(not any(l.startswith(("APOP", "USER", "PASS")) for l in sent),
                   "curl AUTH=%s sent %r" % (mech, sent))
        check.eq(out, listing, "curl AUTH=%s LIST" % mech)
    rc, out, sent, err = curl_sasl(srv, "CRAM-MD5", USER, SECRET, "2")
    check.eq(out, msgs[1].served, "curl AUTH=CRAM-MD5 RETR 2")
    rc, out, sent, err = curl_sasl(srv, "PLAIN", USER, "wrong-secret")
    check.eq(rc, 67, "curl with a wrong password (67: login denied): %s" % err)
    rc, out, sent, err = curl_sasl(srv, "SCRAM-SHA-256", USER, SECRET)
    check.true(rc != 0 and not any(l.startswith("AUTH SCRAM") for l in sent),
               "curl AUTH=SCRAM-SHA-256: status %d, sent %r" % (rc, sent))


def mpop(ctx, srv, auth, password):
    """Run mpop against SRV, keeping the mail; its status, its protocol
    dialogue (--debug) and the mbox it delivered to."""
    home = ctx.tmpdir("mpophome")
    os.chmod(home, 0o700)
    pwfile = os.path.join(home, "pw")
    with open(pwfile, "w") as f:
        f.write(password + "\n")
    os.chmod(pwfile, 0o600)
    out = os.path.join(home, "mbox")
    open(out, "w").close()
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": home, "LANG": "C"}
    r = subprocess.run(["mpop", "--debug", "--host=127.0.0.1", "--port=%d" % srv.port,
                        "--tls=off", "--auth=" + auth, "--user=" + USER,
                        "--passwordeval=cat " + pwfile, "--keep=on",
                        "--uidls-file=" + os.path.join(home, "uidls"),
                        "--delivery=mbox," + out, "--received-header=off",
                        "--timeout=20"],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=60, env=env)
    with open(out, "rb") as f:
        delivered = f.read()
    return r.returncode, (r.stdout + r.stderr).decode("latin-1"), delivered


@test(timeout=120)
def mpop_mechanisms(ctx):
    """mpop (GNU SASL) logs in with each mechanism. It sends PLAIN and
    LOGIN without TLS only when told --tls=off."""
    srv = ctx.server()
    msgs = srv.messages(USER)
    before = srv.read_mbox(USER)
    for auth in ("plain", "login", "cram-md5", "scram-sha-256"):
        rc, text, delivered = mpop(ctx, srv, auth, SECRET)
        check.eq(rc, 0, "mpop --auth=%s: %s" % (auth, text[-600:]))
        check.true(("AUTH " + auth.upper()) in text,
                   "mpop --auth=%s did not send AUTH %s" % (auth, auth.upper()))
        check.eq(len(re.findall(rb"(?m)^From ", delivered)), len(msgs),
                 "messages mpop --auth=%s delivered" % auth)
    rc, text, delivered = mpop(ctx, srv, "scram-sha-256", "wrong-secret")
    check.true(rc != 0 and delivered == b"", "mpop with a wrong password: %d" % rc)
    check.true("authentication failed" in text, "mpop's complaint: %s" % text[-300:])
    check.eq(srv.read_mbox(USER), before, "the mailbox after mpop --keep")

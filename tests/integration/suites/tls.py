# SPDX-License-Identifier: GPL-2.0-or-later
"""TLS: POP3S (RFC 8314) and STLS (RFC 2595) with real clients, the policy
on passwords sent in clear, hostile handshakes, certificate reloads, and an
audit of the offered protocols and ciphers with testssl.sh."""

import os
import pty
import re
import select
import signal
import socket
import ssl
import struct
import subprocess
import time
import poplib

from harness import check, mbox, system
from harness.client import Pop3
from harness.runner import test
from harness.server import free_port, listening, password_of
from suites.clients import fetchmail

OPENSSL_TIMEOUT = 30


# -- certificates --------------------------------------------------------------

def openssl(*args, cwd):
    r = subprocess.run(["openssl"] + list(args), cwd=cwd, stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=OPENSSL_TIMEOUT)
    if r.returncode != 0:
        check.fail("openssl %s: %s" % (" ".join(args[:2]),
                                       r.stderr.decode("latin-1").strip()[-400:]))


class Pki:
    """A test CA, two server certificates it signed (for localhost and
    127.0.0.1), one expired one, and a key that matches none of them."""

    def __init__(self, ctx):
        d = self.dir = ctx.tmpdir("pki")
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem",
                "-days", "2", "-subj", "/CN=tpop3d test CA", cwd=d)
        with open(os.path.join(d, "san.cnf"), "w") as f:
            f.write("subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n")
        for name, days in (("srv", "2"), ("srv2", "2"), ("expired", "-1")):
            key = "expired-unused.key" if name == "expired" else name + ".key"
            openssl("req", *ec, "-keyout", key, "-out", name + ".csr",
                    "-subj", "/CN=localhost", cwd=d)
            if name == "expired":
                # The expired certificate is for the key of srv, so that only
                # its dates are wrong.
                key = "srv.key"
                openssl("req", "-new", "-key", key, "-out", name + ".csr",
                        "-subj", "/CN=localhost", cwd=d)
            openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem",
                    "-CAkey", "ca.key", "-CAcreateserial", "-out", name + ".pem",
                    "-days", days, "-extfile", "san.cnf", cwd=d)
        for f in os.listdir(d):
            if f.endswith(".key"):
                os.chmod(os.path.join(d, f), 0o600)

    def path(self, name):
        return os.path.join(self.dir, name)

    @property
    def ca(self):
        return self.path("ca.pem")


def tls_server(ctx, pki, config=None, cert="srv", key=None, start=True, extra=()):
    """A daemon with three listeners: plain (srv.port), POP3S (srv.pop3s)
    and plain with STLS (srv.stls)."""
    srv = ctx.server(config, start=False)
    srv.pop3s, srv.stls = free_port(), free_port()
    c, k = pki.path(cert + ".pem"), pki.path((key or cert) + ".key")
    srv.write_config({"listen-address":
                      "127.0.0.1:%d 127.0.0.1:%d;tls=immediate,%s,%s "
                      "127.0.0.1:%d;tls=stls,%s,%s"
                      % (srv.port, srv.pop3s, c, k, srv.stls, c, k)})
    if start:
        srv.start(extra=extra)
        wait_ports(srv)
    return srv


def wait_ports(srv, timeout=10):
    deadline = time.monotonic() + timeout
    while not (listening(srv.pop3s) and listening(srv.stls)):
        check.true(time.monotonic() < deadline, "TLS listeners not up; log:\n"
                   + srv.log_tail())
        time.sleep(0.02)


def client_context(pki, version=None):
    ctx = ssl.create_default_context(cafile=pki.ca)
    if version:
        ctx.minimum_version = ctx.maximum_version = version
    return ctx


def pop3s(srv, pki, timeout=10.0, context=None, session=None):
    """A raw client over POP3S, greeting read."""
    c = Pop3(srv.pop3s, timeout=timeout, greeting=False)
    c.sock = (context or client_context(pki)).wrap_socket(
        c.sock, server_hostname="localhost", session=session)
    c.greeting = c.readline()
    return c


def start_tls(c, pki):
    """STLS on raw client C, then the handshake."""
    c.ok("STLS")
    check.eq(bytes(c.buf), b"", "bytes after +OK to STLS, before the handshake")
    c.sock = client_context(pki).wrap_socket(c.sock, server_hostname="localhost")


def capa(c):
    return c.ok_body("CAPA").split(b"\r\n")


def served_cert(port, pki):
    """The certificate (DER) served on PORT by POP3S, verified."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        with client_context(pki).wrap_socket(s, server_hostname="localhost") as t:
            der = t.getpeercert(binary_form=True)
    return der


def cert_der(path):
    with open(path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


def sanitizer_build():
    return "ASAN_OPTIONS" in os.environ or "UBSAN_OPTIONS" in os.environ


# -- configuration checks --------------------------------------------------------

@test
def check_mode_certificates(ctx):
    """tpop3d -t loads every certificate and key and checks they match."""
    pki = Pki(ctx)
    srv = tls_server(ctx, pki, start=False)

    def t():
        r = subprocess.run([srv.binary, "-t", "-f", srv.conf], capture_output=True,
                           stdin=subprocess.DEVNULL, timeout=30)
        return r.returncode, r.stderr.decode("latin-1")

    status, out = t()
    check.eq(status, 0, "tpop3d -t with a good certificate (%s)" % out.strip())
    for cert, key, want in (("srv", "srv2", r"does not match certificate"),
                            ("expired", "srv", r"has expired"),
                            ("missing", "srv", r"No such file or directory")):
        tls_server_conf(srv, pki, cert, key)
        status, out = t()
        check.eq(status, 1, "tpop3d -t with %s.pem and %s.key" % (cert, key))
        check.true(re.search(r"tpop3d\.conf:\d+: listen-address \S+: .*" + want, out),
                   "tpop3d -t names the directive's file:line and the fault: %r" % out)
    srv.write_config({"tls-protocols": "TLSv1 TLSv1.3"})
    tls_server_conf(srv, pki, "srv", "srv")
    status, out = t()
    check.eq(status, 1, "tpop3d -t with a gap in tls-protocols")
    check.true("tls-protocols: the protocols must be a range" in out, out)


def tls_server_conf(srv, pki, cert, key):
    c, k = pki.path(cert + ".pem"), pki.path(key + ".key")
    srv.write_config({"listen-address":
                      "127.0.0.1:%d 127.0.0.1:%d;tls=immediate,%s,%s "
                      "127.0.0.1:%d;tls=stls,%s,%s"
                      % (srv.port, srv.pop3s, c, k, srv.stls, c, k)})


def run_on_tty(argv, answer, timeout=20):
    """Run ARGV with a terminal of its own; type ANSWER when it asks for a
    pass phrase. Returns the exit status and everything it wrote."""
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execv(argv[0], argv)
        finally:
            os._exit(127)
    out = b""
    answered = False
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            r, _, _ = select.select([fd], [], [], 0.2)
            if r:
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    break
                if not data:
                    break
                out += data
            if not answered and b"pass phrase: " in out:
                os.write(fd, answer.encode() + b"\n")
                answered = True
        else:
            os.kill(pid, signal.SIGKILL)
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), out.decode("latin-1")


@test
def passphrase_prompt(ctx):
    """-P asks on the terminal for the pass phrase of an encrypted key."""
    pki = Pki(ctx)
    openssl("pkey", "-in", "srv.key", "-aes256", "-passout", "pass:Key-phrase-9",
            "-out", "enc.key", cwd=pki.dir)
    os.chmod(pki.path("enc.key"), 0o600)
    srv = tls_server(ctx, pki, start=False)
    tls_server_conf(srv, pki, "srv", "enc")
    r = subprocess.run([srv.binary, "-t", "-f", srv.conf], capture_output=True,
                       stdin=subprocess.DEVNULL, timeout=30)
    check.eq(r.returncode, 1, "tpop3d -t with an encrypted key and no -P")
    check.true(b"is encrypted: start tpop3d with -P" in r.stderr, r.stderr)
    status, out = run_on_tty([srv.binary, "-t", "-P", "-f", srv.conf], "Key-phrase-9")
    check.eq(status, 0, "tpop3d -t -P with the right pass phrase: %r" % out)
    check.true("Key-phrase-9" not in out, "the pass phrase was echoed")
    status, out = run_on_tty([srv.binary, "-t", "-P", "-f", srv.conf], "wrong")
    check.eq(status, 1, "tpop3d -t -P with a wrong pass phrase: %r" % out)
    check.true("wrong pass phrase?" in out, out)


# -- real clients ------------------------------------------------------------------

@test
def poplib_pop3s_and_stls(ctx):
    # The standard mailbox has a line longer than poplib's default limit.
    old_max = poplib._MAXLINE
    poplib._MAXLINE = 1 << 20
    ctx.defer(lambda: setattr(poplib, "_MAXLINE", old_max))
    pki = Pki(ctx)
    srv = tls_server(ctx, pki)
    msgs = srv.messages("tp3user1")
    p = poplib.POP3_SSL("127.0.0.1", srv.pop3s, context=client_context(pki), timeout=20)
    try:
        p.user("tp3user1")
        p.pass_(password_of("tp3user1"))
        check.eq(p.stat(), (len(msgs), sum(m.size for m in msgs)), "STAT over POP3S")
        for i, m in enumerate(msgs):
            _, lines, _ = p.retr(i + 1)
            check.eq(b"".join(l + b"\r\n" for l in lines), m.served,
                     "RETR %d over POP3S" % (i + 1))
            p.dele(i + 1)
        p.quit()
    finally:
        p.close()
    check.eq(srv.read_mbox("tp3user1"), b"", "mailbox after DELE of all over POP3S")

    msgs = srv.messages("tp3user2")
    p = poplib.POP3("127.0.0.1", srv.stls, timeout=20)
    try:
        caps = p.capa()
        check.true("STLS" in caps, "CAPA before STLS lists STLS: %r" % caps)
        p.stls(context=client_context(pki))
        caps = p.capa()
        check.true("STLS" not in caps, "CAPA after STLS does not list it: %r" % caps)
        check.true("USER" in caps, "CAPA after STLS lists USER: %r" % caps)
        p.user("tp3user2")
        p.pass_(password_of("tp3user2"))
        for i, m in enumerate(msgs):
            _, lines, _ = p.retr(i + 1)
            check.eq(b"".join(l + b"\r\n" for l in lines), m.served,
                     "RETR %d after STLS" % (i + 1))
        p.quit()
    finally:
        p.close()
    check.true(srv.wait_log(r"STLS from 127\.0\.0\.1: TLSv1\.3 "), "STLS log line")


def curl(args, timeout=30):
    r = subprocess.run(["curl", "--silent", "--show-error", "--max-time", str(timeout),
                        "--noproxy", "*"] + args,
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout + 10)
    if r.returncode != 0:
        check.fail("curl %s: status %d: %s" % (args[-1].split("@")[-1], r.returncode,
                                               r.stderr.decode("latin-1").strip()))
    return r.stdout


@test
def curl_pop3s_and_stls(ctx):
    pki = Pki(ctx)
    srv = tls_server(ctx, pki, {"auth-flatfile-enable": "no"})
    msgs = srv.messages("tp3user1")
    listing = b"".join(b"%d %d\r\n" % (i + 1, m.size) for i, m in enumerate(msgs))
    auth = "tp3user1:%s@" % password_of("tp3user1")
    for base, extra in (("pop3s://%s127.0.0.1:%d/" % (auth, srv.pop3s), []),
                        ("pop3://%s127.0.0.1:%d/" % (auth, srv.stls), ["--ssl-reqd"])):
        opts = ["--cacert", pki.ca] + extra
        check.eq(curl(opts + [base]), listing, "curl LIST " + base.split("@")[1])
        for n in range(1, len(msgs) + 1):
            check.eq(curl(opts + [base + str(n)]), msgs[n - 1].served,
                     "curl RETR %d %s" % (n, base.split("@")[1]))
    # Without STLS on the listener, --ssl-reqd must fail rather than fall
    # back to clear text.
    r = subprocess.run(["curl", "--silent", "--max-time", "10", "--ssl-reqd", "--cacert",
                        pki.ca, "pop3://%s127.0.0.1:%d/" % (auth, srv.port)],
                       capture_output=True, timeout=20)
    check.true(r.returncode != 0, "curl --ssl-reqd on a listener without STLS succeeded")


def s_client(args, script, timeout=20):
    r = subprocess.run(["openssl", "s_client", "-quiet", "-ign_eof"] + args,
                       input=script, capture_output=True, timeout=timeout)
    return r.stdout


@test
def openssl_s_client(ctx):
    pki = Pki(ctx)
    srv = tls_server(ctx, pki)
    msgs = srv.messages("tp3user1")
    script = ("USER tp3user1\r\nPASS %s\r\nRETR 3\r\nQUIT\r\n"
              % password_of("tp3user1")).encode()
    for args in (["-connect", "127.0.0.1:%d" % srv.pop3s],
                 ["-starttls", "pop3", "-connect", "127.0.0.1:%d" % srv.stls]):
        out = s_client(args + ["-CAfile", pki.ca, "-verify_return_error"], script)
        check.true(out.rstrip(b"\r\n").split(b"\r\n")[-1].startswith(b"+OK bye"),
                   "s_client %s: session: %r" % (args[0], out[-300:]))
        body = out.split(b"octets\r\n", 2)[-1] if b"octets" in out else b""
        want = msgs[2].served.replace(b"\r\n.", b"\r\n..")
        check.true(want in out, "s_client %s: RETR 3 not in the output: %r"
                   % (args[0], body[:200]))


def fetchmail_tls(ctx, srv, pki, port, ssl_opts, user, outdir):
    return fetchmail(ctx, srv, user, False, outdir, port=port, timeout=60,
                     options='%s\n  sslcertck sslcertfile "%s" sslcommonname "localhost"'
                     % (ssl_opts, pki.ca))


def files_in(d):
    out = []
    for root, _, names in os.walk(d):
        for n in names:
            with open(os.path.join(root, n), "rb") as f:
                out.append(f.read())
    return sorted(out)


@test(timeout=90)
def fetchmail_ssl_and_sslproto(ctx):
    """fetchmail over POP3S (ssl) and over STLS (sslproto without ssl)."""
    pki = Pki(ctx)
    srv = tls_server(ctx, pki, {"tls-required-for-auth": "yes"})
    for user, port, opts in (("tp3user1", srv.pop3s, 'ssl sslproto "TLS1.2+"'),
                             ("tp3user2", srv.stls, 'sslproto "TLS1.2+"')):
        msgs = srv.messages(user)
        out = ctx.tmpdir("fetched")
        status, text = fetchmail_tls(ctx, srv, pki, port, opts, user, out)
        check.eq(status, 0, "fetchmail %s: status (output: %s)" % (opts, text[-600:]))
        check.eq(files_in(out), sorted(m.served.replace(b"\r\n", b"\n") for m in msgs),
                 "messages fetchmail (%s) delivered" % opts)
        check.eq(srv.read_mbox(user), b"", "mailbox after fetchmail (%s)" % opts)
    check.true(srv.wait_log(r"STLS from 127\.0\.0\.1: TLSv1\.[23] "),
               "fetchmail used STLS on the STLS listener")


@test(timeout=90)
def mpop_tls_and_starttls(ctx):
    pki = Pki(ctx)
    srv = tls_server(ctx, pki, {"tls-required-for-auth": "yes"})
    for user, port, starttls in (("tp3user1", srv.pop3s, "off"),
                                 ("tp3user2", srv.stls, "on")):
        msgs = srv.messages(user)
        out = ctx.tmpdir("maildir")
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(out, sub))
        pwfile = os.path.join(ctx.tmpdir("pw"), "pw")
        with open(pwfile, "w") as f:
            f.write(password_of(user) + "\n")
        r = subprocess.run(["mpop", "--host=127.0.0.1", "--port=%d" % port,
                            "--tls=on", "--tls-starttls=%s" % starttls,
                            "--tls-trust-file=%s" % pki.ca, "--auth=user",
                            "--user=%s" % user, "--passwordeval=cat %s" % pwfile,
                            "--received-header=off", "--keep=off", "--only-new=off",
                            "--uidls-file=%s" % os.path.join(out, "uidls"),
                            "--delivery=maildir,%s" % out, "--quiet"],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=60,
                           env={"PATH": "/usr/bin:/bin", "HOME": out, "LANG": "C"})
        check.eq(r.returncode, 0, "mpop --tls-starttls=%s: %s" % (
            starttls, (r.stdout + r.stderr).decode("latin-1")[-600:]))
        got = files_in(os.path.join(out, "new"))
        want = sorted(m.served.replace(b"\r\n", b"\n") for m in msgs)
        check.eq(len(got), len(want), "messages mpop delivered")
        for g, w in zip(got, want):
            check.eq(g, w, "a message mpop (--tls-starttls=%s) delivered" % starttls)
        check.eq(srv.read_mbox(user), b"", "mailbox after mpop --keep=off")


# -- the policy on passwords in clear ------------------------------------------------

@test
def plaintext_auth_policy(ctx):
    """tls-required-for-auth: yes refuses USER, PASS and APOP before TLS,
    even from 127.0.0.1; except-loopback lets 127.0.0.1 in; the default
    refuses nothing."""
    pki = Pki(ctx)
    srv = tls_server(ctx, pki, {"tls-required-for-auth": "yes"})
    with Pop3(srv.stls) as c:
        check.true(b"<" not in c.greeting, "greeting offers APOP before TLS: %r" % c.greeting)
        caps = capa(c)
        check.true(b"USER" not in caps, "CAPA before TLS lists USER: %r" % caps)
        check.true(b"STLS" in caps, "CAPA lists STLS: %r" % caps)
        r = c.err("USER tp3user1")
        check.eq(r, b"-ERR [AUTH] password logins need TLS first: use STLS", "USER before TLS")
        r = c.err("PASS " + password_of("tp3user1"))
        check.startswith(r, b"-ERR [AUTH] ", "PASS before TLS")
        r = c.err("APOP fuser1 0123456789abcdef0123456789abcdef")
        check.startswith(r, b"-ERR [AUTH] ", "APOP before TLS")
        start_tls(c, pki)
        caps = capa(c)
        check.true(b"USER" in caps and b"STLS" not in caps, "CAPA under TLS: %r" % caps)
        c.login("tp3user1", password_of("tp3user1"))
        c.ok("QUIT")
    with Pop3(srv.port) as c:
        r = c.err("USER tp3user1")
        check.eq(r, b"-ERR [AUTH] password logins need TLS: use the POP3S port",
                 "USER on a listener without STLS")
    with pop3s(srv, pki) as c:
        c.login("tp3user1", password_of("tp3user1"))
        c.ok("QUIT")

    srv.write_config({"tls-required-for-auth": "except-loopback"})
    srv.signal(signal.SIGHUP)
    check.true(srv.wait_log(r"configuration reloaded"), "reload")
    with Pop3(srv.stls) as c:
        check.true(b"<" in c.greeting, "greeting offers APOP to loopback: %r" % c.greeting)
        check.true(b"USER" in capa(c), "CAPA lists USER for loopback")
        c.login("tp3user1", password_of("tp3user1"))
        c.ok("QUIT")


# -- STLS rules ----------------------------------------------------------------------

@test
def stls_rules(ctx):
    pki = Pki(ctx)
    srv = tls_server(ctx, pki)
    # CVE-2011-0411: commands sent in clear behind STLS are thrown away.
    with Pop3(srv.stls) as c:
        c.send(b"STLS\r\nCAPA\r\nUSER injected\r\n")
        check.startswith(c.readline(), b"+OK", "STLS")
        check.eq(bytes(c.buf), b"", "clear-text bytes after the STLS answer")
        c.sock = client_context(pki).wrap_socket(c.sock, server_hostname="localhost")
        c.sock.settimeout(0.5)
        try:
            data = c.sock.recv(4096)
        except socket.timeout:
            data = b""
        check.eq(data, b"", "answer under TLS to commands injected before it")
        check.eq(c.err("STLS"), b"-ERR TLS is already active", "STLS twice")
        r = c.err("PASS x")
        check.true(b"USER first" in r, "USER from before STLS was forgotten: %r" % r)
        c.login("tp3user1", password_of("tp3user1"))
        r = c.err("STLS")   # after login
        check.true(b"not allowed in the TRANSACTION state" in r, "STLS after login: %r" % r)
        c.ok("QUIT")
    # USER before STLS is forgotten (RFC 2595 section 4).
    with Pop3(srv.stls) as c:
        c.ok("USER tp3user1")
        start_tls(c, pki)
        r = c.err("PASS " + password_of("tp3user1"))
        check.true(b"USER first" in r, "PASS after STLS without a new USER: %r" % r)
        c.ok("QUIT")
    # No STLS where there is no certificate, nor under POP3S.
    with Pop3(srv.port) as c:
        check.true(b"STLS" not in capa(c), "CAPA on a plain listener lists STLS")
        check.eq(c.err("STLS"), b"-ERR STLS is not available here", "STLS on a plain listener")
    with pop3s(srv, pki) as c:
        check.true(b"STLS" not in capa(c), "CAPA under POP3S lists STLS")
        check.eq(c.err("STLS"), b"-ERR TLS is already active", "STLS under POP3S")


class RecordClient:
    """A TLS client on a raw socket that chooses which TLS records travel
    in one TCP write: the server then reads several records at once."""

    def __init__(self, sock, pki):
        self.sock = sock
        self.sock.settimeout(5)
        self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.obj = client_context(pki).wrap_bio(self.inc, self.out,
                                                server_hostname="localhost")
        self.buf = b""

    def _recv(self):
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            check.fail("no answer within 5 s to records sent together "
                       "(records read ahead were left unserved)")
        check.true(data != b"", "the server closed the connection")
        self.inc.write(data)

    def handshake(self):
        """Up to the client's Finished, which stays unsent until send()."""
        while True:
            try:
                self.obj.do_handshake()
                return
            except ssl.SSLWantReadError:
                pending = self.out.read()
                if pending:
                    self.sock.sendall(pending)
                self._recv()

    def send(self, *lines):
        """Each line its own TLS record, all of them in one TCP write."""
        for line in lines:
            self.obj.write(line)
        self.sock.sendall(self.out.read())

    def readline(self):
        while b"\n" not in self.buf:
            try:
                self.buf += self.obj.read(65536)
            except ssl.SSLWantReadError:
                self._recv()
        line, _, self.buf = self.buf.partition(b"\n")
        return line + b"\n"

    def multiline(self):
        first = self.readline()
        check.startswith(first, b"+OK", "multi-line answer")
        body = b""
        while True:
            line = self.readline()
            if line == b".\r\n":
                return body
            body += line


def records_together(c, user):
    """Commands in separate records of one segment get every answer: the
    session and its relay serve what TLS read ahead before they wait."""
    check.true(b"USER" in c.multiline(), "CAPA sent with the Finished")
    check.startswith(c.readline(), b"+OK", "USER in the same segment as CAPA")
    c.send(b"PASS " + password_of(user).encode() + b"\r\n", b"STAT\r\n")
    check.startswith(c.readline(), b"+OK", "PASS")
    check.startswith(c.readline(), b"+OK 1 ", "STAT in the same segment as PASS")
    c.send(b"NOOP\r\n", b"LIST 1\r\n", b"UIDL 1\r\n", b"NOOP\r\n")
    for what in ("NOOP", "LIST 1", "UIDL 1", "NOOP"):
        check.startswith(c.readline(), b"+OK", what + " sent with three others")
    c.send(b"QUIT\r\n")
    check.startswith(c.readline(), b"+OK", "QUIT")


@test
def records_read_ahead_are_served(ctx):
    pki = Pki(ctx)
    srv = tls_server(ctx, pki)
    srv.put_mbox("tp3user1", mbox.build([b"Subject: one\n\nbody\n"]))
    # POP3S: CAPA and USER ride with the client's Finished.
    c = RecordClient(socket.create_connection(("127.0.0.1", srv.pop3s), timeout=10), pki)
    c.handshake()
    c.send(b"CAPA\r\n", b"USER tp3user1\r\n")
    check.startswith(c.readline(), b"+OK", "greeting over POP3S")
    records_together(c, "tp3user1")
    c.sock.close()
    # STLS: the same after a plain-text start.
    with Pop3(srv.stls) as p:
        p.ok("STLS")
        c = RecordClient(p.sock, pki)
        c.handshake()
        c.send(b"CAPA\r\n", b"USER tp3user1\r\n")
        records_together(c, "tp3user1")


def cpu_ticks(pid):
    """User + system CPU clock ticks of PID so far (None when it is gone)."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            rest = f.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None
    return int(rest[12]) + int(rest[13])


@test
def relay_waits_for_the_rest_of_a_record(ctx):
    """After a TLS login, the first bytes of a record and then silence: the
    relay waits in poll (no CPU) and ends with the session's idle timeout."""
    pki = Pki(ctx)
    srv = tls_server(ctx, pki, {"timeout-seconds": "2"})
    c = RecordClient(socket.create_connection(("127.0.0.1", srv.pop3s), timeout=10), pki)
    c.handshake()
    c.send(b"USER tp3user1\r\n", b"PASS " + password_of("tp3user1").encode() + b"\r\n")
    for what in ("greeting", "USER", "PASS"):
        check.startswith(c.readline(), b"+OK", what)
    relays = [p for s in srv.children() for p in system.children_of(s)
              if system.runs_as_privsep_user(p)]
    check.eq(len(relays), 1, "relay processes of the session")
    relay = relays[0]
    c.obj.write(b"NOOP\r\n")
    record = c.out.read()
    c.sock.sendall(record[:3])
    time.sleep(0.2)
    t0 = cpu_ticks(relay)
    time.sleep(1.0)
    t1 = cpu_ticks(relay)
    check.true(t0 is not None and t1 is not None, "the relay ended before its timeout")
    check.true(t1 - t0 < 20, "the relay used %d CPU ticks in 1 s waiting for the "
               "rest of a record" % (t1 - t0))
    deadline = time.monotonic() + 8
    while os.path.exists("/proc/%d" % relay) and system.proc_stat(relay)[0] != "Z" \
            and time.monotonic() < deadline:
        time.sleep(0.05)
    st = system.proc_stat(relay)
    check.true(st is None or st[0] == "Z", "the relay outlived the session's idle "
               "timeout (state %s)" % (st and st[0]))
    c.sock.close()


# -- hostile handshakes ----------------------------------------------------------------

def session_pids(srv):
    return set(srv.children())


def wait_gone(srv, pids, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not (session_pids(srv) & pids):
            return True
        time.sleep(0.05)
    return False


@test
def handshake_stall_and_garbage(ctx):
    pki = Pki(ctx)
    srv = tls_server(ctx, pki, {"tls-handshake-timeout": "1", "timeout-seconds": "60"})
    # Stalled: connect and send nothing (and, for STLS, stall after +OK).
    stalled = []
    s = socket.create_connection(("127.0.0.1", srv.pop3s), timeout=10)
    stalled.append(s)
    s = socket.create_connection(("127.0.0.1", srv.stls), timeout=10)
    f = s.makefile("rb")
    check.startswith(f.readline(), b"+OK", "greeting")
    s.sendall(b"STLS\r\n")
    check.startswith(f.readline(), b"+OK", "STLS")
    stalled.append(s)
    # A trickle of a ClientHello does not extend the deadline.
    s = socket.create_connection(("127.0.0.1", srv.pop3s), timeout=10)
    stalled.append(s)
    t0 = time.monotonic()
    time.sleep(0.3)
    pids = session_pids(srv)
    check.eq(len(pids), 3, "sessions of the stalled clients")
    s.sendall(b"\x16")
    time.sleep(0.5)
    s.sendall(b"\x03")
    check.true(wait_gone(srv, pids, 3.0), "stalled handshakes still have a process "
               "%.1f s after connecting (tls-handshake-timeout: 1)" % (time.monotonic() - t0))
    check.true(time.monotonic() - t0 < 2.5, "stalled handshakes took %.1f s to end"
               % (time.monotonic() - t0))
    for s in stalled:
        s.settimeout(2)
        try:
            check.eq(s.recv(100), b"", "the server closes a stalled handshake")
        except ConnectionResetError:
            pass
        s.close()
    check.true(srv.wait_log(r"connection from 127\.0\.0\.1 port \d+: no TLS handshake "
                            r"within 1\.000 s"), "log of a stalled POP3S handshake")
    check.true(srv.wait_log(r"STLS from 127\.0\.0\.1: no TLS handshake within 1\.000 s"),
               "log of a stalled STLS handshake")

    # Garbage instead of a ClientHello: the child ends at once, one line.
    start = len(srv.log_text())
    s = socket.create_connection(("127.0.0.1", srv.pop3s), timeout=10)
    t0 = time.monotonic()
    s.sendall(b"USER tp3user1\r\nPASS x\r\n" + b"\x00" * 600)
    try:
        data = s.recv(100)
    except ConnectionResetError:
        data = b""
    check.eq(data, b"", "the server's answer to garbage")
    check.true(time.monotonic() - t0 < 1.0, "garbage took %.2f s to be refused"
               % (time.monotonic() - t0))
    s.close()
    m = srv.wait_log(r"tpop3d\[(\d+)\]: connection from 127\.0\.0\.1 port \d+: "
                     r"TLS handshake failed: ", start=start)
    check.true(m, "log of a garbage handshake; log:\n" + srv.log_tail())
    check.true(srv.wait_no_children(5), "a session is left after the garbage")
    lines = [l for l in srv.log_text()[start:].splitlines()
             if "tpop3d[%s]" % m.group(1) in l]
    check.eq(len(lines), 1, "log lines of the garbage session: %r" % lines)


@test
def drop_mid_retr_over_tls(ctx):
    pki = Pki(ctx)
    srv = tls_server(ctx, pki)
    big = b"Subject: big\n\n" + b"".join(b"line %07d of a big message over TLS\n" % i
                                          for i in range(200000))
    data = mbox.build([big, b"Subject: small\n\nsmall\n"])
    srv.put_mbox("tp3user1", data)
    c = pop3s(srv, pki)
    c.login("tp3user1", password_of("tp3user1"))
    c.cmd("RETR 1")
    c.readline()
    c._fill(time.monotonic() + 10)
    # Reset, not a polite close: the session finds out while writing.
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.sock.close()
    check.true(srv.wait_no_children(10), "the session outlived its client")
    check.eq(srv.read_mbox("tp3user1"), data, "mailbox after a drop in mid-RETR")
    with pop3s(srv, pki) as c:
        c.login("tp3user1", password_of("tp3user1"))     # the lock is free
        check.eq(c.ok_body("RETR 1", timeout=60), mbox.split(data)[0].served,
                 "RETR 1 of the big message over TLS")
        c.ok("QUIT")


# -- certificates on SIGHUP, resumption ---------------------------------------------------

@test
def sighup_certificate_reload(ctx):
    pki = Pki(ctx)
    srv = tls_server(ctx, pki)
    first = cert_der(pki.path("srv.pem"))
    check.eq(served_cert(srv.pop3s, pki), first, "certificate served at start")
    # A broken replacement: the key no longer matches (renewal half done).
    tls_server_conf(srv, pki, "srv", "srv2")
    start = len(srv.log_text())
    srv.signal(signal.SIGHUP)
    check.true(srv.wait_log(r"configuration reloaded", start=start), "reload")
    check.true(srv.wait_log(r"tpop3d\.conf:2: listen-address \S+: key \S+srv2\.key does "
                            r"not match certificate", start=start),
               "log line with file:line for the broken key; log:\n" + srv.log_tail())
    check.true(srv.wait_log(r"still serving \S+srv\.pem on 127\.0\.0\.1:%d" % srv.pop3s,
                            start=start), "log says which certificate stays")
    check.eq(served_cert(srv.pop3s, pki), first, "certificate after a broken reload")
    with Pop3(srv.stls) as c:
        start_tls(c, pki)
        c.login("tp3user1", password_of("tp3user1"))
        c.ok("QUIT")
    # An expired certificate is refused the same way.
    tls_server_conf(srv, pki, "expired", "srv")
    start = len(srv.log_text())
    srv.signal(signal.SIGHUP)
    check.true(srv.wait_log(r"tpop3d\.conf:2: listen-address \S+: certificate \S+ has "
                            r"expired", start=start), "log line for an expired certificate")
    check.eq(served_cert(srv.pop3s, pki), first, "certificate after an expired one")
    # A good new certificate is taken up, on the same sockets.
    tls_server_conf(srv, pki, "srv2", "srv2")
    start = len(srv.log_text())
    srv.signal(signal.SIGHUP)
    check.true(srv.wait_log(r"configuration reloaded", start=start), "reload")
    check.eq(served_cert(srv.pop3s, pki), cert_der(pki.path("srv2.pem")),
             "certificate after a good reload")
    with Pop3(srv.stls) as c:
        start_tls(c, pki)
        check.eq(c.sock.getpeercert(binary_form=True), cert_der(pki.path("srv2.pem")),
                 "certificate of the STLS listener after a good reload")
    check.true("cannot listen" not in srv.log_text()[start:], "sockets were rebound")


@test
def session_resumption_across_children(ctx):
    """Two connections, two session processes: the second resumes the
    first's TLS session from its ticket (TLS 1.2 and 1.3)."""
    pki = Pki(ctx)
    srv = tls_server(ctx, pki)
    for version in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
        context = client_context(pki, version)
        c = pop3s(srv, pki, context=context)
        capa(c)     # TLS 1.3 tickets arrive after the handshake
        sess = c.sock.session
        pid1 = srv.children()
        c.ok("QUIT")
        c.close()
        c2 = pop3s(srv, pki, context=context, session=sess)
        pid2 = srv.children()
        check.true(c2.sock.session_reused, "%s session not resumed in another process"
                   % version.name)
        check.true(pid1 != pid2, "the two connections had different processes")
        c2.ok("QUIT")
        c2.close()
    check.true(srv.wait_log(r"TLSv1\.3 \S+, resumed"), "TLS 1.3 resumption logged")
    check.true(srv.wait_log(r"TLSv1\.2 \S+, resumed"), "TLS 1.2 resumption logged")


# -- listen addresses across SIGHUP ------------------------------------------------------

def loopback_host():
    """A loopback address of its own, so that the default ports (110 and
    995) can be used without meeting other daemons on 127.0.0.1."""
    n = os.getpid() * 7919 + int(time.monotonic() * 1000)
    return "127.%d.%d.%d" % (100 + n % 100, (n // 100) % 250 + 1, (n // 25000) % 250 + 1)


def answers_plain(host, port, timeout=2.0):
    """The greeting, when HOST:PORT answers plain POP3; b"" otherwise."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        try:
            return s.recv(512)
        except socket.timeout:
            return b""


def answers_tls(host, port, pki, timeout=5.0):
    """The greeting read over TLS from the first byte, or None."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        try:
            with client_context(pki).wrap_socket(s, server_hostname="localhost") as t:
                return t.recv(512)
        except (ssl.SSLError, OSError):
            return None


def hup_and_wait(srv):
    start = len(srv.log_text())
    srv.signal(signal.SIGHUP)
    check.true(srv.wait_log(r"configuration reloaded", start=start),
               "reload; log:\n" + srv.log_tail())
    return start


def default_port_server(ctx, pki, words):
    srv = ctx.server(start=False)
    srv.write_config({"listen-address": "127.0.0.1:%d %s" % (srv.port, words)})
    srv.start()
    return srv


@test
def sighup_plain_and_pop3s_on_one_host(ctx):
    """"host host;tls=immediate": two sockets (110 and 995); after SIGHUP
    110 is still plain and 995 still TLS."""
    pki = Pki(ctx)
    h = loopback_host()
    words = "%s %s;tls=immediate,%s,%s" % (h, h, pki.path("srv.pem"), pki.path("srv.key"))
    srv = default_port_server(ctx, pki, words)
    check.true(srv.wait_log(r"listening on %s:995 \(TLS" % re.escape(h)),
               "POP3S on the default port; log:\n" + srv.log_tail())
    for round_ in ("at start", "after SIGHUP"):
        check.startswith(answers_plain(h, 110), b"+OK", "plain greeting on 110 " + round_)
        check.startswith(answers_tls(h, 995, pki) or b"", b"+OK", "TLS greeting on 995 " + round_)
        if round_ == "at start":
            start = hup_and_wait(srv)
    check.true("cannot listen" not in srv.log_text()[start:], "sockets were kept")


@test
def sighup_pop3s_and_stls_on_one_host(ctx):
    """"host;tls=immediate host;tls=stls": after SIGHUP 995 still speaks
    TLS from the first byte and 110 still offers STLS."""
    pki = Pki(ctx)
    h = loopback_host()
    c, k = pki.path("srv.pem"), pki.path("srv.key")
    srv = default_port_server(ctx, pki, "%s;tls=immediate,%s,%s %s;tls=stls,%s,%s"
                              % (h, c, k, h, c, k))
    check.true(srv.wait_log(r"listening on %s:110 \(STLS" % re.escape(h)), "STLS on 110")
    start = hup_and_wait(srv)
    check.startswith(answers_tls(h, 995, pki) or b"", b"+OK", "TLS greeting on 995 after SIGHUP")
    check.startswith(answers_plain(h, 110), b"+OK", "plain greeting on 110 after SIGHUP")
    with Pop3(110, host=h) as c2:
        check.true(b"STLS" in capa(c2), "STLS offered on 110 after SIGHUP")
        c2.ok("QUIT")
    check.true("cannot listen" not in srv.log_text()[start:], "sockets were kept")


@test
def sighup_same_socket_other_text(ctx):
    """A word that binds the same socket in other words keeps it: another
    (domain), which is taken up, and the default port written out."""
    h = loopback_host()
    srv = ctx.server(start=False)
    srv.write_config({"listen-address": "127.0.0.1:%d %s:110(a.example)" % (srv.port, h)})
    srv.start()
    check.true(srv.wait_log(r"listening on %s:110 \(domain a\.example\)" % re.escape(h)),
               "first domain")
    srv.write_config({"listen-address": "127.0.0.1:%d %s:110(b.example)" % (srv.port, h)})
    start = hup_and_wait(srv)
    check.true(srv.wait_log(r"listening on %s:110 \(domain b\.example\)" % re.escape(h),
                            start=start), "new domain taken up; log:\n" + srv.log_tail())
    check.startswith(answers_plain(h, 110), b"+OK", "110 served after a new domain")
    srv.write_config({"listen-address": "127.0.0.1:%d %s" % (srv.port, h)})
    start = hup_and_wait(srv)
    check.true(srv.wait_log(r"(?m)listening on %s:110$" % re.escape(h), start=start),
               "domain dropped")
    srv.write_config({"listen-address": "127.0.0.1:%d %s:110" % (srv.port, h)})
    start2 = hup_and_wait(srv)
    check.startswith(answers_plain(h, 110), b"+OK", "110 served after host became host:110")
    text = srv.log_text()[start:]
    check.true("cannot listen" not in text and "no longer listening" not in text,
               "the socket was kept; log:\n" + text)
    check.true(start2 > start, "two reloads")


@test
def sighup_too_many_certificates(ctx):
    """More different certificates than listeners can have: the one too
    many is refused with a log line, and its socket keeps its old one."""
    pki = Pki(ctx)
    d = ctx.tmpdir("many")
    srv = ctx.server(start=False)
    srv.pop3s = free_port()
    srv.write_config({"listen-address": "127.0.0.1:%d 127.0.0.1:%d;tls=immediate,%s,%s"
                      % (srv.port, srv.pop3s, pki.path("srv.pem"), pki.path("srv.key"))})
    srv.start()
    # start() waits for the plain port only; the POP3S socket may come a
    # moment later (a busy machine, the sanitizers).
    deadline = time.monotonic() + 10
    while not listening(srv.pop3s):
        check.true(time.monotonic() < deadline, "POP3S listener not up; log:\n"
                   + srv.log_tail())
        time.sleep(0.02)
    first = cert_der(pki.path("srv.pem"))
    check.eq(served_cert(srv.pop3s, pki), first, "certificate at start")
    words = ["127.0.0.1:%d" % srv.port]
    for i in range(65):
        src = "srv2" if i == 64 else "srv"
        for ext in ("pem", "key"):
            with open(pki.path("%s.%s" % (src, ext)), "rb") as f:
                data = f.read()
            path = os.path.join(d, "c%d.%s" % (i, ext))
            with open(path, "wb") as f:
                f.write(data)
            os.chmod(path, 0o600)
        # TEST-NET-1 is no local address: those sockets cannot be bound.
        host = "127.0.0.1:%d" % srv.pop3s if i == 64 else "192.0.2.1:%d" % (20000 + i)
        words.append("%s;tls=immediate,%s/c%d.pem,%s/c%d.key" % (host, d, i, d, i))
    srv.write_config({"listen-address": " ".join(words)})
    start = hup_and_wait(srv)
    check.true(srv.wait_log(r"listen-address 127\.0\.0\.1:%d;\S+: too many different "
                            r"certificates and keys \(at most 64\): refused" % srv.pop3s,
                            start=start), "log line for the one too many; log:\n"
               + srv.log_tail())
    check.true(srv.wait_log(r"still serving \S+srv\.pem on 127\.0\.0\.1:%d" % srv.pop3s,
                            start=start), "log says which certificate stays")
    check.eq(served_cert(srv.pop3s, pki), first, "certificate after the refused one")
    check.true(srv.alive(), "daemon alive")


@test
def ticket_keys_rotate(ctx):
    """With tls-ticket-key-lifetime, a ticket from before new keys does
    not resume; one issued after them does."""
    pki = Pki(ctx)
    srv = tls_server(ctx, pki, config={"tls-ticket-key-lifetime": "3"})
    context = client_context(pki, ssl.TLSVersion.TLSv1_3)

    def connect(session=None):
        c = pop3s(srv, pki, context=context, session=session)
        capa(c)     # the tickets come after the handshake
        c.ok("QUIT")
        sess, reused = c.sock.session, c.sock.session_reused
        c.close()
        return sess, reused

    a, _ = connect()
    time.sleep(3.5)
    b, reused = connect(a)
    check.true(not reused, "a ticket from before new keys resumed")
    _, reused = connect(b)
    check.true(reused, "a ticket under the new keys did not resume")


# -- the audit --------------------------------------------------------------------------

TESTSSL_EXPECT = [
    (r"^ SSLv2\s+not offered", "SSLv2 offered"),
    (r"^ SSLv3\s+not offered", "SSLv3 offered"),
    (r"^ TLS 1\s+not offered", "TLS 1.0 offered"),
    (r"^ TLS 1\.1\s+not offered", "TLS 1.1 offered"),
    (r"^ TLS 1\.2\s+offered", "TLS 1.2 not offered"),
    (r"^ TLS 1\.3\s+offered", "TLS 1.3 not offered"),
    (r"^ NULL ciphers.*not offered", "NULL ciphers"),
    (r"^ Anonymous NULL Ciphers.*not offered", "anonymous ciphers"),
    (r"^ Export ciphers.*not offered", "export ciphers"),
    (r"^ LOW: .*not offered", "LOW ciphers"),
    (r"^ Triple DES Ciphers / IDEA\s+not offered", "3DES/IDEA"),
    (r"^ Obsolete CBC ciphers.*not offered", "CBC ciphers"),
    (r"^ Strong encryption \(AEAD ciphers\)\s+offered", "no AEAD ciphers"),
    (r"^ (PFS|FS) is offered", "no forward secrecy"),
    (r"^ Secure Client-Initiated Renegotiation\s+not vulnerable", "client renegotiation"),
    (r"^ CRIME, TLS \(CVE-2012-4929\)\s+not vulnerable", "compression (CRIME)"),
]


@test(timeout=120)
def testssl_audit(ctx):
    pki = Pki(ctx)
    srv = tls_server(ctx, pki)
    # No suite without forward secrecy, whatever the audit's lists say.
    for port, extra in ((srv.pop3s, []), (srv.stls, ["-starttls", "pop3"])):
        for cipher in ("AES128-GCM-SHA256", "AES256-SHA", "ECDHE-ECDSA-AES128-SHA"):
            r = subprocess.run(["openssl", "s_client", "-tls1_2", "-cipher", cipher,
                                "-connect", "127.0.0.1:%d" % port] + extra,
                               input=b"", capture_output=True, timeout=20)
            check.true(r.returncode != 0, "cipher %s accepted on port %d" % (cipher, port))
    if sanitizer_build():
        print("SKIP tls.testssl_audit (testssl part): sanitizer build", flush=True)
        return
    procs = []
    for port, extra in ((srv.pop3s, []), (srv.stls, ["--starttls", "pop3"])):
        out = os.path.join(ctx.workdir, "testssl-%d.txt" % port)
        f = open(out, "wb")
        procs.append((port, out, f, subprocess.Popen(
            ["testssl", "--quiet", "--color", "0", "--warnings", "off", "-p", "-s",
             "-f", "-R", "-C", "--ip=127.0.0.1"] + extra + ["127.0.0.1:%d" % port],
            stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT)))
    for port, out, f, p in procs:
        try:
            p.wait(90)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            check.fail("testssl on port %d did not finish in 90 s" % port)
        finally:
            f.close()
        with open(out, "rb") as fh:
            text = fh.read().decode("latin-1")
        for rx, what in TESTSSL_EXPECT:
            check.true(re.search(rx, text, re.M), "testssl on port %d: %s (output in %s)"
                       % (port, what, out))
        m = re.search(r"^ (PFS|FS) is offered \(OK\)((?:.*\n)+?) [A-Z][a-z]", text, re.M)
        fs = m.group(2).split() if m else []
        bad = [c for c in fs if re.match(r"^[A-Z0-9-]+$", c) and
               not re.match(r"^(ECDHE|DHE)-", c)]
        check.eq(bad, [], "testssl on port %d: suites listed as forward secret" % port)

# SPDX-License-Identifier: GPL-2.0-or-later
"""Virtual domains: login names with and without a domain, listen addresses
with a (domain), lowercase-user and lowercase-mailbox, the append-domain and
strip-domain retries, all through the flatfile driver with a password file
per domain (or one file of whole addresses), and the authentication cache
keyed on the name and the listener."""

import os
import re
import time

from harness import check, mbox
from harness.client import Pop3
from harness.runner import test
from harness.server import FLAT_MAIL_GROUP, FLAT_MAIL_USER, free_port, listening, owner_ids

# Per-domain password files: domain -> {local part: password}. frank has the
# same password in both domains, and another mailbox in each.
DOMAIN_USERS = {
    "example.com": {"alice": "Dom-com-alice", "Carol": "Dom-com-carol",
                    "frank": "Dom-same-frank"},
    "example.org": {"alice": "Dom-org-alice", "frank": "Dom-same-frank"},
}
# Mailboxes of the per-domain server: (domain, file name) -> messages.
DOMAIN_MBOXES = {
    ("example.com", "alice"): 2,
    ("example.org", "alice"): 3,
    ("example.com", "carol"): 4,
    ("example.com", "frank"): 5,
    ("example.org", "frank"): 1,
}

# One password file of whole names, for drivers keyed on $(user).
WHOLE_USERS = {"dave": "Dave-plain", "dave@example.com": "Dave-virtual",
               "erin@example.com": "Erin-virtual"}
WHOLE_MBOXES = {"dave": 1, "dave@example.com": 2, "erin@example.com": 3}

PASSWORDS = sorted({p for d in DOMAIN_USERS.values() for p in d.values()}
                   | set(WHOLE_USERS.values()))


def mailbox_of(n):
    """An mbox of N messages, so that STAT tells mailboxes apart."""
    return mbox.build(mbox.standard_contents()[:n])


class Site:
    """A daemon with three listeners: no domain (the harness's port),
    example.com and example.org."""

    def __init__(self, ctx, per_domain, config=None):
        self.srv = ctx.server(start=False)
        root = self.srv.root
        self.port = {None: self.srv.port, "example.com": free_port(),
                     "example.org": free_port()}
        owner = owner_ids(FLAT_MAIL_USER, FLAT_MAIL_GROUP)
        spool = os.path.join(root, "vspool")
        os.makedirs(spool)
        os.chmod(spool, 0o1777)
        pwdir = os.path.join(root, "pw")
        if per_domain:
            for domain, users in DOMAIN_USERS.items():
                os.makedirs(os.path.join(pwdir, domain))
                write_passwd(os.path.join(pwdir, domain, "passwd"), users)
                os.makedirs(os.path.join(spool, domain))
                os.chmod(os.path.join(spool, domain), 0o1777)
            for (domain, name), n in DOMAIN_MBOXES.items():
                put(os.path.join(spool, domain, name), n, owner)
            pwfile = os.path.join(pwdir, "$(domain)", "passwd")
            location = "bsd:%s/$(domain)/$(local_part)" % spool
        else:
            os.makedirs(pwdir)
            pwfile = os.path.join(pwdir, "virtual")
            write_passwd(pwfile, WHOLE_USERS)
            for name, n in WHOLE_MBOXES.items():
                put(os.path.join(spool, name), n, owner)
            location = "bsd:%s/$(user)" % spool
        conf = {
            "listen-address": "127.0.0.1:%d 127.0.0.1:%d(example.com) "
                              "127.0.0.1:%d(example.org)"
                              % (self.port[None], self.port["example.com"],
                                 self.port["example.org"]),
            "mailbox": location,
            "auth-flatfile-passwd-file": pwfile,
        }
        conf.update(config or {})
        self.srv.write_config(conf)
        self.srv.start()
        # start() waits for the first listener only; the daemon opens the
        # others a moment later.
        deadline = time.monotonic() + 10
        for port in self.port.values():
            while not listening(port):
                check.true(time.monotonic() < deadline, "not listening on port %d; "
                           "log:\n%s" % (port, self.srv.log_tail()))
                time.sleep(0.02)

    def connect(self, domain=None):
        return Pop3(self.port[domain])

    def stat(self, name, password, domain=None):
        """Messages in the mailbox NAME logs in to, or the -ERR reply."""
        with self.connect(domain) as c:
            c.ok("USER " + name)
            r = c.reply("PASS " + password)
            if not r.startswith(b"+OK"):
                return r
            n = int(c.ok("STAT").split()[1])
            c.ok("QUIT")
            return n

    def apop(self, name, secret, domain=None):
        with self.connect(domain) as c:
            r = c.apop(name, secret)
            if not r.startswith(b"+OK"):
                return r
            n = int(c.ok("STAT").split()[1])
            c.ok("QUIT")
            return n

    def expect(self, name, password, domain, want):
        got = self.stat(name, password, domain)
        where = "%s on the listener of %s" % (name, domain or "no domain")
        if isinstance(want, int):
            check.eq(got, want, "messages seen by " + where)
        else:
            check.true(isinstance(got, bytes) and got.startswith(want),
                       "%s: expected %r, got %r" % (where, want, got))

    def failures_since(self, mark):
        return [l for l in self.srv.log_text()[mark:].splitlines()
                if "login failed" in l]

    def no_passwords_logged(self):
        text = self.srv.log_text()
        for p in PASSWORDS:
            check.true(p not in text, "a password appears in the daemon log")


def write_passwd(path, users):
    with open(path, "w") as f:
        for name, password in users.items():
            f.write("%s:{plaintext}%s\n" % (name, password))
    os.chmod(path, 0o600)


def put(path, n, owner):
    with open(path, "wb") as f:
        f.write(mailbox_of(n))
    os.chown(path, *owner)
    os.chmod(path, 0o600)


AUTH = b"-ERR [AUTH]"


@test
def per_domain_names(ctx):
    site = Site(ctx, per_domain=True)
    # A domain in the name: '@' and '%' alike, on any listener; the name's
    # own domain wins over the listener's.
    site.expect("alice@example.com", "Dom-com-alice", None, 2)
    site.expect("alice%example.org", "Dom-org-alice", None, 3)
    site.expect("alice@example.org", "Dom-org-alice", "example.com", 3)
    # A bare name takes the listener's domain.
    site.expect("alice", "Dom-com-alice", "example.com", 2)
    site.expect("alice", "Dom-org-alice", "example.org", 3)
    site.expect("alice", "Dom-org-alice", "example.com", AUTH)
    # Without a domain there is no password file to look in.
    mark = len(site.srv.log_text())
    site.expect("alice", "Dom-com-alice", None, AUTH)
    check.true(site.srv.wait_log(r"login failed: user=alice driver=flatfile "
                                 r"[^\n]*password file name", 5, start=mark),
               "no failure line for alice without a domain")
    # Unknown users and wrong passwords get the same answer.
    site.expect("nosuch@example.com", "Dom-com-alice", None, AUTH)
    site.expect("alice@nowhere.test", "Dom-com-alice", None, AUTH)
    site.no_passwords_logged()


@test
def mixed_case(ctx):
    plain = Site(ctx, per_domain=True)
    # Names keep their case by default: no such file, no such user.
    plain.expect("ALICE@Example.COM", "Dom-com-alice", None, AUTH)
    # The password file says "Carol"; the mailbox on disk is "carol", so
    # the login works but finds an empty mailbox in the same directory.
    plain.expect("Carol@example.com", "Dom-com-carol", None, 0)

    lower = Site(ctx, per_domain=True, config={"lowercase-user": "yes"})
    lower.expect("ALICE@Example.COM", "Dom-com-alice", None, 2)
    lower.expect("AlIcE", "Dom-org-alice", "example.org", 3)
    # Folded before the lookup: "carol" is not in the file.
    lower.expect("Carol@example.com", "Dom-com-carol", None, AUTH)

    mbox_lower = Site(ctx, per_domain=True, config={"lowercase-mailbox": "yes"})
    # The driver sees "Carol", the mailbox location "carol".
    mbox_lower.expect("Carol@example.com", "Dom-com-carol", None, 4)
    mbox_lower.expect("Carol", "Dom-com-carol", "example.com", 4)
    check.true(mbox_lower.srv.wait_log(r"login: user=Carol@example\.com driver=flatfile"),
               "the driver's answer keeps the case the client used")
    for s in (plain, lower, mbox_lower):
        s.no_passwords_logged()


@test
def append_domain_retry(ctx):
    off = Site(ctx, per_domain=False)
    off.expect("erin", "Erin-virtual", "example.com", AUTH)
    off.expect("dave", "Dave-plain", "example.com", 1)

    on = Site(ctx, per_domain=False, config={"append-domain": "yes"})
    # "erin" is not in the file; "erin@example.com" is.
    on.expect("erin", "Erin-virtual", "example.com", 3)
    # The name as given first: dave's own password finds "dave", the
    # virtual one is found on the retry as dave@example.com.
    on.expect("dave", "Dave-plain", "example.com", 1)
    on.expect("dave", "Dave-virtual", "example.com", 2)
    # Nothing to append on a listener without a domain.
    on.expect("erin", "Erin-virtual", None, AUTH)
    # APOP follows the same rules.
    check.eq(on.apop("erin", "Erin-virtual", "example.com"), 3, "APOP erin with the retry")

    # One log line for a failed login, naming every name and driver tried.
    mark = len(on.srv.log_text())
    on.expect("erin", "Erin-wrong", "example.com", AUTH)
    # Led by the last refusal, the retry's.
    check.true(on.srv.wait_log(r"login failed: user=erin@example\.com driver=flatfile "
                               r"[^\n]*wrong password", 5, start=mark),
               "no failure line for erin")
    lines = on.failures_since(mark)
    check.eq(len(lines), 1, "log lines for one failed login: %r" % lines)
    for part in (r"\(also user=erin driver=passwd: no such user; "
                 r"user=erin driver=flatfile: [^;]*; "
                 r"user=erin@example\.com driver=passwd: no such user\): "
                 r"wrong password",):
        check.true(re.search(part, lines[0]), "%r not in %r" % (part, lines[0]))
    on.no_passwords_logged()


@test
def strip_domain_retry(ctx):
    off = Site(ctx, per_domain=False)
    off.expect("dave@other.net", "Dave-plain", None, AUTH)

    on = Site(ctx, per_domain=False, config={"strip-domain": "yes"})
    on.expect("dave@other.net", "Dave-plain", None, 1)
    on.expect("dave%other.net", "Dave-plain", "example.org", 1)
    # The name as given wins; the stripped name is only a retry.
    on.expect("dave@example.com", "Dave-virtual", None, 2)
    on.expect("dave@example.com", "Dave-plain", None, 1)

    # The stripped name takes the listener's domain, never the one typed.
    dom = Site(ctx, per_domain=True, config={"strip-domain": "yes"})
    dom.expect("alice@nowhere.test", "Dom-com-alice", "example.com", 2)
    dom.expect("alice@nowhere.test", "Dom-com-alice", "example.org", AUTH)
    on.no_passwords_logged()
    dom.no_passwords_logged()


@test
def no_retry_after_tempfail(ctx):
    """A driver that cannot answer for the name as given might have known
    it: the stripped name, someone else's account maybe, is not tried, and
    the client is told to come back later."""
    dom = Site(ctx, per_domain=True, config={"strip-domain": "yes"})
    # The password file of broken.test cannot be read (it is a directory).
    os.makedirs(os.path.join(dom.srv.root, "pw", "broken.test", "passwd"))
    dom.expect("alice@broken.test", "Dom-com-alice", "example.com", b"-ERR [SYS/TEMP]")
    check.true(dom.srv.wait_log(r"cannot read [^\n]*broken\.test/passwd", 5),
               "the unreadable file is not logged")
    # A name the drivers clearly refuse still gets its retry.
    dom.expect("alice@nowhere.test", "Dom-com-alice", "example.com", 2)
    dom.no_passwords_logged()


@test
def cache_keyed_on_name_and_listener(ctx):
    site = Site(ctx, per_domain=True, config={"authcache-enable": "yes"})
    # frank has one password in both domains: a cache keyed on the bare
    # name would hand example.org's login example.com's mailbox.
    site.expect("frank", "Dom-same-frank", "example.com", 5)
    site.expect("frank", "Dom-same-frank", "example.org", 1)
    site.expect("frank", "Dom-same-frank", "example.com", 5)
    site.expect("frank", "Dom-same-frank", "example.org", 1)
    cached = [l for l in site.srv.log_text().splitlines() if "(cached)" in l]
    check.eq(len(cached), 2, "logins served from the cache: %r" % cached)
    # Another spelling of the same account is another key: to the drivers.
    site.expect("frank@example.com", "Dom-same-frank", "example.org", 5)
    cached = [l for l in site.srv.log_text().splitlines() if "(cached)" in l]
    check.eq(len(cached), 2, "a new spelling was served from the cache")
    site.no_passwords_logged()

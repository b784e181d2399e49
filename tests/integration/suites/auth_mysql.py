# SPDX-License-Identifier: GPL-2.0-or-later
"""The mysql driver against a real MariaDB server that each test starts on
a private Unix socket (no TCP) in its scratch directory."""

import concurrent.futures
import grp
import hashlib
import os
import poplib
import pwd
import socket
import subprocess
import time

from harness import check, mbox
from harness import mariadb
from harness.mariadb import sql_quote
from harness.runner import test
from harness.server import free_port

DB_NAME = "vmail"
DB_USER = "tpop3d"
DB_PASSWORD = "Db-secret-9"

MAIL_USER = "nobody"
MAIL_GROUP = "nogroup"

# Accounts of the vmail-sql schema: local part -> (password, stored value).
SHA512_HASH = ("$6$tp3mysqlsalt$3Q147lkWDvDyao6dwXpXaqt.waDkjwTaldS126vOratle"
               "AQH5c4rI7gT.xIHepgJ20W5xG8I36vPG4Jm86luh.")
VMAIL_USERS = {
    # No {prefix}: MD5 as hex, the vmail-sql default.
    "alice": ("Alice-pw-1", hashlib.md5(b"Alice-pw-1").hexdigest()),
    "bob": ("Bob-pw-2", "{MD5}" + hashlib.md5(b"Bob-pw-2").hexdigest()),
    "carol": ("Carol-pw-3", "{plaintext}Carol-pw-3"),
    "dave": ("Sha-secret-3", "{SHA512-CRYPT}" + SHA512_HASH),
}
# A domain whose Unix user does not exist: right passwords must not be
# answered as wrong ones.
BROKEN_DOMAIN = "broken.test"
BROKEN_USER = ("eve", "Eve-pw-5")

SECRETS = [DB_PASSWORD, BROKEN_USER[1]] + [p for p, _ in VMAIL_USERS.values()]


class MariaDB(mariadb.MariaDB):
    """A private MariaDB server: its own data directory, socket and
    process, all under the test's scratch directory, ended with the
    test."""

    def __init__(self, ctx, extra=()):
        super().__init__(ctx.tmpdir("db"), check.fail, extra=extra)
        ctx.defer(self.stop)


def write_mailbox(path, data, owner=MAIL_USER, group=MAIL_GROUP):
    with open(path, "wb") as f:
        f.write(data)
    os.chown(path, pwd.getpwnam(owner).pw_uid, grp.getgrnam(group).gr_gid)
    os.chmod(path, 0o600)
    return mbox.split(data)


def mail_dir(path):
    """A directory the sessions (running as MAIL_USER) can lock in."""
    os.makedirs(path)
    os.chown(path, pwd.getpwnam(MAIL_USER).pw_uid, grp.getgrnam(MAIL_GROUP).gr_gid)
    os.chmod(path, 0o755)
    return path


def vmail_schema(db, domain_path, broken_path):
    """The vmail-sql tables, a database user for tpop3d, and the accounts
    of VMAIL_USERS in example.com."""
    rows = ",\n".join("('example.com', %s, %s, %s)" % (sql_quote(lp), sql_quote(stored),
                                                       sql_quote(lp))
                      for lp, (_, stored) in VMAIL_USERS.items())
    db.sql("""
CREATE DATABASE vmail;
USE vmail;
%s
INSERT INTO domain VALUES
    ('example.com', %s, NULL, %s, 100),
    (%s, 'tp3-no-such-unix-user', NULL, %s, 100);
INSERT INTO popbox (domain_name, local_part, password_hash, mbox_name) VALUES
%s,
    (%s, %s, %s, %s);
CREATE USER %s@'localhost' IDENTIFIED BY %s;
GRANT SELECT ON vmail.* TO %s@'localhost';
""" % (mariadb.VMAIL_TABLES, sql_quote(MAIL_USER), sql_quote(domain_path), sql_quote(BROKEN_DOMAIN),
       sql_quote(broken_path), rows, sql_quote(BROKEN_DOMAIN), sql_quote(BROKEN_USER[0]),
       sql_quote("{plaintext}" + BROKEN_USER[1]), sql_quote(BROKEN_USER[0]),
       sql_quote(DB_USER), sql_quote(DB_PASSWORD), sql_quote(DB_USER)))


def mysql_config(hostnames, extra=None):
    conf = {
        "auth-passwd-enable": None,
        "auth-flatfile-enable": None,
        "auth-mysql-enable": "yes",
        "auth-mysql-hostname": hostnames,
        "auth-mysql-database": DB_NAME,
        "auth-mysql-username": DB_USER,
        "auth-mysql-password": DB_PASSWORD,
    }
    conf.update(extra or {})
    return conf


class Setup:
    """A MariaDB server with the vmail-sql schema and a tpop3d that uses
    it; mailboxes for every account."""

    def __init__(self, ctx, hostnames=None, config=None, db_extra=(), start_db=True):
        self.ctx = ctx
        self.db = MariaDB(ctx, db_extra)
        if start_db:
            self.db.start()
        hostnames = (hostnames or "{sock}").replace("{sock}", self.db.sock)
        self.srv = ctx.server(mysql_config(hostnames, config), start=False)
        self.domain_path = mail_dir(os.path.join(self.srv.spool, "example.com"))
        self.broken_path = mail_dir(os.path.join(self.srv.spool, BROKEN_DOMAIN))
        if start_db:
            vmail_schema(self.db, self.domain_path, self.broken_path)
        self.msgs = {}
        for i, lp in enumerate(VMAIL_USERS):
            data = mbox.standard() if i % 2 == 0 else mbox.small()
            self.msgs[lp] = write_mailbox(os.path.join(self.domain_path, lp), data)
        write_mailbox(os.path.join(self.broken_path, BROKEN_USER[0]), mbox.small())
        self.srv.start()

    def stat_of(self, lp):
        m = self.msgs[lp]
        return len(m), sum(x.size for x in m)

    def no_secrets_logged(self):
        text = self.srv.log_text()
        for s in SECRETS:
            check.true(s not in text, "a password appears in the daemon log")


def user(lp, domain="example.com"):
    return "%s@%s" % (lp, domain)


def attempt(srv, name, password):
    """The server's answer to USER NAME and PASS PASSWORD (to USER when it
    refuses the name already)."""
    if isinstance(name, str):
        name = name.encode("latin-1")
    with srv.connect() as c:
        r = c.reply(b"USER " + name)
        if not r.startswith(b"+OK"):
            return r
        return c.reply("PASS " + password)


def attempts(srv, pairs):
    """attempt() for each (name, password) at once: every refusal costs
    the client a delay, which need not add up."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as ex:
        return list(ex.map(lambda p: attempt(srv, p[0], p[1]), pairs))


def pop_stat(c):
    r = c.ok("STAT").split()
    return int(r[1]), int(r[2])


# -- configuration ------------------------------------------------------------

def check_config(ctx, conf, expect_ok, needle=None):
    srv = ctx.server(mysql_config(conf.pop("auth-mysql-hostname", "/nonexistent/sock"), conf),
                     start=False)
    r = subprocess.run([ctx.binary, "-t", "-f", srv.conf], stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=20)
    err = r.stderr.decode("latin-1")
    if expect_ok:
        check.eq(r.returncode, 0, "tpop3d -t status for %r (stderr: %s)" % (conf, err[:300]))
    else:
        check.true(r.returncode != 0, "tpop3d -t accepted %r" % conf)
        check.true(needle in err, "tpop3d -t error for %r does not name %s: %r"
                   % (conf, needle, err[:300]))


@test
def config_checks(ctx):
    """Missing or malformed directives are named by tpop3d -t; a database
    that is down is no configuration error (the listener never connects)."""
    check_config(ctx, {"auth-mysql-database": None}, False, "auth-mysql-database")
    check_config(ctx, {"auth-mysql-username": None}, False, "auth-mysql-username")
    check_config(ctx, {"auth-mysql-hostname": "127.0.0.1:99999"}, False,
                 "auth-mysql-hostname")
    check_config(ctx, {"auth-mysql-hostname": "[::1"}, False, "auth-mysql-hostname")
    check_config(ctx, {"auth-mysql-mail-group": "tp3-no-such-group"}, False,
                 "auth-mysql-mail-group")
    check_config(ctx, {"auth-mysql-pass-query": "none", "auth-mysql-apop-query": "none"},
                 False, "auth-mysql-pass-query")
    check_config(ctx, {"auth-mysql-pass-query": "SELECT a FROM t WHERE u = '$(user[0])'"},
                 False, "auth-mysql-pass-query")
    check_config(ctx, {"auth-mysql-apop-query": "SELECT a FROM t WHERE u = '$(nosuch)'"},
                 False, "auth-mysql-apop-query")
    check_config(ctx, {"auth-mysql-hostname": "/nonexistent/sock 127.0.0.1:1 db.invalid"},
                 True)
    check_config(ctx, {"auth-mysql-password": None, "auth-mysql-apop-query": "none"}, True)


# -- logins -------------------------------------------------------------------

@test
def pass_logins(ctx):
    s = Setup(ctx)
    # Every stored form: MD5 hex without a prefix, {MD5}, {plaintext},
    # {SHA512-CRYPT}; each user reaches the mailbox the database names.
    for lp, (password, _) in VMAIL_USERS.items():
        with s.srv.connect() as c:
            c.login(user(lp), password)
            check.eq(pop_stat(c), s.stat_of(lp), "STAT of %s" % lp)
            c.ok("QUIT")
    # A real client library as well.
    p = poplib.POP3("127.0.0.1", s.srv.port, timeout=20)
    try:
        p.user(user("alice"))
        p.pass_(VMAIL_USERS["alice"][0])
        check.eq(p.stat(), s.stat_of("alice"), "poplib stat() of alice")
        p.quit()
    finally:
        p.close()

    answers = attempts(s.srv, [
        (user("alice"), "Wrong-pw"),
        (user("alice"), VMAIL_USERS["bob"][0]),
        (user("zed"), "Alice-pw-1"),
        (user("alice", "nowhere.test"), VMAIL_USERS["alice"][0]),
        ("alice", VMAIL_USERS["alice"][0]),       # no domain at all
        (user("dave"), ""),
        (user(BROKEN_USER[0], BROKEN_DOMAIN), "Wrong-pw"),
    ])
    for a in answers:
        check.startswith(a, b"-ERR [AUTH]", "refused login")
    # The right password for a row naming a Unix user that does not exist:
    # the administrator's mistake, not the user's.
    check.startswith(attempt(s.srv, user(BROKEN_USER[0], BROKEN_DOMAIN), BROKEN_USER[1]),
                     b"-ERR [SYS/TEMP]", "login to a row with an unknown Unix user")
    check.true(s.srv.wait_log(r"driver=mysql.*Unix user tp3-no-such-unix-user"),
               "the log does not say which Unix user is missing")
    s.no_secrets_logged()


@test
def apop_logins(ctx):
    s = Setup(ctx)
    p = poplib.POP3("127.0.0.1", s.srv.port, timeout=20)
    try:
        check.true(p.timestamp is not None, "no APOP timestamp in the greeting")
        p.apop(user("carol"), VMAIL_USERS["carol"][0])
        check.eq(p.stat(), s.stat_of("carol"), "stat() after APOP")
        p.quit()
    finally:
        p.close()
    with s.srv.connect() as c:
        check.startswith(c.apop(user("carol"), "Wrong-pw"), b"-ERR [AUTH]", "APOP, wrong secret")
    # alice's row holds a hash, not a secret APOP could use; the hash itself
    # must not work as one either.
    with s.srv.connect() as c:
        check.startswith(c.apop(user("alice"), VMAIL_USERS["alice"][0]), b"-ERR [AUTH]",
                         "APOP for a hashed password")
    with s.srv.connect() as c:
        check.startswith(c.apop(user("alice"), VMAIL_USERS["alice"][1]), b"-ERR [AUTH]",
                         "APOP with the stored hash as the secret")
    s.no_secrets_logged()


@test
def custom_query(ctx):
    """A schema of one's own through auth-mysql-pass-query, with the group
    of auth-mysql-mail-group and the mailbox type from the row."""
    db = MariaDB(ctx).start()
    q = ("SELECT mailbox, secret, owner, kind FROM accounts "
         "WHERE email = '$(user)' AND active = 1")
    srv = ctx.server(mysql_config(db.sock, {
        "auth-mysql-pass-query": q,
        "auth-mysql-apop-query": "none",
        "auth-mysql-mail-group": "mail",
    }), start=False)
    home = mail_dir(os.path.join(srv.spool, "custom"))
    frank = write_mailbox(os.path.join(home, "frank"), mbox.standard())
    write_mailbox(os.path.join(home, "gina"), mbox.small())
    # No location in the row: the mailbox directive decides.
    hank = write_mailbox(os.path.join(srv.spool, "hank@custom.test"), mbox.small())
    db.sql("""
CREATE DATABASE accounts;
USE accounts;
CREATE TABLE accounts (email VARCHAR(255) PRIMARY KEY, secret VARCHAR(255),
                       mailbox VARCHAR(255), owner VARCHAR(64), kind VARCHAR(16),
                       active TINYINT NOT NULL);
INSERT INTO accounts VALUES
  ('frank@custom.test', %s, %s, 'nobody', 'BSD', 1),
  ('gina@custom.test', '{plaintext}Gina-pw-7', %s, 'nobody', 'maildir', 1),
  ('hank@custom.test', '{plaintext}Hank-pw-8', NULL, 'nobody', NULL, 1),
  ('ivan@custom.test', '{plaintext}Ivan-pw-9', %s, 'nobody', 'bsd', 0),
  ('root@custom.test', '{plaintext}Root-pw-0', %s, 'root', 'bsd', 1);
CREATE USER %s@'localhost' IDENTIFIED BY %s;
GRANT SELECT ON accounts.* TO %s@'localhost';
""" % (sql_quote("{SHA256}" + hashlib.sha256(b"Frank-pw-6").hexdigest()),
       sql_quote(os.path.join(home, "frank")), sql_quote(os.path.join(home, "gina")),
       sql_quote(os.path.join(home, "frank")), sql_quote(os.path.join(home, "frank")),
       sql_quote(DB_USER), sql_quote(DB_PASSWORD), sql_quote(DB_USER)))
    srv.config["auth-mysql-database"] = "accounts"
    srv.write_config()
    srv.start()

    with srv.connect() as c:
        c.login("frank@custom.test", "Frank-pw-6")
        check.eq(pop_stat(c), (len(frank), sum(m.size for m in frank)), "STAT of frank")
        kids = srv.children()
        check.eq(len(kids), 1, "sessions running")
        with open("/proc/%d/status" % kids[0]) as f:
            gids = [l.split()[1:] for l in f if l.startswith("Gid:")][0]
        mail_gid = str(grp.getgrnam("mail").gr_gid)
        check.eq(gids, [mail_gid] * 4, "session gids with auth-mysql-mail-group: mail")
        c.ok("QUIT")
    with srv.connect() as c:
        c.login("hank@custom.test", "Hank-pw-8")
        check.eq(pop_stat(c), (len(hank), sum(m.size for m in hank)),
                 "STAT of hank (mailbox directive)")
        c.ok("QUIT")
    check.startswith(attempt(srv, "gina@custom.test", "Gina-pw-7"), b"-ERR [SYS/TEMP]",
                     "a row naming a mailbox type that is not compiled in")
    check.startswith(attempt(srv, "root@custom.test", "Root-pw-0"), b"-ERR [SYS/TEMP]",
                     "a row naming root as the Unix user")
    answers = attempts(srv, [("ivan@custom.test", "Ivan-pw-9"),
                             ("frank@custom.test", "Hank-pw-8")])
    for a in answers:
        check.startswith(a, b"-ERR [AUTH]", "inactive account or wrong password")
    # A query the database rejects is no wrong password.
    broken = ctx.server(mysql_config(db.sock, {
        "auth-mysql-database": "accounts",
        "auth-mysql-pass-query": "SELECT mailbox, secret, owner FROM no_such_table "
                                 "WHERE email = '$(user)'",
    }))
    check.startswith(attempt(broken, "hank@custom.test", "Hank-pw-8"), b"-ERR [SYS/TEMP]",
                     "login through a query on a missing table")
    check.true(broken.wait_log(r"driver=mysql.*query failed: .*no_such_table"),
               "the log does not show the database's complaint")
    # auth-mysql-apop-query: none.
    with srv.connect() as c:
        if c.timestamp:
            check.startswith(c.apop("hank@custom.test", "Hank-pw-8"), b"-ERR",
                             "APOP with auth-mysql-apop-query: none")


# -- hostile user names -------------------------------------------------------

def injection_checks(ctx, db_extra=()):
    s = Setup(ctx, db_extra=db_extra)
    alice_pw = VMAIL_USERS["alice"][0]
    reach_db = [
        # Each would log in, or match every row, if it reached the SQL
        # text unescaped.
        ("x'OR'1'='1@example.com", "anything"),
        ("alice@example.com'OR'1'='1", alice_pw),
        ("alice'#@example.com", alice_pw),
        ("alice@example.com'#", alice_pw),
        ("alice'--'@example.com", alice_pw),
        ("\\'OR'1'='1@example.com", "anything"),
        ("alice\\@example.com", alice_pw),
        ("alice@example.com\\", alice_pw),
        ("\\'';DROP(TABLE)popbox;#@example.com", "anything"),
        ("x'UNION(SELECT'x','{plaintext}pw','nobody','bsd')#@example.com", "pw"),
        ('al"ice@example.com', alice_pw),
        # Not UTF-8; UTF-8 that latin1 columns can hold; UTF-8 that they
        # cannot.
        ("\xbf'OR'1'='1@example.com", "anything"),
        ("\u00fc'OR'1'='1@example.com".encode(), "anything"),
        ("\u0142'OR'1'='1@example.com".encode(), "anything"),
        ("alice@\u0142.example.com".encode(), alice_pw),
        ("alice@example.com", "' OR '1'='1"),
    ]
    with_spaces = [
        ("x' OR '1'='1", "anything"),
        ("\\'; DROP TABLE popbox; -- ", "anything"),
        ("' UNION SELECT 1,2,3,4 -- @example.com", "anything"),
    ]
    answers = attempts(s.srv, reach_db + with_spaces)
    for (name, _), a in zip(reach_db, answers[:len(reach_db)]):
        check.startswith(a, b"-ERR [AUTH]", "login as %r" % name)
    for (name, _), a in zip(with_spaces, answers[len(reach_db):]):
        check.startswith(a, b"-ERR", "login as %r" % name)
    check.eq(s.db.sql("SELECT COUNT(*) FROM popbox", "vmail").strip(),
             str(len(VMAIL_USERS) + 1), "rows of popbox afterwards")
    log = s.srv.log_text()
    check.true("query failed" not in log,
               "a hostile name made a query fail (broke out of its quotes?): %s"
               % [l for l in log.splitlines() if "query failed" in l][:2])
    # Nothing broken for honest users.
    with s.srv.connect() as c:
        c.login(user("alice"), alice_pw)
        check.eq(pop_stat(c), s.stat_of("alice"), "STAT of alice afterwards")
        c.ok("QUIT")
    s.no_secrets_logged()


@test
def injection_attempts(ctx):
    injection_checks(ctx)


@test
def injection_attempts_no_backslash_escapes(ctx):
    """A server where a backslash escapes nothing: quotes must be doubled."""
    injection_checks(ctx, db_extra=["--sql-mode=NO_BACKSLASH_ESCAPES"])


# -- the database going away --------------------------------------------------

@test
def server_killed_mid_session(ctx):
    s = Setup(ctx)
    with s.srv.connect() as c:
        c.login(user("alice"), VMAIL_USERS["alice"][0])
        s.db.kill()
        # The session already has its mailbox; it does not need the database.
        check.eq(pop_stat(c), s.stat_of("alice"), "STAT after the database died")
        body = c.ok_body("RETR 1")
        check.eq(body, s.msgs["alice"][0].served, "RETR 1 after the database died")
        c.ok("QUIT")
    check.startswith(attempt(s.srv, user("bob"), VMAIL_USERS["bob"][0]),
                     b"-ERR [SYS/TEMP]", "login while the database is down")
    with s.srv.connect() as c:
        check.startswith(c.apop(user("carol"), VMAIL_USERS["carol"][0]),
                         b"-ERR [SYS/TEMP]", "APOP while the database is down")
    check.true(s.srv.wait_log(r"login failed temporarily: user=bob@example\.com driver=mysql"),
               "no temporary failure logged")
    # And back again.
    s.db.start()
    with s.srv.connect() as c:
        c.login(user("bob"), VMAIL_USERS["bob"][0])
        c.ok("QUIT")


@test
def server_down_from_start(ctx):
    """The daemon starts without its database and answers [SYS/TEMP]."""
    s = Setup(ctx, start_db=False)
    check.startswith(attempt(s.srv, user("alice"), VMAIL_USERS["alice"][0]),
                     b"-ERR [SYS/TEMP]", "login with no database server")
    check.startswith(attempt(s.srv, user("zed"), "x"),
                     b"-ERR [SYS/TEMP]", "unknown user with no database server")


@test
def unresponsive_server(ctx):
    """A server that accepts but never speaks: the login gives up after the
    connect timeout, and the listener keeps serving others meanwhile."""
    d = ctx.tmpdir("mute")
    path = os.path.join(d, "sock")
    mute = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    mute.bind(path)
    mute.listen(16)
    ctx.defer(mute.close)
    srv = ctx.server(mysql_config(path))
    with srv.connect(timeout=30) as c:
        c.ok("USER " + user("alice"))
        t0 = time.monotonic()
        c.cmd("PASS " + VMAIL_USERS["alice"][0])
        time.sleep(0.5)
        with srv.connect(timeout=2) as other:
            check.startswith(other.greeting, b"+OK", "greeting while a login waits on the database")
        r = c.readline(timeout=30)
        waited = time.monotonic() - t0
    check.startswith(r, b"-ERR [SYS/TEMP]", "login against a silent database")
    check.true(waited < 20, "the login waited %.1fs for a silent database" % waited)


@test
def second_hostname(ctx):
    """auth-mysql-hostname entries are tried in order until one answers."""
    dead = os.path.join(ctx.tmpdir("none"), "no-such-sock")
    s = Setup(ctx, hostnames="%s 127.0.0.1:%d {sock}" % (dead, free_port()))
    with s.srv.connect() as c:
        c.login(user("dave"), VMAIL_USERS["dave"][0])
        check.eq(pop_stat(c), s.stat_of("dave"), "STAT of dave")
        c.ok("QUIT")


@test
def reconnect_after_lost_connection(ctx):
    """A session that already talked to the database and lost the
    connection (killed by the server, or a server restart) reconnects once
    for its next login."""
    s = Setup(ctx)
    with s.srv.connect() as c:
        c.ok("USER " + user("alice"))
        check.startswith(c.reply("PASS Wrong-pw"), b"-ERR [AUTH]", "wrong password")
        ids = s.db.sql("SELECT id FROM information_schema.processlist WHERE user = %s"
                       % sql_quote(DB_USER)).split()
        check.eq(len(ids), 1, "connections of the session to the database")
        s.db.sql("KILL %s" % ids[0])
        c.ok("USER " + user("alice"))
        check.startswith(c.reply("PASS " + VMAIL_USERS["alice"][0]), b"+OK",
                         "login after the connection was killed")
        c.ok("QUIT")
    with s.srv.connect() as c:
        c.ok("USER " + user("bob"))
        check.startswith(c.reply("PASS Wrong-pw"), b"-ERR [AUTH]", "wrong password")
        s.db.restart()
        c.ok("USER " + user("bob"))
        check.startswith(c.reply("PASS " + VMAIL_USERS["bob"][0]), b"+OK",
                         "login after the database restarted")
        c.ok("QUIT")
    # A successful login gives its connection back at once.
    time.sleep(0.2)
    left = s.db.sql("SELECT COUNT(*) FROM information_schema.processlist WHERE user = %s"
                    % sql_quote(DB_USER)).strip()
    check.eq(left, "0", "database connections left after the sessions")
    s.no_secrets_logged()

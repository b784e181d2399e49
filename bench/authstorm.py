#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""authstorm.py: the login storm against MariaDB, with and without the
authentication cache. Starts a private MariaDB (its own data directory and
Unix socket, no TCP) with the vmail-sql schema, two tpop3d daemons on it
(authcache-enable no and yes), and runs popclient's session mode against
each in turns: clients in parallel doing USER, PASS, STAT, QUIT for a
bounded time. Reports logins/s, login latency (USER sent to the PASS
reply) and database statements and connections per login, and writes its
section of results.md. See bench/README.md."""

import argparse
import os
import platform
import pwd
import grp
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
# The private MariaDB server of the integration tests.
sys.path.insert(1, os.path.join(os.path.dirname(HERE), "tests", "integration"))
import mkmbox  # noqa: E402
from harness import mariadb  # noqa: E402
from harness.mariadb import sql_quote  # noqa: E402

DOMAIN = "storm.test"
USER_PREFIX = "storm"
USER_BASE = 1
PASSWORD = "Storm-pw-1"
DB_NAME = "vmail"
DB_USER = "tpop3d"
DB_PASSWORD = "Storm-db-pw"
MAIL_USER, MAIL_GROUP = "nobody", "nogroup"
SECTION_START = "<!-- authstorm: begin -->"
SECTION_END = "<!-- authstorm: end -->"


class BenchError(Exception):
    pass


def say(msg):
    print("authstorm: " + msg, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def stop(proc, timeout=10):
    """End a process this script started, by its id."""
    if proc and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)


def password_hash():
    """A SHA-512 crypt hash with 1000 rounds, the fewest glibc accepts, as
    the rest of the benchmark uses: the database is measured, not crypt."""
    mk = shutil.which("mkpasswd")
    if mk:
        r = subprocess.run([mk, "-m", "sha-512", "-R", "1000", "-S", "stormsaltstorm",
                            PASSWORD], capture_output=True, text=True)
        h = r.stdout.strip()
        if r.returncode == 0 and h.startswith("$6$"):
            return "{SHA512-CRYPT}" + h
    import hashlib
    return "{MD5}" + hashlib.md5(PASSWORD.encode()).hexdigest()


def bench_error(msg):
    raise BenchError(msg)


class MariaDB(mariadb.MariaDB):
    """A private server under WORKDIR/db, stopped by its process id, sized
    for thousands of logins."""

    START_TIMEOUT = 60.0
    INSTALL_TIMEOUT = 180
    SQL_TIMEOUT = 120

    def __init__(self, workdir):
        d = os.path.join(workdir, "db")
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        super().__init__(d, bench_error,
                         innodb=["--innodb-log-file-size=16M",
                                 "--innodb-data-file-path=ibdata1:12M:autoextend",
                                 "--innodb-buffer-pool-size=64M"],
                         extra=["--max-connections=2000"])

    def status(self):
        """Statements and connections the server has counted so far."""
        out = self.sql("SHOW GLOBAL STATUS WHERE Variable_name IN "
                       "('Questions', 'Connections', 'Com_select')")
        return {k: int(v) for k, v in (l.split("\t") for l in out.splitlines())}

    def version(self):
        return self.sql("SELECT VERSION()").strip()


def schema(db, maildir, users):
    rows = ",\n".join("(%s, %s, %s, %s)" % (sql_quote(DOMAIN), sql_quote(u),
                                            sql_quote(password_hash()), sql_quote(u))
                      for u in users)
    db.sql("""
CREATE DATABASE %(db)s;
USE %(db)s;
%(tables)s
INSERT INTO domain VALUES (%(domain)s, %(unix)s, NULL, %(path)s, 1000);
INSERT INTO popbox (domain_name, local_part, password_hash, mbox_name) VALUES
%(rows)s;
CREATE USER %(user)s@'localhost' IDENTIFIED BY %(pw)s;
GRANT SELECT ON %(db)s.* TO %(user)s@'localhost';
""" % {"db": DB_NAME, "tables": mariadb.VMAIL_TABLES, "domain": sql_quote(DOMAIN), "unix": sql_quote(MAIL_USER),
       "path": sql_quote(maildir), "rows": rows, "user": sql_quote(DB_USER),
       "pw": sql_quote(DB_PASSWORD)})


class Daemon:
    def __init__(self, binary, workdir, name, db, cache):
        self.name = name
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.conf = os.path.join(self.dir, "tpop3d.conf")
        self.logpath = os.path.join(self.dir, "daemon.log")
        self.binary = binary
        self.proc = None
        lines = [
            "listen-address: 127.0.0.1:%d(%s)" % (self.port, DOMAIN),
            "max-children: 10000",
            "timeout-seconds: 30",
            "auth-mysql-enable: yes",
            "auth-mysql-hostname: " + db.sock,
            "auth-mysql-database: " + DB_NAME,
            "auth-mysql-username: " + DB_USER,
            "auth-mysql-password: " + DB_PASSWORD,
            "authcache-enable: " + ("yes" if cache else "no"),
        ]
        with open(self.conf, "w") as f:
            f.write("# the login storm of bench/authstorm.py\n" + "\n".join(lines) + "\n")
        os.chmod(self.conf, 0o600)

    def check(self):
        r = subprocess.run([self.binary, "-t", "-f", self.conf], capture_output=True,
                           text=True, timeout=30)
        return r.returncode == 0, (r.stdout + r.stderr).strip()

    def start(self):
        self.log = open(self.logpath, "ab")
        self.proc = subprocess.Popen([self.binary, "-d", "-f", self.conf], cwd=self.dir,
                                     stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=self.log, start_new_session=True)
        deadline = time.monotonic() + 15
        while not listening(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise BenchError("tpop3d (%s) did not start; see %s"
                                 % (self.name, self.logpath))
            time.sleep(0.05)

    def stop(self):
        stop(self.proc)


def parse_kv(text):
    out = {}
    for m in re.finditer(r'(\w+)=("([^"]*)"|\S+)', text):
        out[m.group(1)] = m.group(3) if m.group(3) is not None else m.group(2)
    return out


def storm(popclient, daemon, clients, seconds, db):
    """One bounded storm; returns the popclient figures and the database's
    counters per login."""
    before = db.status()
    r = subprocess.run([popclient, "-p", str(daemon.port), "-U", USER_PREFIX,
                        "-b", str(USER_BASE), "-w", PASSWORD, "-c", str(clients),
                        "-n", "1000000", "-t", str(seconds), "sessions"],
                       capture_output=True, text=True, timeout=seconds + 120)
    after = db.status()
    kv = parse_kv(r.stdout)
    if kv.get("ok") != "1":
        raise BenchError("storm against %s failed: %s %s"
                         % (daemon.name, r.stdout.strip(), r.stderr.strip()))
    n = int(kv["sessions"])
    # The SHOW STATUS of "after" counts one statement; "before"'s was
    # counted before it returned.
    kv["questions_per_login"] = (after["Questions"] - before["Questions"] - 1) / n
    kv["selects_per_login"] = (after["Com_select"] - before["Com_select"]) / n
    kv["connections_per_login"] = (after["Connections"] - before["Connections"] - 1) / n
    return kv


def fmt(v):
    v = float(v)
    if v >= 100:
        return "%.0f" % v
    if v >= 10:
        return "%.1f" % v
    return "%.2f" % v


def machine():
    cpus = os.cpu_count()
    try:
        with open("/proc/loadavg") as f:
            load = " ".join(f.read().split()[:3])
    except OSError:
        load = "?"
    return cpus, load


def write_section(output, text):
    """Put TEXT between the section markers of OUTPUT, replacing an
    earlier one; the rest of the file is left as it is."""
    old = ""
    if os.path.exists(output):
        with open(output) as f:
            old = f.read()
    block = "%s\n%s\n%s\n" % (SECTION_START, text.rstrip("\n"), SECTION_END)
    if SECTION_START in old and SECTION_END in old:
        a = old.index(SECTION_START)
        b = old.index(SECTION_END) + len(SECTION_END) + 1
        new = old[:a] + block + old[b:]
    else:
        new = old.rstrip("\n") + ("\n\n" if old else "") + block
    with open(output, "w") as f:
        f.write(new)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tpop3d", required=True)
    ap.add_argument("--popclient", required=True)
    ap.add_argument("--workdir", default="/tmp/tpop3d-bench/authstorm")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="5 s storms, one run each")
    ap.add_argument("--output", help="results.md to write the section into")
    ap.add_argument("--command", default="bash bench/run.sh",
                    help="the command line to name in the section")
    a = ap.parse_args()
    if a.quick:
        a.seconds, a.runs = 5.0, 1
    if os.geteuid() != 0:
        raise BenchError("run as root (MariaDB and tpop3d run as root here)")

    t_start = time.monotonic()
    shutil.rmtree(a.workdir, ignore_errors=True)
    os.makedirs(a.workdir)
    os.chmod(a.workdir, 0o755)
    users = ["%s%d" % (USER_PREFIX, USER_BASE + i) for i in range(a.clients)]

    maildir = os.path.join(a.workdir, "mail")
    os.makedirs(maildir)
    uid, gid = pwd.getpwnam(MAIL_USER).pw_uid, grp.getgrnam(MAIL_GROUP).gr_gid
    os.chown(maildir, uid, gid)
    box = os.path.join(a.workdir, "small.mbox")
    mkmbox.generate(box, 60 * 1000, 7, 1.0)
    with open(box, "rb") as f:
        data = f.read()
    for u in users:
        path = os.path.join(maildir, u)
        with open(path, "wb") as f:
            f.write(data)
        os.chown(path, uid, gid)
        os.chmod(path, 0o600)

    db = MariaDB(a.workdir)
    daemons = []
    try:
        say("starting MariaDB in %s" % db.dir)
        db.start()
        schema(db, maildir, users)
        daemons = [Daemon(a.tpop3d, a.workdir, "nocache", db, False),
                   Daemon(a.tpop3d, a.workdir, "authcache", db, True)]
        ok, why = daemons[0].check()
        if not ok:
            raise BenchError("this tpop3d cannot use MariaDB (configure found no "
                             "libmariadb-dev?): %s" % why)
        for d in daemons:
            d.start()
            # One login per account first: the first connection of the
            # database and the first use of each mailbox are not the storm.
            subprocess.run([a.popclient, "-p", str(d.port), "-U", USER_PREFIX, "-b",
                            str(USER_BASE), "-w", PASSWORD, "-c", str(a.clients), "-n", "1",
                            "sessions"], capture_output=True, timeout=60)
        best = {}
        for run in range(a.runs):
            for d in daemons:
                say("storm %d/%d against %s: %d clients for %.0f s"
                    % (run + 1, a.runs, d.name, a.clients, a.seconds))
                kv = storm(a.popclient, d, a.clients, a.seconds, db)
                say("  %s logins/s, login p99 %s ms, %.2f statements per login"
                    % (fmt(kv["rate"]), kv["login_p99_ms"], kv["questions_per_login"]))
                if d.name not in best or float(kv["rate"]) > float(best[d.name]["rate"]):
                    best[d.name] = kv
        version = db.version()
    finally:
        for d in daemons:
            d.stop()
        db.stop()

    nc, ca = best["nocache"], best["authcache"]
    cpus, load = machine()
    rows = [
        ("logins/s", fmt(nc["rate"]), fmt(ca["rate"]),
         "%.2fx" % (float(ca["rate"]) / float(nc["rate"]))),
        ("  p50 login latency, USER sent to PASS reply (ms)", fmt(nc["login_p50_ms"]),
         fmt(ca["login_p50_ms"]), "%.2fx" % (float(ca["login_p50_ms"]) / float(nc["login_p50_ms"]))),
        ("  p99 login latency, USER sent to PASS reply (ms)", fmt(nc["login_p99_ms"]),
         fmt(ca["login_p99_ms"]), "%.2fx" % (float(ca["login_p99_ms"]) / float(nc["login_p99_ms"]))),
        ("  p99 session, connect to QUIT reply (ms)", fmt(nc["p99_ms"]), fmt(ca["p99_ms"]),
         "%.2fx" % (float(ca["p99_ms"]) / float(nc["p99_ms"]))),
        ("  database statements per login", "%.2f" % nc["questions_per_login"],
         "%.2f" % ca["questions_per_login"], ""),
        ("  of them SELECTs", "%.2f" % nc["selects_per_login"],
         "%.2f" % ca["selects_per_login"], ""),
        ("  database connections per login", "%.2f" % nc["connections_per_login"],
         "%.2f" % ca["connections_per_login"], ""),
        ("  logins in the storm", nc["sessions"], ca["sessions"], ""),
    ]
    widths = [max(len(r[i]) for r in rows + [("figure", "no cache", "authcache", "ratio")])
              for i in range(4)]

    def line(cells):
        return "| " + " | ".join(c.ljust(widths[i]) for i, c in enumerate(cells)) + " |"

    table = [line(("figure", "no cache", "authcache", "ratio")),
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"] + [line(r) for r in rows]
    text = """## Login storm: auth-mysql with and without the authentication cache

Run with `%s` on %s UTC (`bench/authstorm.py`).

- machine: %d CPUs, %s; load average %s at the start of the storms
- MariaDB %s on a private Unix socket (data directory under the work directory, no TCP); the vmail-sql schema with %d accounts, one per client, passwords as SHA-512 crypt with 1000 rounds
- tpop3d with the mysql driver and its default query, listen-address 127.0.0.1(%s) so that clients log in with the bare local part; one daemon with `authcache-enable: no`, one with `yes`; every process may use every CPU
- %d clients in parallel, each logging in as its own account back to back (connect, USER, PASS, STAT, QUIT on a 60 KB mailbox) for %.0f s; best of %d storm%s per daemon, the daemons taking turns, after one warm-up login per account
- statements and connections per login are MariaDB's `Questions`, `Com_select` and `Connections` counters over the storm, divided by the logins

%s

- Whole scenario: %.0f s.
""" % (a.command, time.strftime("%Y-%m-%d %H:%M", time.gmtime()), cpus,
       platform.platform(terse=True), load, version, len(users), DOMAIN, a.clients,
       a.seconds, a.runs, "" if a.runs == 1 else "s", "\n".join(table), time.monotonic() - t_start)
    print(text)
    if a.output:
        write_section(a.output, text)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as e:
        say(str(e))
        sys.exit(1)

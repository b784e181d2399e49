# SPDX-License-Identifier: GPL-2.0-or-later
"""A private MariaDB server for the mysql driver's tests and the login
storm benchmark: its own data directory, Unix socket (no TCP) and process,
ended by its process id. Only the standard library, so that bench/ can
import it too; failures go through the caller's FAIL function, which must
raise."""

import os
import shutil
import signal
import subprocess
import time

# The tables of the vmail-sql schema that the mysql driver's default query
# reads; the callers add their own rows.
VMAIL_TABLES = """
CREATE TABLE domain (
    domain_name VARCHAR(255) NOT NULL PRIMARY KEY,
    unix_user VARCHAR(255) NOT NULL,
    password_hash VARCHAR(255),
    path VARCHAR(255) NOT NULL,
    max_popbox INT
);
CREATE TABLE popbox (
    domain_name VARCHAR(255) NOT NULL,
    local_part VARCHAR(255) NOT NULL,
    password_hash VARCHAR(255),
    mbox_name VARCHAR(255) NOT NULL,
    PRIMARY KEY (domain_name, local_part)
);
"""

# Small InnoDB files: the data lives only as long as the test.
SMALL_INNODB = ("--innodb-log-file-size=4M",
                "--innodb-data-file-path=ibdata1:4M:autoextend",
                "--innodb-buffer-pool-size=16M")


def sql_quote(s):
    return "'" + s.replace("\\", "\\\\").replace("'", "''") + "'"


def tool(name, fail):
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin")
    if not path:
        fail("%s is not installed (Debian packages mariadb-server, mariadb-client)" % name)
    return path


class MariaDB:
    """A server in DIRECTORY (which must exist), installed at once. INNODB
    options size its files (install and server); EXTRA options go to the
    server only. FAIL(message) is called, and must raise, when the install
    or start fails, the server is not ready within START_TIMEOUT seconds,
    or SQL fails."""

    START_TIMEOUT = 30.0
    INSTALL_TIMEOUT = 120
    SQL_TIMEOUT = 60

    def __init__(self, directory, fail, innodb=SMALL_INNODB, extra=()):
        self.fail = fail
        self.dir = directory
        self.datadir = os.path.join(self.dir, "data")
        self.sock = os.path.join(self.dir, "sock")
        self.pidfile = os.path.join(self.dir, "mariadbd.pid")
        self.errlog = os.path.join(self.dir, "mariadbd.err")
        self.innodb = list(innodb)
        self.extra = list(extra)
        self.proc = None
        self.log = None
        with open(os.path.join(self.dir, "install.log"), "wb") as log:
            r = subprocess.run([tool("mariadb-install-db", fail), "--no-defaults",
                                "--datadir=" + self.datadir, "--user=root",
                                "--auth-root-authentication-method=normal",
                                "--skip-test-db"] + self.innodb,
                               stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                               timeout=self.INSTALL_TIMEOUT)
        if r.returncode != 0:
            fail("mariadb-install-db exit status %d; see %s/install.log"
                 % (r.returncode, self.dir))

    def start(self):
        """Start the server and wait until it answers; returns self."""
        if self.proc is not None:
            self.fail("MariaDB started twice")
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        self.log = open(self.errlog, "ab")
        self.proc = subprocess.Popen(
            [tool("mariadbd", self.fail), "--no-defaults", "--datadir=" + self.datadir,
             "--socket=" + self.sock, "--skip-networking", "--user=root",
             "--pid-file=" + self.pidfile, "--log-error=" + self.errlog]
            + self.innodb + self.extra,
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
            start_new_session=True)
        deadline = time.monotonic() + self.START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                self.fail("mariadbd exited with status %s; its log (%s):\n%s"
                          % (self.proc.returncode, self.errlog, self.log_tail()))
            if os.path.exists(self.sock) and self.ping():
                return self
            if time.monotonic() > deadline:
                self.fail("mariadbd not ready after %.0fs; see %s"
                          % (self.START_TIMEOUT, self.errlog))
            time.sleep(0.05)

    def ping(self):
        r = subprocess.run([tool("mariadb", self.fail), "--no-defaults",
                            "--socket=" + self.sock, "-u", "root", "--batch", "-e",
                            "SELECT 1"],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
        return r.returncode == 0

    def kill(self):
        """Kill the server outright, as a crash would."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(20)
        if self.proc:
            self.proc = None
            self.log.close()

    def stop(self):
        # The data is thrown away with its directory: no clean shutdown.
        self.kill()

    def restart(self):
        self.kill()
        return self.start()

    def sql(self, text, database=None):
        """Run TEXT as root (in DATABASE if given); its output, tab-separated
        rows without column names."""
        args = [tool("mariadb", self.fail), "--no-defaults", "--socket=" + self.sock,
                "-u", "root", "--batch", "--skip-column-names"]
        if database:
            args.append(database)
        r = subprocess.run(args, input=text.encode(), capture_output=True,
                           timeout=self.SQL_TIMEOUT)
        if r.returncode != 0:
            self.fail("SQL failed: %s" % r.stderr.decode("latin-1").strip())
        return r.stdout.decode("utf-8")

    def log_tail(self, n=20):
        try:
            with open(self.errlog, "rb") as f:
                return "\n".join(f.read().decode("latin-1").splitlines()[-n:])
        except OSError:
            return "(no log)"

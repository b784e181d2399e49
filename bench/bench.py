#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""bench.py: measure tpop3d against Dovecot and popa3d on the same generated
mailboxes, side by side in one run, and print the table of results.

bench/run.sh builds everything and calls this as root. The outer process
creates the benchmark accounts and mailboxes; the measurements run in a
private network and PID namespace (only its own loopback, and every process
started there ends with it); the outer process then writes the table and
removes what it created."""

import argparse
import datetime
import fcntl
import grp
import hashlib
import json
import os
import platform
import pwd
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time

# No __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mkmbox  # noqa: E402

ROOT = "/tmp/tpop3d-bench"
USER_COMMENT = "tpop3d benchmark"
POPA3D_COMMENT = "popa3d for the tpop3d benchmark"
PASSWORD = "Bench-pass-7"
SERVERS = ("dovecot", "popa3d", "tpop3d")
MAIL_SPOOL = "/var/mail"          # compiled into Debian's popa3d
POPA3D_CHROOT = "/var/lib/popa3d"  # likewise, with its user "popa3d"
# tpop3d's pre-login part: the defaults of privsep-user and
# privsep-directory, which make install sets up.
TPOP3D_PRIVSEP_USER = "tpop3d"
TPOP3D_PRIVSEP_DIR = "/var/lib/tpop3d/empty"
TPOP3D_COMMENT = "tpop3d privsep user for the benchmark"

# Ports inside the private network namespace, where nothing else listens.
PORTS = {"tpop3d": 1110, "dovecot": 2110, "popa3d": 110, "memserver": 3110,
         # Implicit TLS (POP3S): an extra listener of the same tpop3d, and a
         # second Dovecot instance with ssl = yes (see write_configs).
         "tpop3d-tls": 1995, "dovecot-tls": 2995, "memserver-tls": 3995}
TLS_DIR = os.path.join(ROOT, "tls")
TLS_CERT = os.path.join(TLS_DIR, "cert.pem")
TLS_KEY = os.path.join(TLS_DIR, "key.pem")
# The TLS part: its downloads use these mailboxes (those the profile has),
# its session test this many clients.
TLS_SIZES = ("100 MB", "1 GB")
TLS_CLIENTS = 4

# name: (user, approximate bytes, seed, share of bytes in small messages)
MAILBOXES = {
    "10 MB": ("tpbench1", 10 * 10**6, 10, 0.8),
    "100 MB": ("tpbench2", 100 * 10**6, 100, 0.5),
    "1 GB": ("tpbench3", 10**9, 1000, 0.35),
}
SMALL = ("small", 60 * 1000, 7, 1.0)   # the session-rate mailbox, one per client
SESSION_USER_PREFIX = "tpbench"
SESSION_USER_BASE = 10
SESSION_CLIENTS = (1, 4, 16)
# popa3d's standalone mode: MAX_SESSIONS (500) slots, each held for MIN_DELAY
# (10 s) after a session starts; the burst stays a little below.
POPA3D_BURST = 448
POPA3D_WINDOW = 10
# In the order they run: the first open of a mailbox must come first.
MEASUREMENTS = ("open", "downloads", "memory", "sessions", "tls", "commit")

PROFILES = {
    "full": {
        "sizes": ["10 MB", "100 MB", "1 GB"],
        "reps": {"10 MB": 5, "100 MB": 5, "1 GB": 3},
        "rep_budget": 30.0,        # no new repetition after this many seconds
        "download_bound": 60.0,    # a download stops asking for more after this
        "sessions_count": 300,
        "sessions_bound": 15.0,
        "session_reps": 2,
        "reopen_reps": 5,
        "open_size": "1 GB",
        "commit_sizes": ["100 MB", "1 GB"],
    },
    "quick": {
        "sizes": ["10 MB", "100 MB"],
        "reps": {"10 MB": 3, "100 MB": 2},
        "rep_budget": 8.0,
        "download_bound": 15.0,
        "sessions_count": 100,
        "sessions_bound": 5.0,
        "session_reps": 1,
        "reopen_reps": 3,
        "open_size": "100 MB",
        "commit_sizes": ["100 MB"],
    },
}


class SetupError(Exception):
    pass


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def run(argv, **kw):
    kw.setdefault("check", True)
    kw.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.run(argv, **kw)


# --------------------------------------------------------------------------
# Outer part: accounts, mailboxes, configs, clean-up.
# --------------------------------------------------------------------------

class Created:
    """What this run (or an earlier, interrupted one) created outside ROOT,
    so that exactly that is removed."""

    PATH = os.path.join(ROOT, "created.json")

    def __init__(self):
        self.users = []
        self.files = []
        self.dirs = []

    def save(self):
        os.makedirs(ROOT, exist_ok=True)
        with open(self.PATH + ".new", "w") as f:
            json.dump({"users": self.users, "files": self.files, "dirs": self.dirs}, f)
        os.rename(self.PATH + ".new", self.PATH)

    @classmethod
    def load(cls):
        c = cls()
        try:
            with open(cls.PATH) as f:
                d = json.load(f)
            c.users, c.files, c.dirs = d["users"], d["files"], d["dirs"]
        except (OSError, ValueError, KeyError):
            pass
        return c

    def remove(self):
        for path in self.files:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
        for user in self.users:
            for _ in range(50):
                r = subprocess.run(["userdel", user], stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                # 8: the user is still logged in (a session not yet gone).
                if r.returncode != 8:
                    break
                time.sleep(0.1)
            else:
                log("could not remove user %s: %s" % (user, r.stderr.decode().strip()))
        for path in self.dirs:
            try:
                os.rmdir(path)
            except FileNotFoundError:
                pass
            except OSError as e:
                log("left %s: %s" % (path, e))
        self.users, self.files, self.dirs = [], [], []
        try:
            os.unlink(self.PATH)
        except FileNotFoundError:
            pass


def password_hash():
    """SHA-512 crypt with 1000 rounds, the cheapest glibc takes: the servers
    are measured, not crypt(3)."""
    r = run(["mkpasswd", "-m", "sha-512", "-R", "1000", PASSWORD], stdout=subprocess.PIPE)
    h = r.stdout.decode().strip()
    if not h.startswith("$6$rounds=1000$"):
        raise SetupError("mkpasswd gave an unexpected hash: %r" % h)
    return h


def ensure_user(name, comment, created, extra=()):
    try:
        pw = pwd.getpwnam(name)
    except KeyError:
        pw = None
    if pw is not None:
        if pw.pw_gecos != comment:
            raise SetupError("user %s exists and was not made by the benchmark; "
                             "remove it or change the names in bench.py" % name)
    else:
        run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin",
             "--comment", comment] + list(extra) + [name])
    if name not in created.users:
        created.users.append(name)
        created.save()
    return pwd.getpwnam(name)


def session_users():
    return ["%s%d" % (SESSION_USER_PREFIX, SESSION_USER_BASE + i)
            for i in range(max(SESSION_CLIENTS))]


def make_users(created, profile):
    h = password_hash()
    users = [MAILBOXES[s][0] for s in profile["sizes"]] + session_users()
    for u in users:
        ensure_user(u, USER_COMMENT, created,
                    ["--home-dir", "/nonexistent", "--user-group"])
        run(["usermod", "-p", h, u])
    # popa3d runs its pre-login part as the user popa3d in an empty chroot.
    ensure_user("popa3d", POPA3D_COMMENT, created,
                ["--system", "--home-dir", POPA3D_CHROOT, "--user-group"])
    if not os.path.isdir(POPA3D_CHROOT):
        os.mkdir(POPA3D_CHROOT, 0o755)
        created.dirs.append(POPA3D_CHROOT)
        created.save()
    # tpop3d likewise; an existing account (make install's) is used as is.
    try:
        pwd.getpwnam(TPOP3D_PRIVSEP_USER)
    except KeyError:
        ensure_user(TPOP3D_PRIVSEP_USER, TPOP3D_COMMENT, created,
                    ["--system", "--home-dir", "/nonexistent", "--user-group"])
    for d in (os.path.dirname(TPOP3D_PRIVSEP_DIR), TPOP3D_PRIVSEP_DIR):
        if not os.path.isdir(d):
            os.mkdir(d, 0o755)
            created.dirs.insert(0, d)
            created.save()
    return users


def generate_mailboxes(profile):
    """The originals and, for the commit test, the expected results. Kept
    across runs with --keep: a stamp names what a file was made from."""
    d = os.path.join(ROOT, "mbox")
    os.makedirs(d, exist_ok=True)
    out = {}
    specs = [(s, MAILBOXES[s]) for s in profile["sizes"]] + [("small", SMALL)]
    for name, (_, size, seed, frac) in specs:
        base = os.path.join(d, name.replace(" ", ""))
        stamp = "%d %d %s %s" % (size, seed, frac, mkmbox_version())
        try:
            with open(base + ".stamp") as f:
                fresh = f.read() == stamp and os.path.exists(base + ".expected")
        except OSError:
            fresh = False
        if not fresh:
            t0 = time.monotonic()
            n, nbytes = mkmbox.generate(base + ".mbox", size, seed, frac, base + ".expected")
            with open(base + ".stamp", "w") as f:
                f.write(stamp)
            log("generated %s mailbox: %d messages, %d bytes (%.1f s)"
                % (name, n, nbytes, time.monotonic() - t0))
        out[name] = base
    return out


def mkmbox_version():
    with open(mkmbox.__file__, "rb") as f:
        return hashlib.md5(f.read()).hexdigest()[:12]


def copy_mailbox(src, dst, user, group=None, mode=0o600):
    pw = pwd.getpwnam(user)
    gid = pwd.getpwnam(user).pw_gid if group is None else group
    tmp = dst + ".bench-tmp"
    shutil.copyfile(src, tmp)
    os.chown(tmp, pw.pw_uid, gid)
    os.chmod(tmp, mode)
    os.rename(tmp, dst)


def mail_gid():
    return grp.getgrnam("mail").gr_gid


def spool_of(server):
    return MAIL_SPOOL if server == "popa3d" else os.path.join(ROOT, server, "spool")


def place_mailboxes(profile, boxes, created, servers=SERVERS):
    """Each server gets its own copy of every mailbox."""
    for server in servers:
        spool = spool_of(server)
        if server != "popa3d":
            shutil.rmtree(os.path.join(ROOT, server), ignore_errors=True)
            os.makedirs(spool)
            os.chmod(os.path.join(ROOT, server), 0o755)
            # Sessions run as the mailbox owners and create NAME.lock here.
            os.chmod(spool, 0o1777)
        jobs = [(boxes[s] + ".mbox", MAILBOXES[s][0]) for s in profile["sizes"]]
        jobs += [(boxes["small"] + ".mbox", u) for u in session_users()]
        for src, user in jobs:
            dst = os.path.join(spool, user)
            if server == "popa3d":
                if dst not in created.files:
                    created.files.append(dst)
                    created.save()
                copy_mailbox(src, dst, user, mail_gid(), 0o660)
            else:
                copy_mailbox(src, dst, user)
    if "dovecot" not in servers:
        return
    d = os.path.join(ROOT, "dovecot")
    for sub in ("mail", "home"):
        os.makedirs(os.path.join(d, sub))
        os.chmod(os.path.join(d, sub), 0o755)
        for user in [MAILBOXES[s][0] for s in profile["sizes"]] + session_users():
            p = os.path.join(d, sub, user)
            os.mkdir(p, 0o700)
            pw = pwd.getpwnam(user)
            os.chown(p, pw.pw_uid, pw.pw_gid)


# Settings beyond the defaults that a build may not know yet; each is used
# only when "tpop3d -t" accepts it. The index cache is what Dovecot has too.
TPOP3D_OPTIONAL = ("mailspool-index: $(path)/.$(file).tpop3d-index",)


def make_certificate():
    """A self-signed EC P-256 certificate for both servers' TLS listeners."""
    os.makedirs(TLS_DIR, exist_ok=True)
    os.chmod(TLS_DIR, 0o755)
    if os.path.exists(TLS_CERT) and os.path.exists(TLS_KEY):
        return
    run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-days", "30", "-subj", "/CN=localhost", "-keyout", TLS_KEY,
         "-out", TLS_CERT], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.chmod(TLS_KEY, 0o600)


DOVECOT_CONF = """# Dovecot for the benchmark{what}.
base_dir = {d}/run{tag}
state_dir = {d}/state{tag}
instance_name = tpop3d-bench{tag}
log_path = {d}/dovecot{tag}.log
protocols = pop3
listen = 127.0.0.1
{ssl}disable_plaintext_auth = no
auth_mechanisms = plain
first_valid_uid = 1000
mail_location = mbox:{d}/mail/%u:INBOX={d}/spool/%u
pop3_no_flag_updates = yes
passdb {{
  driver = shadow
}}
userdb {{
  driver = passwd
  override_fields = home={d}/home/%u
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = {pop3s}
{pop3s_ssl}  }}
}}
"""


def write_configs(tpop3d):
    t = os.path.join(ROOT, "tpop3d")
    conf = os.path.join(t, "tpop3d.conf")
    make_certificate()
    listen = "127.0.0.1:%d" % PORTS["tpop3d"]
    tls_listen = "%s 127.0.0.1:%d;tls=immediate,%s,%s" % (listen, PORTS["tpop3d-tls"],
                                                          TLS_CERT, TLS_KEY)
    common = ("max-children: 10000\n"
              "timeout-seconds: 600\n"
              "mailbox: bsd:%s/$(user)\n"
              "auth-passwd-enable: yes\n" % os.path.join(t, "spool"))
    # The TLS listener only when this build takes it; otherwise the TLS
    # part of the run reports tpop3d as not measured.
    with open(conf, "w") as f:
        f.write("listen-address: %s\n%s" % (tls_listen, common))
    os.chmod(conf, 0o600)
    r = subprocess.run([tpop3d, "-t", "-f", conf], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    tls_ok = r.returncode == 0
    if not tls_ok:
        log("this tpop3d does not take a tls=immediate listener: %s"
            % r.stdout.decode(errors="replace").strip()[:200])
    base = ("# tpop3d for the benchmark\n"
            "listen-address: %s\n%s" % (tls_listen if tls_ok else listen, common))
    # Extra directives for a variant of tpop3d (say, "privsep-relay: yes").
    base += "".join(l.strip() + "\n" for l in
                    os.environ.get("TPOP3D_BENCH_CONFIG", "").split(";") if l.strip())
    extra = []
    for line in TPOP3D_OPTIONAL:
        with open(conf, "w") as f:
            f.write(base + line + "\n")
        os.chmod(conf, 0o600)
        r = subprocess.run([tpop3d, "-t", "-f", conf], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        name = line.split(":")[0]
        if r.returncode == 0 and name not in r.stdout.decode(errors="replace"):
            extra.append(line)
        else:
            log("this tpop3d does not take \"%s\"; running without it" % name)
    with open(conf, "w") as f:
        f.write(base + "".join(line + "\n" for line in extra))
    os.chmod(conf, 0o600)
    d = os.path.join(ROOT, "dovecot")
    if not os.path.isdir(d):
        return tls_ok
    # POP3S in a second instance, so that the plain figures come from a
    # Dovecot whose login processes do not load a certificate.
    for tag, ssl_lines, ports, what in (
            ("", "ssl = no\n", (PORTS["dovecot"], 0, ""),
             ": POP3 only, on the loopback, private paths"),
            ("-tls",
             "ssl = yes\nssl_cert = <%s\nssl_key = <%s\nssl_min_protocol = TLSv1.2\n"
             % (TLS_CERT, TLS_KEY), (0, PORTS["dovecot-tls"], "    ssl = yes\n"),
             " over TLS: POP3S only, the same mailboxes")):
        for sub in ("run", "state"):
            os.makedirs(os.path.join(d, sub + tag), exist_ok=True)
            os.chmod(os.path.join(d, sub + tag), 0o755)
        with open(os.path.join(d, "dovecot%s.conf" % tag), "w") as f:
            f.write(DOVECOT_CONF.format(d=d, tag=tag, ssl=ssl_lines, what=what,
                                        pop3=ports[0], pop3s=ports[1], pop3s_ssl=ports[2]))
    return tls_ok


def machine_info():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = "%.1f GiB" % (kb / 1024.0 / 1024.0)
    except (OSError, ValueError, IndexError):
        pass
    try:
        with open("/proc/loadavg") as f:
            load = " ".join(f.read().split()[:3])
    except OSError:
        load = "?"
    return {
        "load": load,
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory": mem,
        "kernel": platform.release(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def versions(bins, srcdir):
    v = {}
    r = subprocess.run([bins["dovecot"], "--version"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    v["dovecot"] = "Dovecot " + r.stdout.decode().strip()
    r = subprocess.run([bins["popa3d"], "-V"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    v["popa3d"] = r.stdout.decode().strip().splitlines()[0] if r.stdout else "popa3d"
    r = subprocess.run([bins["tpop3d"], "-h"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    first = r.stdout.decode().splitlines()[0] if r.stdout else "tpop3d"
    v["tpop3d"] = first.split(":")[0]
    r = subprocess.run(["git", "-C", srcdir, "describe", "--always", "--dirty"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       stdin=subprocess.DEVNULL)
    if r.returncode == 0 and r.stdout.strip():
        v["tpop3d"] += " (git %s)" % r.stdout.decode().strip()
    return v


PROFILE_DIR = "/tmp/tpop3d-profile"
PROFILE_TOOLS = ("callgrind", "perf")
PROFILE_MODES = ("download", "download1", "open", "reopen", "commit")


def parse_profile_arg(text):
    """TOOL[,MODE[,SIZE]], e.g. callgrind,open,small or perf,download,1GB."""
    parts = text.split(",")
    tool = parts[0]
    mode = parts[1] if len(parts) > 1 else "download"
    size = parts[2] if len(parts) > 2 else "100MB"
    sizes = {k.replace(" ", ""): k for k in MAILBOXES}
    if tool not in PROFILE_TOOLS or mode not in PROFILE_MODES or len(parts) > 3 or \
            (size != "small" and size not in sizes):
        raise SetupError("--profile=TOOL[,MODE[,SIZE]]: TOOL one of %s, MODE one of %s, "
                         "SIZE one of %s or small" % (", ".join(PROFILE_TOOLS),
                                                      ", ".join(PROFILE_MODES),
                                                      ", ".join(sizes)))
    return {"tool": tool, "mode": mode, "size": "small" if size == "small" else sizes[size]}


def outer(args):
    if os.geteuid() != 0:
        raise SetupError("run as root: the benchmark creates system users and starts "
                         "servers that drop privileges to them")
    profile_name = "quick" if args.quick else "full"
    profile = dict(PROFILES[profile_name])
    prof = parse_profile_arg(args.profile) if args.profile else None
    if prof:
        # Only tpop3d, only the mailbox the profiled session needs.
        profile["sizes"] = [] if prof["size"] == "small" else [prof["size"]]
    bins = {"tpop3d": args.tpop3d, "popa3d": args.popa3d, "dovecot": args.dovecot,
            "popclient": args.popclient, "memserver": args.memserver}
    for k, p in bins.items():
        if not os.access(p, os.X_OK):
            raise SetupError("%s: %s is not executable" % (k, p))
    leftover = Created.load()
    if leftover.users or leftover.files or leftover.dirs:
        log("removing what an interrupted run left behind")
        leftover.remove()
    created = Created()
    t_start = time.monotonic()
    results = None
    try:
        os.makedirs(ROOT, exist_ok=True)
        os.chmod(ROOT, 0o755)
        make_users(created, profile)
        boxes = generate_mailboxes(profile)
        place_mailboxes(profile, boxes, created, ("tpop3d",) if prof else SERVERS)
        tls_ok = write_configs(bins["tpop3d"])
        plan = {"tpop3d_tls": tls_ok,"profile": profile_name, "bins": bins, "boxes": boxes,
                "machine": machine_info(), "versions": versions(bins, args.srcdir),
                "drop_caches": not args.no_drop_caches,
                "only": args.only.split(",") if args.only else None, "prof": prof}
        plan_path = os.path.join(ROOT, "plan.json")
        with open(plan_path, "w") as f:
            json.dump(plan, f)
        res_path = os.path.join(ROOT, "results.json")
        if os.path.exists(res_path):
            os.unlink(res_path)
        log("setup done in %.0f s; measuring in a private network namespace"
            % (time.monotonic() - t_start))
        r = subprocess.run(["unshare", "--net", "--pid", "--fork", "--mount-proc",
                            "--kill-child", sys.executable, os.path.abspath(__file__),
                            "--inner", plan_path], stdin=subprocess.DEVNULL)
        if prof:
            if r.returncode != 0:
                raise SetupError("profiling failed (status %d); run with --keep and see "
                                 "the logs under %s" % (r.returncode, ROOT))
            return 0
        if r.returncode != 0 or not os.path.exists(res_path):
            raise SetupError("the measurements failed (status %d); run with --keep and "
                             "see the logs under %s" % (r.returncode, ROOT))
        with open(res_path) as f:
            results = json.load(f)
        results["elapsed"] = time.monotonic() - t_start
        only = args.only.split(",") if args.only else list(MEASUREMENTS)
        command = "bash bench/run.sh" + "".join(
            " " + a for a in (("--quick" if args.quick else ""),
                              ("--only=" + args.only if args.only else "")) if a)
        tls_text = render_tls(results, command)
        if only == ["tls"]:
            # Only the TLS part ran: the rest of the results file stays.
            try:
                with open(args.output) as f:
                    old = f.read()
            except FileNotFoundError:
                old = ""
            text = replace_tls_section(old, tls_text) if tls_text else old
            print()
            print(tls_text)
        else:
            text = render(results)
            print()
            print(text)
            if tls_text:
                print(tls_text)
                text += "\n" + tls_block(tls_text)
        with open(args.output, "w") as f:
            f.write(text)
        log("table written to %s (%.0f s in all)" % (args.output, results["elapsed"]))
    finally:
        created.remove()
        if args.keep:
            log("kept %s" % ROOT)
        else:
            shutil.rmtree(ROOT, ignore_errors=True)
    return 0


# --------------------------------------------------------------------------
# Inner part, in the private namespaces: servers and measurements.
# --------------------------------------------------------------------------

def loopback_up():
    SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        req = struct.pack("16sh", b"lo", 0)
        flags = struct.unpack("16sh", fcntl.ioctl(s, SIOCGIFFLAGS, req))[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sh", b"lo", flags | IFF_UP))
    finally:
        s.close()


def tcp_table():
    """(local port, remote port, state, inode) of every IPv4 socket."""
    out = []
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            p = line.split()
            out.append((int(p[1].split(":")[1], 16), int(p[2].split(":")[1], 16),
                        p[3], p[9]))
    return out


def listening(port):
    return any(lp == port and st == "0A" for lp, _, st, _ in tcp_table())


def pids_holding(inode):
    want = "socket:[%s]" % inode
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            for fd in os.listdir("/proc/%s/fd" % d):
                if os.readlink("/proc/%s/fd/%s" % (d, fd)) == want:
                    found.append(int(d))
                    break
        except OSError:
            continue
    return found


def status_field(pid, name):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(name + ":"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def ppid_of(pid):
    v = status_field(pid, "PPid")
    return int(v) if v else 0


def comm_of(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return "?"


class Inner:
    def __init__(self, plan):
        self.plan = plan
        self.profile = PROFILES[plan["profile"]]
        self.bins = plan["bins"]
        self.boxes = plan["boxes"]
        self.procs = {}
        self.popa3d_pid = None
        self.server_cpus = None
        self.unpinned = False
        self.logf = open(os.path.join(ROOT, "bench.log"), "a")
        self.res = {"profile": plan["profile"], "machine": plan["machine"],
                    "versions": plan["versions"], "download": {}, "open": {},
                    "sessions": {}, "commit": {}, "memory": {}, "failed": {},
                    "notes": [], "sizes": self.profile["sizes"],
                    "tls": {"download": {}, "sessions": {}, "failed": {}, "desc": {}},
                    "open_size": self.profile["open_size"],
                    "reps": self.profile["reps"], "reopen_reps": self.profile["reopen_reps"],
                    "session_reps": self.profile["session_reps"],
                    "commit_sizes": self.profile["commit_sizes"]}

    # -- CPUs ---------------------------------------------------------------
    def split_cpus(self):
        """The client on the first CPU, the servers on the others, as if
        they were different hosts. Left to the scheduler, a request and its
        reply cost five times more when the two land on different CPUs than
        on the same one (wake-up latency), and which happens is chance."""
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) < 2:
            self.server_cpus = None
            self.res["cpus"] = "client and servers share the only CPU"
            return
        self.all_cpus = set(cpus)
        self.client_cpus = {cpus[0]}
        self.server_cpus = set(cpus[1:])
        # This process and every client it starts.
        os.sched_setaffinity(0, self.client_cpus)
        self.res["cpus"] = ("client on CPU %d, servers on CPU%s %s, except in the session "
                            "test, where every process may use every CPU" % (
                                cpus[0], "s" if len(cpus) > 2 else "",
                                ",".join(str(c) for c in cpus[1:])))

    def pin_server(self):
        if self.server_cpus and not self.unpinned:
            os.sched_setaffinity(0, self.server_cpus)

    def set_pinning(self, pinned):
        """Pin (client and servers apart) or free every process of the
        namespace. Sessions in parallel are the servers' chance to use every
        CPU, so the session test runs unpinned; the new processes a server
        forks inherit its setting."""
        if not self.server_cpus:
            return
        self.unpinned = not pinned
        for d in os.listdir("/proc"):
            if not d.isdigit() or int(d) == os.getpid():
                continue
            try:
                os.sched_setaffinity(int(d), self.server_cpus if pinned else self.all_cpus)
            except OSError:
                pass    # gone meanwhile
        os.sched_setaffinity(0, self.client_cpus if pinned else self.all_cpus)

    # -- servers ------------------------------------------------------------
    def start_servers(self):
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"}
        t = os.path.join(ROOT, "tpop3d")
        self.procs["tpop3d"] = subprocess.Popen(
            [self.bins["tpop3d"], "-d", "-f", os.path.join(t, "tpop3d.conf"),
             "-p", os.path.join(t, "tpop3d.pid")],
            stdin=subprocess.DEVNULL, stdout=open(os.path.join(t, "tpop3d.log"), "ab"),
            stderr=subprocess.STDOUT, env=env, cwd=t, preexec_fn=self.pin_server)
        d = os.path.join(ROOT, "dovecot")
        self.procs["dovecot"] = subprocess.Popen(
            [self.bins["dovecot"], "-F", "-c", os.path.join(d, "dovecot.conf")],
            stdin=subprocess.DEVNULL, stdout=open(os.path.join(d, "stdout.log"), "ab"),
            stderr=subprocess.STDOUT, env=env, cwd=d, preexec_fn=self.pin_server)
        # popa3d -D listens on port 110 of every address: here, that is the
        # private loopback and nothing else. It detaches; its listener is
        # found by the socket.
        run([self.bins["popa3d"], "-D"], env=env, preexec_fn=self.pin_server)
        for server in SERVERS:
            self.wait_listening(server)
        if self.wants("tls"):
            self.procs["dovecot-tls"] = subprocess.Popen(
                [self.bins["dovecot"], "-F", "-c", os.path.join(d, "dovecot-tls.conf")],
                stdin=subprocess.DEVNULL, stdout=open(os.path.join(d, "stdout-tls.log"), "ab"),
                stderr=subprocess.STDOUT, env=env, cwd=d, preexec_fn=self.pin_server)
            for server in ("dovecot-tls", "tpop3d-tls"):
                if server == "tpop3d-tls" and not self.plan.get("tpop3d_tls"):
                    continue
                try:
                    self.wait_listening(server)
                except SetupError as e:
                    self.res["tls"]["failed"][server] = str(e)
                    log(str(e))
        inode = [i for lp, _, st, i in tcp_table() if lp == PORTS["popa3d"] and st == "0A"][0]
        self.popa3d_pid = pids_holding(inode)[0]

    def wants(self, name):
        return name in (self.plan.get("only") or MEASUREMENTS)

    def wait_listening(self, server, timeout=20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            p = self.procs.get(server)
            if p is not None and p.poll() is not None:
                raise SetupError("%s exited with status %s before listening"
                                 % (server, p.returncode))
            if listening(PORTS[server]):
                return
            time.sleep(0.05)
        raise SetupError("%s is not listening on port %d" % (server, PORTS[server]))

    def stop_servers(self):
        for server, p in list(self.procs.items()):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        if self.popa3d_pid:
            try:
                os.kill(self.popa3d_pid, signal.SIGTERM)
                # It was re-parented to this process, the namespace's init.
                for _ in range(100):
                    if os.waitpid(self.popa3d_pid, os.WNOHANG)[0]:
                        break
                    time.sleep(0.05)
            except (ProcessLookupError, ChildProcessError):
                pass

    def start_memserver(self, mbox, tls=False):
        argv = [self.bins["memserver"], str(PORTS["memserver-tls" if tls else "memserver"]),
                mbox] + ([TLS_CERT, TLS_KEY] if tls else [])
        p = subprocess.Popen(argv,
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=self.logf, preexec_fn=self.pin_server)
        line = p.stdout.readline().decode()
        if not line.startswith("ready"):
            p.kill()
            p.wait()
            raise SetupError("memserver did not start: %r" % line)
        return p

    @staticmethod
    def stop_proc(p):
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()

    # -- the client ---------------------------------------------------------
    def client(self, server, mode, *opts, timeout=900):
        # SERVER-tls: the server's implicit-TLS listener.
        tls = ["-s"] if server.endswith("-tls") else []
        argv = [self.bins["popclient"], "-p", str(PORTS[server]), "-w", PASSWORD] + \
            tls + [str(o) for o in opts] + [mode]
        t0 = time.monotonic()
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, timeout=timeout)
        out = r.stdout.decode(errors="replace").strip()
        err = r.stderr.decode(errors="replace").strip()
        self.logf.write("%s %s: %s%s (%.2f s)\n" % (server, " ".join(argv[3:]), out,
                                                     (" / " + err) if err else "",
                                                     time.monotonic() - t0))
        self.logf.flush()
        kv = parse_kv(out)
        kv["status"] = r.returncode
        if err:
            kv["stderr"] = err
        return kv

    def drop_caches(self):
        if not self.plan["drop_caches"]:
            return False
        os.sync()
        try:
            with open("/proc/sys/vm/drop_caches", "w") as f:
                f.write("3\n")
            return True
        except OSError:
            return False

    # -- measurements -------------------------------------------------------
    def check_logins(self):
        """A session on the small mailbox of each server; a server that
        cannot serve it is left out of every figure."""
        user = "%s%d" % (SESSION_USER_PREFIX, SESSION_USER_BASE)
        for server in SERVERS:
            kv = self.client(server, "open", "-u", user, "-T", "30")
            if kv.get("ok") != "1":
                self.res["failed"][server] = "login failed: %s" % kv.get("error", kv)
                log("%s: %s" % (server, self.res["failed"][server]))

    def live(self):
        return [s for s in SERVERS if s not in self.res["failed"]]

    def forget(self, server, user):
        """Remove what a server keeps about a mailbox between sessions, so
        the next session sees it for the first time."""
        if server == "dovecot":
            d = os.path.join(ROOT, "dovecot", "mail", user)
            for name in os.listdir(d):
                p = os.path.join(d, name)
                if os.path.isdir(p) and not os.path.islink(p):
                    shutil.rmtree(p)
                else:
                    os.unlink(p)
        elif server == "tpop3d":
            # Its mailspool-index cache, .USER.tpop3d-index by default.
            spool = spool_of("tpop3d")
            for name in os.listdir(spool):
                if name.startswith(user + ".") or name.startswith("." + user + "."):
                    os.unlink(os.path.join(spool, name))

    def measure_open(self):
        size = self.profile["open_size"]
        user = MAILBOXES[size][0]
        for server in self.live():
            r = {}
            dropped = self.drop_caches()
            kv = self.client(server, "open", "-u", user)
            if kv.get("ok") != "1":
                r["error"] = kv.get("error", "failed")
                self.res["open"][server] = r
                continue
            r["cold_ms"] = float(kv["open_ms"])
            r["cold_dropped"] = dropped
            reopen = []
            for _ in range(self.profile["reopen_reps"]):
                kv = self.client(server, "open", "-u", user)
                if kv.get("ok") == "1":
                    reopen.append(float(kv["open_ms"]))
            if reopen:
                r["reopen_ms"] = sorted(reopen)[len(reopen) // 2]
            self.forget(server, user)
            kv = self.client(server, "open", "-u", user)
            if kv.get("ok") == "1":
                r["first_cached_ms"] = float(kv["open_ms"])
            self.res["open"][server] = r
            log("%s: open %s: first %.1f ms (page cache %s), first with the file cached "
                "%.1f ms, re-open %.1f ms" % (server, size, r["cold_ms"],
                                              "dropped" if dropped else "warm",
                                              r.get("first_cached_ms", -1),
                                              r.get("reopen_ms", -1)))

    def download_run(self, server, user, depth):
        kv = self.client(server, "download", "-u", user, "-d", depth,
                         "-t", self.profile["download_bound"])
        if kv.get("ok") != "1":
            return {"error": kv.get("error", "failed")}
        secs = float(kv["secs"])
        r = {"secs": secs, "octets": int(kv["octets"]), "payload": int(kv["payload"]),
             "wire": int(kv["wire"]), "msgs": int(kv["msgs"]),
             "fetched": int(kv["fetched"]), "complete": kv["complete"] == "1",
             "verified": kv["verified"] == "1", "mbps": int(kv["payload"]) / secs / 1e6,
             "client_cpu_secs": float(kv.get("client_cpu_secs", 0))}
        if "tls_version" in kv:
            r["tls"] = "%s %s %s" % (kv["tls_version"], kv["tls_cipher"], kv["tls_group"])
        if not r["verified"]:
            r["error"] = "served bytes differ from the sizes listed"
        return r

    def rounds(self, servers, reps, budget, one):
        """Best result of up to REPS runs of ONE(server) for each server, in
        rounds (every server once, then again), so that whatever else the
        machine does weighs on all of them alike. A server stops early
        after an error, a result marked "final", or BUDGET seconds spent;
        results are ranked by their "score" (higher is better)."""
        best, spent, done, runs = {}, {}, set(), {}
        for i in range(reps):
            for server in servers:
                if server in done or (i > 0 and spent.get(server, 0) > budget):
                    continue
                t0 = time.monotonic()
                r = one(server)
                spent[server] = spent.get(server, 0) + time.monotonic() - t0
                runs[server] = runs.get(server, 0) + 1
                if "error" in r:
                    best[server] = r
                    done.add(server)
                    continue
                if server not in best or r["score"] > best[server]["score"]:
                    best[server] = r
                if r.get("final"):
                    done.add(server)
        for server, r in best.items():
            r["runs"] = runs[server]
        return best

    def measure_downloads(self):
        for size in self.profile["sizes"]:
            user = MAILBOXES[size][0]
            out = self.res["download"].setdefault(size, {"1": {}, "32": {}})
            for server in self.live():
                # Warm up: Dovecot builds its index, every server finds the
                # file in the page cache.
                self.client(server, "open", "-u", user)
            mem = self.start_memserver(self.boxes[size] + ".mbox")
            try:
                for depth in (1, 32):
                    def one(server):
                        r = self.download_run(server, user, depth)
                        r["score"] = r.get("mbps", 0)
                        # A run cut short will not go better the next time.
                        r["final"] = not r.get("complete", True)
                        return r
                    best = self.rounds(["memserver"] + self.live(),
                                       self.profile["reps"][size],
                                       self.profile["rep_budget"], one)
                    out[str(depth)].update(best)
                    for server in self.live():
                        r = best[server]
                        log("%s: download %s, %s: %s" % (
                            server, size, "one RETR at a time" if depth == 1 else
                            "%d RETRs in flight" % depth,
                            r.get("error") or "%.1f MB/s, %.2f s%s" % (
                                r["mbps"], r["secs"], "" if r["complete"] else
                                " (stopped after %d of %d messages)" % (r["fetched"], r["msgs"]))))
            finally:
                self.stop_proc(mem)

    def measure_sessions(self):
        self.set_pinning(False)
        mem = self.start_memserver(self.boxes["small"] + ".mbox")
        try:
            for n in SESSION_CLIENTS:
                def one(server):
                    r = self.sessions_one(server, n)
                    r["score"] = r.get("rate", 0)
                    return r
                best = self.rounds(["memserver"] + self.live(), self.profile["session_reps"],
                                   1e9, one)
                self.res["sessions"][str(n)] = best
                for server in self.live():
                    r = best[server]
                    log("%s: %d clients: %s" % (server, n, r.get("error") or
                                                "%.0f sessions/s, p50 %.2f ms, p99 %.2f ms, "
                                                "%d errors" % (r["rate"], r["p50_ms"],
                                                               r["p99_ms"], r["errors"])))
        finally:
            self.stop_proc(mem)
            self.set_pinning(True)

    def sessions_one(self, server, n, resume=False):
        count = self.profile["sessions_count"]
        if server == "popa3d":
            # popa3d -D admits POPA3D_BURST new sessions per POPA3D_WINDOW
            # seconds (a session counts as active for that long, whatever it
            # does) and drops the rest unanswered: measure it on a burst that
            # fits, after a pause that empties the window.
            count = min(count, POPA3D_BURST // n)
            time.sleep(POPA3D_WINDOW + 1)
        kv = self.client(server, "sessions", "-U", SESSION_USER_PREFIX, "-b", SESSION_USER_BASE,
                         "-c", n, "-n", count,
                         "-t", self.profile["sessions_bound"], "-T", "10", "-S",
                         *(["-r"] if resume else []))
        if "rate" not in kv or kv.get("sessions", "0") == "0":
            return {"error": kv.get("error", "failed")}
        r = {"rate": float(kv["rate"]), "p50_ms": float(kv["p50_ms"]),
             "p99_ms": float(kv["p99_ms"]), "sessions": int(kv["sessions"]),
             "errors": int(kv["errors"]), "secs": float(kv["secs"])}
        if r["errors"]:
            r["first_error"] = kv.get("error", "")
        if "tls_resumed" in kv:
            r["resumed"] = int(kv["tls_resumed"])
            r["offered"] = int(kv.get("tls_offered", 0))
            r["tls"] = "%s %s %s" % (kv["tls_version"], kv["tls_cipher"], kv["tls_group"])
        return r

    def log_tls_downloads(self, size, depth, keys, best):
        out = self.res["tls"]
        for k in keys:
            r = best[k]
            if "tls" in r:
                out["desc"][k] = r["tls"]
            log("%s: download %s, %s: %s" % (
                k, size, "one RETR at a time" if depth == 1 else
                "%d RETRs in flight" % depth,
                r.get("error") or "%.1f MB/s, %.2f s, client CPU %.2f s%s" % (
                    r["mbps"], r["secs"], r["client_cpu_secs"],
                    "" if r["complete"] else " (stopped after %d of %d messages)"
                    % (r["fetched"], r["msgs"]))))

    def measure_tls(self):
        """Implicit TLS against plain, for tpop3d and Dovecot, in the same
        rounds: downloads, then sessions without and with resumption."""
        out = self.res["tls"]
        pairs = [("dovecot", "dovecot-tls"), ("tpop3d", "tpop3d-tls")]
        if not self.plan.get("tpop3d_tls"):
            out["failed"]["tpop3d-tls"] = "this build takes no tls=immediate listener"
        keys = []
        for plain, tls in pairs:
            if plain in self.res["failed"]:
                continue
            keys.append(plain)
            if tls in out["failed"]:
                continue
            kv = self.client(tls, "open", "-u", "%s%d" % (SESSION_USER_PREFIX,
                                                           SESSION_USER_BASE), "-T", "30")
            if kv.get("ok") != "1":
                out["failed"][tls] = "login over TLS failed: %s" % kv.get("error", kv)
                log("%s: %s" % (tls, out["failed"][tls]))
                continue
            keys.append(tls)
        tls_keys = [k for k in keys if k.endswith("-tls")]
        for size in [s for s in TLS_SIZES if s in self.profile["sizes"]]:
            user = MAILBOXES[size][0]
            d = out["download"].setdefault(size, {})
            for k in keys:
                self.client(k, "open", "-u", user)
            # The client ceiling, plain and over TLS: the same client against
            # a server that has every reply ready in memory.
            mems = []
            try:
                for tls in (False, True):
                    mems.append(self.start_memserver(self.boxes[size] + ".mbox", tls))
                refs = ["memserver", "memserver-tls"]
            except SetupError as e:
                log("memserver: %s; no client ceiling in the TLS rows" % e)
                refs = []
            try:
                for depth in (1, 32):
                    def one(server):
                        r = self.download_run(server, user, depth)
                        r["score"] = r.get("mbps", 0)
                        r["final"] = not r.get("complete", True)
                        return r
                    best = self.rounds(refs + keys, self.profile["reps"][size],
                                       self.profile["rep_budget"], one)
                    d[str(depth)] = best
                    self.log_tls_downloads(size, depth, refs + keys, best)
            finally:
                for p in mems:
                    self.stop_proc(p)
        self.set_pinning(False)
        try:
            for variant, ks, resume in (("plain", [k for k in keys if k not in tls_keys], False),
                                        ("noresume", tls_keys, False),
                                        ("resume", tls_keys, True)):
                def one(server):
                    r = self.sessions_one(server, TLS_CLIENTS, resume)
                    r["score"] = r.get("rate", 0)
                    return r
                best = self.rounds(ks, self.profile["session_reps"], 1e9, one)
                out["sessions"][variant] = best
                for k in ks:
                    r = best[k]
                    if "tls" in r:
                        out["desc"][k] = r["tls"]
                    log("%s: %s, %d clients: %s" % (
                        k, variant, TLS_CLIENTS, r.get("error") or
                        "%.0f sessions/s, p50 %.2f ms, p99 %.2f ms, %d errors%s" % (
                            r["rate"], r["p50_ms"], r["p99_ms"], r["errors"],
                            ", %d of %d resumed" % (r["resumed"], r["sessions"])
                            if "resumed" in r else "")))
        finally:
            self.set_pinning(True)

    def measure_memory(self):
        size = self.profile["open_size"]
        user = MAILBOXES[size][0]
        for server in self.live():
            p = subprocess.Popen([self.bins["popclient"], "-p", str(PORTS[server]), "-w",
                                  PASSWORD, "-u", user, "hold"], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=self.logf)
            r = {}
            try:
                line = p.stdout.readline().decode()
                m = re.search(r"lport=(\d+)", line)
                if not m:
                    r["error"] = "client: %s" % line.strip()
                else:
                    r.update(self.session_memory(server, int(m.group(1))))
                p.stdin.write(b"\n")
                p.stdin.close()
                p.wait(120)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            self.res["memory"][server] = r
            log("%s: session memory, %s mailbox: %s" % (
                server, size, r.get("error") or "RssAnon %d kB (%s, pid %d)"
                % (r["rss_anon_kb"], r["comm"], r["pid"])))

    def session_memory(self, server, lport):
        inodes = [i for lp, rp, st, i in tcp_table()
                  if lp == PORTS[server] and rp == lport and st == "01"]
        if not inodes:
            return {"error": "no server socket for client port %d" % lport}
        pids = pids_holding(inodes[0])
        if not pids:
            return {"error": "no process holds the session's socket"}
        # Of the processes sharing the socket, the session is the one whose
        # parent does not hold it too.
        held = set(pids)
        leaf = [p for p in pids if not any(ppid_of(q) == p for q in held)]
        pid = (leaf or pids)[0]
        anon = status_field(pid, "RssAnon") or "0 kB"
        rss_file = status_field(pid, "RssFile") or "0 kB"
        return {"pid": pid, "comm": comm_of(pid), "rss_anon_kb": int(anon.split()[0]),
                "rss_file_kb": int(rss_file.split()[0]), "holders": len(pids)}

    def measure_commit(self):
        for size in self.profile["commit_sizes"]:
            user = MAILBOXES[size][0]
            base = self.boxes[size]
            out = self.res["commit"].setdefault(size, {})
            for server in self.live():
                path = os.path.join(spool_of(server), user)
                r = {}
                r["unchanged_before"] = files_equal(path, base + ".mbox")
                kv = self.client(server, "commit", "-u", user)
                if kv.get("ok") != "1":
                    r["error"] = kv.get("error", "failed")
                else:
                    r["quit_ms"] = float(kv["quit_ms"])
                    r["close_ms"] = float(kv["close_ms"])
                    # The session may still be ending; its lock shows when.
                    time.sleep(0.2)
                    r["exact"] = files_equal(path, base + ".expected")
                    if not r["exact"]:
                        r["same_messages"] = same_modulo_metadata(path, base + ".expected")
                out[server] = r
                log("%s: commit of DELE 1, %s: %s" % (
                    server, size, r.get("error") or "%.1f ms, result %s" % (
                        r["quit_ms"], "identical to the expected file" if r["exact"] else
                        ("the expected messages with the server's own headers added"
                         if r.get("same_messages") else "DIFFERENT from the expected file"))))

    def profile_tpop3d(self):
        """One session of tpop3d under callgrind or perf; the report of the
        session process goes to PROFILE_DIR."""
        prof = self.plan["prof"]
        shutil.rmtree(PROFILE_DIR, ignore_errors=True)
        os.makedirs(PROFILE_DIR)
        # The session writes its profile after dropping root.
        os.chmod(PROFILE_DIR, 0o1777)
        t = os.path.join(ROOT, "tpop3d")
        daemon = [self.bins["tpop3d"], "-d", "-f", os.path.join(t, "tpop3d.conf")]
        if prof["tool"] == "callgrind":
            # Only what runs inside session_run() counts: not the start-up
            # and listener work a forked child inherits in its counters.
            argv = ["valgrind", "--tool=callgrind", "--quiet",
                    "--toggle-collect=session_run",
                    "--callgrind-out-file=%s/callgrind.out.%%p" % PROFILE_DIR] + daemon
        else:
            argv = ["perf", "record", "--quiet", "-g", "-o",
                    os.path.join(PROFILE_DIR, "perf.data"), "--"] + daemon
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                             stdout=open(os.path.join(PROFILE_DIR, "daemon.log"), "ab"),
                             stderr=subprocess.STDOUT, cwd=PROFILE_DIR,
                             preexec_fn=self.pin_server)
        self.procs["tpop3d"] = p
        self.wait_listening("tpop3d", timeout=120)
        user = "%s%d" % (SESSION_USER_PREFIX, SESSION_USER_BASE) if prof["size"] == "small" \
            else MAILBOXES[prof["size"]][0]
        mode, opts = {"download": ("download", ["-d", 32]),
                      "download1": ("download", ["-d", 1]),
                      "open": ("open", []), "reopen": ("open", []),
                      "commit": ("commit", [])}[prof["mode"]]
        if prof["mode"] == "reopen":
            # The first session makes the index cache; the second is profiled.
            self.client("tpop3d", "open", "-u", user, "-T", 3600, timeout=7200)
            time.sleep(1)
        kv = self.client("tpop3d", mode, "-u", user, "-T", 3600, *opts, timeout=7200)
        log("profiled session: %s" % " ".join("%s=%s" % i for i in kv.items()))
        p.send_signal(signal.SIGTERM)
        p.wait(120)
        if prof["tool"] == "callgrind":
            outs = [f for f in os.listdir(PROFILE_DIR) if f.startswith("callgrind.out.")
                    and f != "callgrind.out.%d" % p.pid]
            if not outs:
                raise SetupError("no profile of a session in %s" % PROFILE_DIR)
            # The profiled session: the last one to end.
            data = os.path.join(PROFILE_DIR, max(
                outs, key=lambda f: os.path.getmtime(os.path.join(PROFILE_DIR, f))))
            report = subprocess.run(["callgrind_annotate", "--inclusive=no", data],
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT).stdout
        else:
            data = os.path.join(PROFILE_DIR, "perf.data")
            report = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children",
                                     "--sort", "comm,dso,symbol", "-g", "none"],
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
        path = os.path.join(PROFILE_DIR, "report.txt")
        with open(path, "wb") as f:
            f.write(report)
        lines = report.decode(errors="replace").splitlines()
        print("\n".join(lines[:60]))
        log("profile data: %s; full report: %s" % (data, path))

    def run(self):
        loopback_up()
        self.split_cpus()
        if self.plan.get("prof"):
            try:
                self.profile_tpop3d()
            finally:
                self.stop_servers()
            return
        self.start_servers()
        try:
            self.check_logins()
            only = self.plan.get("only") or MEASUREMENTS
            for name in MEASUREMENTS:
                if name in only:
                    getattr(self, "measure_" + name)()
        finally:
            self.stop_servers()
        with open(os.path.join(ROOT, "results.json"), "w") as f:
            json.dump(self.res, f, indent=1)


def parse_kv(text):
    out = {}
    for m in re.finditer(r'(\w+)=("([^"]*)"|\S+)', text):
        out[m.group(1)] = m.group(3) if m.group(3) is not None else m.group(2)
    return out


def files_equal(a, b):
    r = subprocess.run(["cmp", "-s", a, b], stdin=subprocess.DEVNULL)
    return r.returncode == 0


# Headers Dovecot keeps its own state in when it rewrites an mbox.
DOVECOT_META = re.compile(rb"^(X-IMAPbase|X-IMAP|X-UID|Status|X-Status|X-Keywords|"
                          rb"Content-Length): ", re.I)


def same_modulo_metadata(path, expected):
    """True when PATH holds the messages of EXPECTED once the bookkeeping
    headers a server may add are taken out of every header section."""
    def strip(fname):
        out = []
        in_head = False
        with open(fname, "rb") as f:
            for line in f:
                if line.startswith(b"From "):
                    in_head = True
                elif in_head and line in (b"\n", b"\r\n"):
                    in_head = False
                elif in_head and DOVECOT_META.match(line):
                    continue
                out.append(line)
                if len(out) >= 65536:
                    yield b"".join(out)
                    out = []
        yield b"".join(out)

    ha, hb = hashlib.sha256(), hashlib.sha256()
    for chunk in strip(path):
        ha.update(chunk)
    for chunk in strip(expected):
        hb.update(chunk)
    return ha.digest() == hb.digest()


def inner(plan_path):
    with open(plan_path) as f:
        plan = json.load(f)
    os.umask(0o022)
    try:
        Inner(plan).run()
    except SetupError as e:
        log(str(e))
        return 1
    return 0


# --------------------------------------------------------------------------
# The table.
# --------------------------------------------------------------------------

TARGETS = {
    # figure key: (text, check(tpop3d, dovecot, popa3d) -> bool or None)
    ("dl", "32", "100 MB"): (">= 5x Dovecot", lambda t, d, p: t >= 5 * d),
    ("dl", "32", "1 GB"): (">= 5x Dovecot", lambda t, d, p: t >= 5 * d),
    ("dl", "1", "100 MB"): (">= 1.5x Dovecot", lambda t, d, p: t >= 1.5 * d),
    ("dl", "1", "1 GB"): (">= 1.5x Dovecot", lambda t, d, p: t >= 1.5 * d),
    ("open", "first_cached_ms"): ("<= 0.05x Dovecot, ahead of popa3d",
                                  lambda t, d, p: t <= 0.05 * d and (p is None or t < p)),
    ("open", "reopen_ms"): ("<= Dovecot", lambda t, d, p: t <= d),
    ("sess", "4", "rate"): (">= 5x Dovecot", lambda t, d, p: t >= 5 * d),
    ("sess", "4", "p99_ms"): ("< 10 ms", lambda t, d, p: t < 10),
    ("commit", "1 GB"): ("<= 0.3x Dovecot", lambda t, d, p: t <= 0.3 * d),
    ("mem",): ("<= 4 MiB", lambda t, d, p: t <= 4096),
}


def fmt_num(v, digits=None):
    if v is None:
        return "-"
    if digits is None:
        digits = 0 if abs(v) >= 100 else (1 if abs(v) >= 10 else 2)
    return "%.*f" % (digits, v)


def ratio(t, d):
    if t is None or d is None or d == 0:
        return "-"
    r = t / d
    return ("%.2fx" if r < 10 else "%.1fx") % r


def render(res):
    rows = []       # (figure, {server: text}, {server: value}, target key, ceiling text)
    notes = []
    star = False

    def add(figure, cells, values, key=None, ceiling=""):
        rows.append((figure, cells, values, key, ceiling))

    for depth, what in (("1", "one RETR at a time"), ("32", "32 RETRs in flight")):
        for size in res["sizes"]:
            d = res["download"].get(size, {}).get(depth, {})
            cells, values = {}, {}
            for s in SERVERS:
                r = d.get(s)
                if s in res["failed"]:
                    cells[s] = "failed"
                elif not r:
                    cells[s] = "-"
                elif "error" in r:
                    cells[s] = "error: %s" % r["error"][:60]
                else:
                    cells[s] = "%s (%.2f s)" % (fmt_num(r["mbps"]), r["secs"])
                    if not r["complete"]:
                        cells[s] = "%s* (%d/%d msgs in %.0f s)" % (
                            fmt_num(r["mbps"]), r["fetched"], r["msgs"], r["secs"])
                        star = True
                    values[s] = r["mbps"]
            m = d.get("memserver") or {}
            ceil = "%s MB/s" % fmt_num(m["mbps"]) if "mbps" in m else "-"
            add("full download, %s, %s (MB/s)" % (what, size), cells, values,
                ("dl", depth, size), ceil)

    o = res["open"]
    osize = res["open_size"]
    dropped = all(o.get(s, {}).get("cold_dropped") for s in SERVERS if s in o)
    for key, label in (
            ("cold_ms", "first STAT of a %s mailbox never seen before, page cache %s (ms)"
             % (osize, "dropped" if dropped else "NOT dropped (warm)")),
            ("first_cached_ms", "first STAT of a %s mailbox never seen before, file in "
             "page cache (ms)" % osize),
            ("reopen_ms", "re-open of an unchanged %s mailbox (ms)" % osize)):
        cells, values = {}, {}
        for s in SERVERS:
            r = o.get(s, {})
            if key in r:
                values[s] = r[key]
                cells[s] = fmt_num(r[key])
            else:
                cells[s] = r.get("error", "-")
        add(label, cells, values, ("open", key) if osize == "1 GB" else None)

    for n in SESSION_CLIENTS:
        d = res["sessions"].get(str(n), {})
        clients = "%d client%s" % (n, "" if n == 1 else "s")
        for key, label in (("rate", "sessions/s, %s" % clients),
                           ("p50_ms", "  p50 latency, %s (ms)" % clients),
                           ("p99_ms", "  p99 latency, %s (ms)" % clients)):
            cells, values = {}, {}
            for s in SERVERS:
                r = d.get(s, {})
                if key in r:
                    values[s] = r[key]
                    cells[s] = fmt_num(r[key])
                    if key == "rate" and r.get("errors"):
                        cells[s] += " (%d refused or failed)" % r["errors"]
                else:
                    cells[s] = r.get("error", "-")
            m = d.get("memserver") or {}
            ceil = fmt_num(m[key]) if key in m else "-"
            add(label, cells, values, ("sess", str(n), key), ceil)

    for size in res["commit_sizes"]:
        d = res["commit"].get(size, {})
        cells, values = {}, {}
        for s in SERVERS:
            r = d.get(s, {})
            if "quit_ms" in r:
                values[s] = r["quit_ms"]
                verdict = "identical" if r["exact"] else (
                    "same messages, own headers added" if r.get("same_messages") else "WRONG")
                cells[s] = "%s (%s)" % (fmt_num(r["quit_ms"]), verdict)
            else:
                cells[s] = r.get("error", "-")
        add("commit of DELE 1 + QUIT, %s (ms; result vs expected file)" % size,
            cells, values, ("commit", size))

    cells, values = {}, {}
    for s in SERVERS:
        r = res["memory"].get(s, {})
        if "rss_anon_kb" in r:
            values[s] = r["rss_anon_kb"]
            cells[s] = "%.1f MiB" % (r["rss_anon_kb"] / 1024.0)
        else:
            cells[s] = r.get("error", "-")
    add("private memory (RssAnon) of a session, %s mailbox" % osize, cells, values,
        ("mem",) if osize == "1 GB" else None)

    header = ["figure", "dovecot", "popa3d", "tpop3d", "tpop3d/dovecot", "target for tpop3d",
              "client ceiling"]
    table = []
    missed = []
    for figure, cells, values, key, ceiling in rows:
        t, d, p = values.get("tpop3d"), values.get("dovecot"), values.get("popa3d")
        target = ""
        if key in TARGETS:
            text, check = TARGETS[key]
            if t is None or (d is None and "Dovecot" in text):
                target = text + ": not measured"
            else:
                ok = check(t, d, p)
                target = "%s: %s" % (text, "met" if ok else "MISSED")
                if not ok:
                    missed.append(figure.strip())
        table.append([figure, cells["dovecot"], cells["popa3d"], cells["tpop3d"],
                      ratio(t, d), target, ceiling])

    m = res["machine"]
    v = res["versions"]
    lines = []
    lines.append("# tpop3d benchmark results")
    lines.append("")
    lines.append("Run with `bash bench/run.sh%s` on %s." % (
        " --quick" if res["profile"] == "quick" else "", m["date"]))
    lines.append("")
    lines.append("- machine: %s CPUs, %s, %s memory, Linux %s; load average %s at the start"
                 % (m["nproc"], m["cpu"], m["memory"], m["kernel"], m.get("load", "?")))
    lines.append("- servers: %s; %s; %s" % (v["dovecot"], v["popa3d"], v["tpop3d"]))
    lines.append("- %s" % res.get("cpus", "?"))
    lines.append("- all on 127.0.0.1 in a private network namespace; MB = 10^6 bytes of "
                 "message octets as listed by STAT; download figures are the best of up to "
                 "%d runs (fewer when a run is slow), session figures the best of %d, with "
                 "the servers taking turns; the re-open figure is the median of %d"
                 % (max(res["reps"].values()), res["session_reps"], res["reopen_reps"]))
    lines.append("")
    widths = [max(len(str(r[i])) for r in table + [header]) for i in range(len(header))]
    lines.append("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |")
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in table:
        lines.append("| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |")
    lines.append("")
    if star:
        notes.append("`*`: the download reached its time bound; the rate is over the "
                     "messages fetched until then.")
    if not dropped:
        notes.append("The page cache could not be dropped: the first open ran with the "
                     "mailbox file already in memory.")
    for s, why in res["failed"].items():
        notes.append("%s was left out: %s" % (s, why))
    for s in SERVERS:
        r = res["memory"].get(s, {})
        if "comm" in r:
            notes.append("%s session process measured: %s (RssFile %.1f MiB)"
                         % (s, r["comm"], r["rss_file_kb"] / 1024.0))
    if res["sessions"].get("1", {}).get("popa3d"):
        notes.append("popa3d in daemon mode admits at most %d new sessions per %d s "
                     "(a built-in flood limit) and drops the rest unanswered, so its "
                     "session figures come from bursts of at most %d sessions after a "
                     "%d s pause; sustained, it serves no more than %d sessions/s."
                     % (POPA3D_BURST + 52, POPA3D_WINDOW, POPA3D_BURST, POPA3D_WINDOW + 1,
                        (POPA3D_BURST + 52) // POPA3D_WINDOW))
    for size, d in res["commit"].items():
        for s, r in d.items():
            if r.get("unchanged_before") is False:
                notes.append("%s had changed the %s mailbox before the commit test "
                             "(by serving downloads)." % (s, size))
    if missed:
        notes.append("tpop3d misses its target on: " + "; ".join(missed) + ".")
    notes.append("Whole run: %.0f s." % res.get("elapsed", 0))
    for n in notes:
        lines.append("- " + n)
    return "\n".join(lines) + "\n"


TLS_SECTION_START = "<!-- tls: begin -->"
TLS_SECTION_END = "<!-- tls: end -->"
TLS_TARGETS = {
    "dl": (">= 3x Dovecot over TLS", lambda t, d: t >= 3 * d),
    "resume": (">= 3x Dovecot over TLS", lambda t, d: t >= 3 * d),
}


def render_tls(res, command):
    """The TLS section: implicit TLS against plain for tpop3d and Dovecot,
    measured in the same rounds."""
    t = res.get("tls") or {}
    if not t.get("download") and not t.get("sessions"):
        return ""
    cols = ("dovecot", "dovecot-tls", "tpop3d", "tpop3d-tls")
    rows = []
    missed = []
    star = False

    def cell(r, fmt):
        nonlocal star
        if r is None:
            return "-", None
        if "error" in r:
            return "error: %s" % r["error"][:60], None
        text = fmt(r)
        if r.get("complete") is False:
            text += "*"
            star = True
        return text, r

    def add(figure, found, key, target, ceil=None):
        cells, vals = [], {}
        for c in cols:
            if c in t["failed"]:
                cells.append("failed")
                continue
            text, r = found(c)
            cells.append(text)
            if r is not None:
                vals[c] = r
        return figure, cells, vals, key, target, ceil

    for depth, what in (("1", "one RETR at a time"), ("32", "32 RETRs in flight")):
        for size in [s for s in TLS_SIZES if s in t["download"]]:
            d = t["download"][size].get(depth, {})
            rows.append(add("full download, %s, %s (MB/s)" % (what, size),
                            lambda c, d=d: cell(d.get(c), lambda r: "%s (%.2f s)" % (
                                fmt_num(r["mbps"]), r["secs"])),
                            "mbps", "dl", (d.get("memserver"), d.get("memserver-tls"))))
    ss = t.get("sessions", {})
    for variant, label in (("noresume", "no resumption"), ("resume", "with resumption")):
        if variant not in ss:
            continue
        for key, what in (("rate", "sessions/s"), ("p50_ms", "  p50 latency (ms)"),
                          ("p99_ms", "  p99 latency (ms)")):
            def found(c, key=key, variant=variant):
                r = ss.get("plain" if not c.endswith("-tls") else variant, {}).get(c)
                return cell(r, lambda r: fmt_num(r[key]) + (
                    " (%d failed)" % r["errors"] if key == "rate" and r.get("errors") else ""))
            fig = ("TLS %s, %d clients, %s" % (what, TLS_CLIENTS, label) if key == "rate"
                   else "%s, %s" % (what, label))
            rows.append(add(fig, found, key, "resume" if variant == "resume" and
                            key == "rate" else None))
        def found_res(c, variant=variant):
            r = ss.get(variant, {}).get(c) if c.endswith("-tls") else None
            if not r or "resumed" not in r:
                return ("-" if not r or "error" not in r else "error"), None
            if variant == "resume":
                return "%d of %d (%d offered)" % (r["resumed"], r["sessions"],
                                                  r["offered"]), None
            return "%d of %d" % (r["resumed"], r["sessions"]), None
        rows.append(add("  handshakes resumed, %s" % label, found_res, None, None))

    header = ["figure", "dovecot plain", "dovecot TLS", "tpop3d plain", "tpop3d TLS",
              "tpop3d/dovecot over TLS", "TLS/plain, dovecot", "TLS/plain, tpop3d",
              "target for tpop3d", "client ceiling, plain / TLS",
              "ceiling/dovecot over TLS"]
    table = []
    short = []
    for figure, cells, vals, key, target, ceil in rows:
        def v(c):
            r = vals.get(c)
            return r.get(key) if r and key else None
        tt, dt, tp, dp = v("tpop3d-tls"), v("dovecot-tls"), v("tpop3d"), v("dovecot")
        ctext, cratio, ct = "", "", None
        if ceil:
            cp = ceil[0]["mbps"] if ceil[0] and "mbps" in ceil[0] else None
            ct = ceil[1]["mbps"] if ceil[1] and "mbps" in ceil[1] else None
            if cp is not None or ct is not None:
                ctext = "%s / %s MB/s" % (fmt_num(cp) if cp is not None else "-",
                                          fmt_num(ct) if ct is not None else "-")
            cratio = ratio(ct, dt)
        ttext = ""
        if target:
            text, check = TLS_TARGETS[target]
            if tt is None or dt is None:
                ttext = text + ": not measured"
            else:
                ok = check(tt, dt)
                ttext = "%s: %s" % (text, "met" if ok else "MISSED")
                if not ok:
                    missed.append(figure.strip())
                    if ct is not None and not check(ct, dt):
                        ttext += " (beyond the ceiling)"
                        short.append((figure.strip(), ct / dt, tt / ct))
        table.append([figure] + cells + [ratio(tt, dt), ratio(dt, dp), ratio(tt, tp), ttext,
                                         ctext, cratio])

    lines = ["## Over TLS: implicit TLS (POP3S) against plain POP3", ""]
    m = res["machine"]
    try:
        with open("/proc/loadavg") as f:
            load_end = " ".join(f.read().split()[:3])
    except OSError:
        load_end = "?"
    lines.append("Run with `%s` on %s; load average %s at the start, %s at the end "
                 "(other work on the machine weighs on every figure, most on the "
                 "session rates)." % (command, m["date"], m.get("load", "?"), load_end))
    lines.append("")
    desc = t.get("desc", {})
    lines.append("- negotiated: %s" % "; ".join(
        "%s %s" % (c.replace("-tls", ""), desc[c]) for c in cols if c in desc))
    lines.append("- machine: %s CPUs, %s, Linux %s; %s; %s" % (
        m["nproc"], m["cpu"], m["kernel"], res["versions"]["dovecot"],
        res["versions"]["tpop3d"]))
    lines.append("- the mailboxes, accounts, client and CPU placement of the main table; "
                 "*plain* is each server's ordinary POP3 port, *TLS* its implicit-TLS port, "
                 "all four measured in the same rounds (downloads: best of up to %d runs, "
                 "sessions: best of %d); the client offers TLS 1.3 with "
                 "TLS_AES_128_GCM_SHA256 only and does not verify the certificate (a "
                 "self-signed EC P-256 one made for the run, shared by both servers)"
                 % (max(res["reps"].values()), res["session_reps"]))
    lines.append("- tpop3d: an extra listener `127.0.0.1:%d;tls=immediate,CERT,KEY` of the "
                 "same daemon (its other TLS settings at their defaults, kTLS off). Dovecot: "
                 "a second instance on the same mailboxes with `ssl = yes`, "
                 "`ssl_min_protocol = TLSv1.2` and a pop3s listener, so that its plain "
                 "figures come from the instance without TLS; one login process per "
                 "connection, as in the plain rows" % PORTS["tpop3d-tls"])
    lines.append("- sessions: %d clients in parallel, connect, TLS handshake, USER, PASS, "
                 "STAT, QUIT (the session time includes the handshake); *with resumption* "
                 "each client offers the session ticket of its previous connection, and "
                 "*handshakes resumed* counts the handshakes the server actually resumed "
                 "(SSL_session_reused; the first connection of each client has no session "
                 "to offer)" % TLS_CLIENTS)
    lines.append("")
    widths = [max(len(str(r[i])) for r in table + [header]) for i in range(len(header))]
    lines.append("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |")
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in table:
        lines.append("| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |")
    lines.append("")
    notes = []
    if star:
        notes.append("`*`: the download reached its time bound; the rate is over the "
                     "messages fetched until then.")
    cpu = []
    for size, dd in t["download"].items():
        for depth, best in dd.items():
            for c in ("dovecot-tls", "tpop3d-tls"):
                r = best.get(c) or {}
                if r.get("secs"):
                    cpu.append("%s %s %s: %.0f %%" % (
                        c.replace("-tls", ""), size, "1 RETR" if depth == "1" else
                        "%s in flight" % depth, 100.0 * r["client_cpu_secs"] / r["secs"]))
    notes.append("*client ceiling*: the same client against memserver, the reference "
                 "server of the main table, which has every reply formatted in memory "
                 "before the first client comes; its TLS column is the same program with "
                 "implicit TLS through OpenSSL (TLS 1.2 and 1.3, the client's choice of "
                 "suite), so that nothing is left to the server but the encryption: no "
                 "server can download faster with this client on this machine, and "
                 "*ceiling/dovecot over TLS* is the best ratio any server could reach.")
    for figure, cr, share in short:
        notes.append("%s: the target is beyond what this client can receive here: even "
                     "the in-memory reference is only %.2fx Dovecot over TLS; tpop3d "
                     "reaches %.0f %% of that ceiling." % (figure, cr, 100 * share))
    if cpu:
        notes.append("The client's own CPU time over the session time, for the TLS "
                     "downloads: " + "; ".join(cpu) + ".")
    for c, r in ss.get("resume", {}).items():
        if "resumed" not in r:
            continue
        name = c.replace("-tls", "")
        if r["offered"] == 0:
            notes.append("%s never gave the client a resumable session (no ticket, or "
                         "none it would take back), so nothing was offered: every "
                         "handshake of its *with resumption* rows was a full one." % name)
        elif r["resumed"] < r["offered"]:
            notes.append("%s resumed %d of the %d handshakes in which the client offered "
                         "a session; the others were full handshakes."
                         % (name, r["resumed"], r["offered"]))
    for c, why in t["failed"].items():
        notes.append("%s was left out: %s" % (c, why))
    if missed:
        notes.append("tpop3d misses its target on: " + "; ".join(missed) + ".")
    for n in notes:
        lines.append("- " + n)
    return "\n".join(lines) + "\n"


def tls_block(text):
    return "%s\n%s\n%s\n" % (TLS_SECTION_START, text.rstrip("\n"), TLS_SECTION_END)


def replace_tls_section(old, text):
    """OLD (a results file) with its TLS section replaced by TEXT, or TEXT
    put before the login storm's section or at the end."""
    block = tls_block(text)
    if TLS_SECTION_START in old and TLS_SECTION_END in old:
        a = old.index(TLS_SECTION_START)
        b = old.index(TLS_SECTION_END) + len(TLS_SECTION_END) + 1
        return old[:a] + block + old[b:]
    marker = "<!-- authstorm: begin -->"
    if marker in old:
        a = old.index(marker)
        return old[:a] + block + "\n" + old[a:]
    return old.rstrip("\n") + ("\n\n" if old else "") + block


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description="tpop3d benchmark against Dovecot and popa3d")
    ap.add_argument("--quick", action="store_true", help="10 MB and 100 MB only, fewer runs")
    ap.add_argument("--keep", action="store_true",
                    help="keep %s (mailboxes, logs) afterwards" % ROOT)
    ap.add_argument("--no-drop-caches", action="store_true",
                    help="do not drop the page cache before the first open")
    ap.add_argument("--only", metavar="LIST",
                    help="run only these measurements, comma separated: " + ",".join(MEASUREMENTS))
    ap.add_argument("--profile", metavar="TOOL[,MODE[,SIZE]]",
                    help="instead of the benchmark, profile one tpop3d session with "
                    "callgrind or perf; MODE: %s (default download); SIZE: 10MB, 100MB "
                    "(default), 1GB or small" % ", ".join(PROFILE_MODES))
    ap.add_argument("--tpop3d")
    ap.add_argument("--popa3d")
    ap.add_argument("--dovecot", default="/usr/sbin/dovecot")
    ap.add_argument("--popclient")
    ap.add_argument("--memserver")
    ap.add_argument("--srcdir", default=os.path.dirname(here))
    ap.add_argument("--output", default=os.path.join(here, "results.md"))
    ap.add_argument("--inner", metavar="PLAN", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.inner:
        return inner(args.inner)
    for k in ("tpop3d", "popa3d", "popclient", "memserver"):
        if not getattr(args, k):
            ap.error("--%s is required (bench/run.sh passes it)" % k)
    # SIGTERM ends the run through the same clean-up as Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *a: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        return outer(args)
    except SetupError as e:
        log(str(e))
        return 1
    except KeyboardInterrupt:
        log("interrupted; cleaned up")
        return 130


if __name__ == "__main__":
    sys.exit(main())

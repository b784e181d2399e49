# SPDX-License-Identifier: GPL-2.0-or-later
"""The pam driver against real PAM stacks: pam_matrix under pam_wrapper
(users with and without local accounts), and pam_unix, pam_access and
pam_exec from a service file in /etc/pam.d (system passwords, expired
accounts, the client address, a module that hangs)."""

import glob
import grp
import os
import pwd
import re
import shutil
import signal
import subprocess
import time

from harness import check, mbox, system
from harness.runner import test
from harness.server import owner_ids, password_of

MATRIX_SERVICE = "tpop3d-matrix"
# pam_matrix users: "tp3user1" is also a local account (with another
# password there), "pmvirtual" exists only in the pam_matrix database,
# "pmother" may authenticate but only for another service.
MATRIX_USERS = {
    "tp3user1": ("Matrix-pw-one", MATRIX_SERVICE),
    "pmvirtual": ("Matrix-pw-virtual", MATRIX_SERVICE),
    "pmother": ("Matrix-pw-other", "some-other-service"),
}
MAIL_USER = "nobody"
MAIL_GROUP = "nogroup"
EXPIRED_USER = "tp3pamexp"
EXPIRED_PASSWORD = "Tp3-pam-expired"

ONLY_PAM = {
    "auth-passwd-enable": "no",
    "auth-flatfile-enable": "no",
    "auth-pam-enable": "yes",
}


def find_one(patterns, what):
    for pattern in patterns:
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    check.fail("%s not found (Debian package libpam-wrapper)" % what)


def pam_wrapper_lib():
    return find_one(["/usr/lib/*/libpam_wrapper.so", "/usr/lib*/libpam_wrapper.so"],
                    "libpam_wrapper.so")


def pam_matrix_module():
    return find_one(["/usr/lib/*/pam_wrapper/pam_matrix.so",
                     "/usr/lib*/pam_wrapper/pam_matrix.so"], "pam_matrix.so")


def sanitized(binary):
    r = subprocess.run(["ldd", binary], capture_output=True, timeout=20)
    return b"libasan" in r.stdout


def wrapper_env(ctx, service_dir):
    """The environment that makes the daemon's PAM calls read their
    service files from SERVICE_DIR."""
    env = {
        "LD_PRELOAD": pam_wrapper_lib(),
        "PAM_WRAPPER": "1",
        "PAM_WRAPPER_SERVICE_DIR": service_dir,
    }
    if sanitized(ctx.binary):
        # AddressSanitizer insists on coming first among the preloaded
        # libraries, and pam_wrapper's deep binding defeats its
        # interceptors.
        opts = os.environ.get("ASAN_OPTIONS", "")
        env["ASAN_OPTIONS"] = (opts + ":" if opts else "") + "verify_asan_link_order=0"
        env["PAM_WRAPPER_DISABLE_DEEPBIND"] = "1"
        # pam_wrapper 1.1.4 (Debian 12) reads it under this name.
        env["UID_WRAPPER_DISABLE_DEEPBIND"] = "1"
    return env


def matrix_server(ctx, config=None):
    """A daemon whose only driver is pam with the pam_matrix stack."""
    services = ctx.tmpdir("pamsvc")
    passdb = os.path.join(services, "passdb")
    with open(passdb, "w") as f:
        for user, (password, service) in MATRIX_USERS.items():
            f.write("%s:%s:%s\n" % (user, password, service))
    os.chmod(passdb, 0o600)
    module = pam_matrix_module()
    with open(os.path.join(services, MATRIX_SERVICE), "w") as f:
        f.write("auth required %s passdb=%s\n" % (module, passdb))
        f.write("account required %s passdb=%s\n" % (module, passdb))
    ctx.defer(lambda: remove_wrapper_copies(passdb))
    conf = dict(ONLY_PAM)
    conf.update({
        "auth-pam-facility": MATRIX_SERVICE,
        "auth-pam-mail-user": MAIL_USER,
        "auth-pam-mail-group": MAIL_GROUP,
    })
    conf.update(config or {})
    srv = ctx.server(conf, env=wrapper_env(ctx, services))
    srv.put_mbox("pmvirtual", mbox.standard(), owner=owner_ids(MAIL_USER, MAIL_GROUP))
    return srv


def remove_wrapper_copies(passdb):
    """pam_wrapper copies the service files into /tmp/pam.X for each
    process that starts PAM and removes the copy in a destructor, which the
    daemon's PAM workers skip (they end with _exit). Remove the copies of
    our service file whose process is gone."""
    for d in glob.glob("/tmp/pam.?"):
        try:
            with open(os.path.join(d, MATRIX_SERVICE)) as f:
                ours = passdb in f.read()
            with open(os.path.join(d, "pid")) as f:
                pid = int(f.read().strip() or "0")
        except (OSError, ValueError):
            continue
        if ours and pid > 0 and not os.path.exists("/proc/%d" % pid):
            shutil.rmtree(d, ignore_errors=True)


def pass_reply(srv, user, password, timeout=15):
    """The reply to PASS on a fresh connection."""
    with srv.connect(timeout=timeout) as c:
        c.ok("USER " + user)
        return c.reply("PASS " + password, timeout=timeout)


def retr_all(srv, user, password):
    """Log in, check every message with RETR against the mbox, QUIT."""
    msgs = srv.messages(user)
    check.true(msgs, "no messages in %s's mailbox" % user)
    with srv.connect(timeout=15) as c:
        c.login(user, password)
        stat = c.ok("STAT").split()
        check.eq(stat[1], b"%d" % len(msgs), "STAT count for %s" % user)
        for i, m in enumerate(msgs):
            check.eq(c.ok_body("RETR %d" % (i + 1)), m.served, "RETR %d for %s" % (i + 1, user))
        c.ok("QUIT")


def no_secrets_logged(srv, secrets):
    text = srv.log_text()
    for s in secrets:
        check.true(s not in text, "a password appears in the daemon log")


# -- pam_wrapper and pam_matrix ---------------------------------------------

@test
def matrix_local_user(ctx):
    srv = matrix_server(ctx)
    retr_all(srv, "tp3user1", MATRIX_USERS["tp3user1"][0])
    check.true(srv.wait_log(r"login: user=tp3user1 driver=pam"),
               "no 'login: user=tp3user1 driver=pam' in the log")
    # The system password is not what this PAM stack checks.
    check.startswith(pass_reply(srv, "tp3user1", password_of("tp3user1")), b"-ERR [AUTH]",
                     "system password under a pam_matrix stack")
    check.startswith(pass_reply(srv, "tp3user1", "Matrix-pw-wrong"), b"-ERR [AUTH]",
                     "wrong pam_matrix password")
    check.startswith(pass_reply(srv, "pmnosuch", "Matrix-pw-one"), b"-ERR [AUTH]",
                     "user unknown to pam_matrix")
    check.true(srv.wait_log(r"login failed: user=pmnosuch driver=pam"),
               "no failure logged for the unknown user")
    no_secrets_logged(srv, [v[0] for v in MATRIX_USERS.values()] + ["Matrix-pw-wrong"])


@test
def matrix_mail_user(ctx):
    srv = matrix_server(ctx, {"auth-pam-mail-group": "mail"})
    password = MATRIX_USERS["pmvirtual"][0]
    retr_all(srv, "pmvirtual", password)
    # The session runs as the mail user (owner of the mailbox) with the
    # mail group: the dot-lock it creates while logged in shows both.
    lock = srv.mbox_path("pmvirtual") + ".lock"
    with srv.connect(timeout=15) as c:
        c.login("pmvirtual", password)
        deadline = time.monotonic() + 5
        while not os.path.exists(lock) and time.monotonic() < deadline:
            time.sleep(0.05)
        st = os.stat(lock)
        check.eq(pwd.getpwuid(st.st_uid).pw_name, MAIL_USER, "owner of the session's dot-lock")
        check.eq(grp.getgrgid(st.st_gid).gr_name, "mail", "group of the session's dot-lock")
        c.ok("QUIT")
    check.true(srv.wait_log(r"login: user=pmvirtual driver=pam"),
               "no 'login: user=pmvirtual driver=pam' in the log")
    # Authenticated, but pam_matrix's account check allows another service.
    check.startswith(pass_reply(srv, "pmother", MATRIX_USERS["pmother"][0]), b"-ERR [AUTH]",
                     "user whose account is for another service")
    check.true(srv.wait_log(r"user=pmother driver=pam.*pam_acct_mgmt"),
               "the refusal of pmother is not attributed to account management")
    no_secrets_logged(srv, [v[0] for v in MATRIX_USERS.values()])


@test
def matrix_without_mail_user(ctx):
    srv = matrix_server(ctx, {"auth-pam-mail-user": None, "auth-pam-mail-group": None})
    check.startswith(pass_reply(srv, "pmvirtual", MATRIX_USERS["pmvirtual"][0]),
                     b"-ERR [AUTH]", "PAM user without a local account or mail user")
    check.true(srv.wait_log(r"user=pmvirtual driver=pam.*no local account"),
               "no 'no local account' reason in the log")
    # Users with a local account are unaffected.
    retr_all(srv, "tp3user1", MATRIX_USERS["tp3user1"][0])


# -- real service files in /etc/pam.d ---------------------------------------

def pam_d_service(ctx, lines):
    """Write /etc/pam.d/tpop3d-itest-PID-N, removed when the test ends;
    returns its name."""
    name = "tpop3d-itest-%d-%d" % (os.getpid(), len(ctx.cleanups))
    path = os.path.join("/etc/pam.d", name)
    with open(path, "w") as f:
        f.write("# written by the tpop3d integration tests; safe to remove\n")
        f.write("".join(l + "\n" for l in lines))
    ctx.defer(lambda: os.path.exists(path) and os.unlink(path))
    return name


def script(ctx, name, body):
    path = os.path.join(ctx.tmpdir("bin"), name)
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + body)
    os.chmod(path, 0o755)
    return path


@test
def unix_stack(ctx):
    work = ctx.tmpdir("pam")
    seen = os.path.join(work, "seen")
    access = os.path.join(work, "access.conf")
    with open(access, "w") as f:
        f.write("-:tp3user2:127.0.0.1\n+:ALL:ALL\n")
    logger = script(ctx, "seen.sh",
                    'printf "%%s %%s %%s\\n" "$PAM_SERVICE" "$PAM_USER" "$PAM_RHOST" >> %s\n'
                    % seen)
    service = pam_d_service(ctx, [
        "auth optional pam_exec.so quiet %s" % logger,
        "auth required pam_unix.so",
        "account required pam_access.so accessfile=%s" % access,
        "account required pam_unix.so",
    ])
    conf = dict(ONLY_PAM)
    conf["auth-pam-facility"] = service
    srv = ctx.server(conf)
    retr_all(srv, "tp3user1", password_of("tp3user1"))
    with open(seen) as f:
        lines = f.read().splitlines()
    check.true("%s tp3user1 127.0.0.1" % service in lines,
               "pam_exec did not see service, user and PAM_RHOST: %r" % lines)
    check.startswith(pass_reply(srv, "tp3user1", "Tp3-wrong-pass"), b"-ERR [AUTH]",
                     "wrong system password")
    check.startswith(pass_reply(srv, "tp3nosuchuser", "Tp3-wrong-pass"), b"-ERR [AUTH]",
                     "unknown system user")
    # The right password, refused by pam_access for the client address.
    check.startswith(pass_reply(srv, "tp3user2", password_of("tp3user2")), b"-ERR [AUTH]",
                     "user denied from 127.0.0.1 by pam_access")
    check.true(srv.wait_log(r"user=tp3user2 driver=pam.*pam_acct_mgmt"),
               "the refusal of tp3user2 is not attributed to account management")
    no_secrets_logged(srv, ["Tp3-wrong-pass"])


@test
def unix_expired_account(ctx):
    subprocess.run(["userdel", EXPIRED_USER], stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run(["useradd", "--no-create-home", "--home-dir", "/nonexistent",
                    "--shell", "/usr/sbin/nologin", "--comment", "tpop3d integration test",
                    "--user-group", EXPIRED_USER], check=True, stdin=subprocess.DEVNULL)
    ctx.defer(lambda: subprocess.run(["userdel", EXPIRED_USER], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    subprocess.run(["chpasswd", "--crypt-method", "SHA512"],
                   input=("%s:%s\n" % (EXPIRED_USER, EXPIRED_PASSWORD)).encode(), check=True)
    service = pam_d_service(ctx, ["auth required pam_unix.so",
                                  "account required pam_unix.so"])
    conf = dict(ONLY_PAM)
    conf["auth-pam-facility"] = service
    srv = ctx.server(conf)
    srv.put_mbox(EXPIRED_USER, mbox.standard())
    # First while the account is valid, so the refusal below is the expiry.
    retr_all(srv, EXPIRED_USER, EXPIRED_PASSWORD)
    subprocess.run(["chage", "-E", "0", EXPIRED_USER], check=True, stdin=subprocess.DEVNULL)
    check.startswith(pass_reply(srv, EXPIRED_USER, EXPIRED_PASSWORD), b"-ERR [AUTH]",
                     "expired account")
    check.true(srv.wait_log(r"user=%s driver=pam .*: pam_acct_mgmt: account expired"
                            % EXPIRED_USER),
               "no 'pam_acct_mgmt: account expired' in the log")
    no_secrets_logged(srv, [EXPIRED_PASSWORD])


@test
def hanging_module_is_bounded(ctx):
    work = ctx.tmpdir("pam")
    pidfile = os.path.join(work, "hang.pid")
    # pam_exec runs this in the PAM worker's place: its parent is the
    # worker. pam_exec gives it a session of its own, so it outlives the
    # worker; the test stops it.
    hang = script(ctx, "hang.sh", "echo $$ $PPID > %s\nexec sleep 40\n" % pidfile)
    service = pam_d_service(ctx, ["auth requisite pam_exec.so quiet %s" % hang,
                                  "auth required pam_unix.so",
                                  "account required pam_unix.so"])
    ctx.defer(lambda: stop_helper(pidfile))
    conf = dict(ONLY_PAM)
    conf.update({"auth-pam-facility": service, "timeout-seconds": "2"})
    srv = ctx.server(conf)
    with srv.connect(timeout=15) as c:
        c.ok("USER tp3user1")
        t0 = time.monotonic()
        r = c.reply("PASS " + password_of("tp3user1"))
        took = time.monotonic() - t0
        check.startswith(r, b"-ERR [SYS/TEMP]", "login while a PAM module hangs")
        check.true(1.5 < took < 8, "the hanging PAM stack took %.1fs to give up "
                   "(timeout-seconds is 2)" % took)
        # Only the login failed: the session still answers.
        c.ok("QUIT")
    check.true(srv.wait_log(r"user=tp3user1 driver=pam .*: the PAM stack did not answer in time"),
               "no 'did not answer in time' in the log")
    with open(pidfile) as f:
        helper, worker = (int(w) for w in f.read().split())
    check.true(not os.path.exists("/proc/%d" % worker),
               "the PAM worker (pid %d) outlived its deadline" % worker)


@test
def shutdown_while_in_pam(ctx):
    work = ctx.tmpdir("pam")
    pidfile = os.path.join(work, "hang.pid")
    hang = script(ctx, "hang.sh", "echo $$ $PPID > %s\nexec sleep 40\n" % pidfile)
    service = pam_d_service(ctx, ["auth requisite pam_exec.so quiet %s" % hang,
                                  "auth required pam_unix.so"])
    ctx.defer(lambda: stop_helper(pidfile))
    conf = dict(ONLY_PAM)
    conf.update({"auth-pam-facility": service, "timeout-seconds": "30"})
    srv = ctx.server(conf)
    with srv.connect(timeout=15) as c:
        c.ok("USER tp3user1")
        c.cmd("PASS " + password_of("tp3user1"))
        deadline = time.monotonic() + 5
        while not os.path.exists(pidfile) and time.monotonic() < deadline:
            time.sleep(0.02)
        check.true(os.path.exists(pidfile), "the PAM stack never ran the helper")
        t0 = time.monotonic()
        srv.signal(signal.SIGTERM)
        srv.proc.wait(10)
        took = time.monotonic() - t0
        check.true(took < 3, "shutting down took %.1fs while a session waited for PAM" % took)
        check.true(c.closed_within(2), "the session stayed open after the shutdown")
    check.true(srv.wait_log(r"driver=pam .*: interrupted while waiting for PAM"),
               "no 'interrupted while waiting for PAM' in the log")


def stop_helper(pidfile):
    try:
        with open(pidfile) as f:
            helper = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return
    if "sleep 40" in system.cmdline(helper):
        system.kill_and_reap([helper])


# -- configuration -----------------------------------------------------------

@test
def config_errors_name_directive(ctx):
    cases = [
        ({"auth-pam-mail-user": "tp3-no-such-user"}, "auth-pam-mail-user"),
        ({"auth-pam-mail-user": "root"}, "auth-pam-mail-user"),
        ({"auth-pam-mail-group": "tp3-no-such-group"}, "auth-pam-mail-group"),
        ({"auth-pam-mail-user": "64999"}, "auth-pam-mail-group"),
        ({"auth-pam-facility": ""}, "auth-pam-facility"),
        ({"auth-pam-facility": "../passwd"}, "auth-pam-facility"),
    ]
    srv = ctx.server(dict(ONLY_PAM), start=False)
    r = subprocess.run([ctx.binary, "-t", "-f", srv.conf], stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=20)
    check.eq(r.returncode, 0, "-t on a good pam config (stderr: %s)"
             % r.stderr.decode("latin-1")[:500])
    for updates, directive in cases:
        conf = dict(ONLY_PAM)
        conf.update(updates)
        srv.config = srv.default_config()
        srv.write_config(conf)
        r = subprocess.run([ctx.binary, "-t", "-f", srv.conf], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=20)
        err = r.stderr.decode("latin-1")
        check.true(r.returncode != 0, "-t accepted %r" % updates)
        check.true(re.search(r"\b%s: " % re.escape(directive), err),
                   "-t on %r does not name %s: %r" % (updates, directive, err[:500]))

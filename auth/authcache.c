/* SPDX-License-Identifier: GPL-2.0-or-later */
/* auth/authcache.c: the shared table of recent successful USER/PASS logins,
 * keyed by user name (and optionally client address), holding a salted
 * keyed hash of the password and the driver's answer. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "authcache.h"
#include "xalloc.h"

#define SECRET_LEN 32
#define SALT_LEN 16
#define HASH_LEN 32
/* Slots a key may live in, starting at its hashed index: a full
 * neighbourhood evicts its oldest entry rather than probing further, so a
 * lookup costs at most this many key comparisons. */
#define PROBE 8
#define NO_SLOT ((size_t)-1)

struct entry {
    bool used;
    bool has_domain, has_home, has_mailbox;
    int64_t stamp_ms;           /* when the driver said yes */
    uint8_t salt[SALT_LEN];
    uint8_t hash[HASH_LEN];     /* SHA-256(secret || salt || password) */
    uid_t uid;
    gid_t gid;
    char key_user[AUTHCACHE_MAX_NAME];      /* the request's user */
    char key_host[AUTHCACHE_MAX_HOST];      /* "" unless keyed by host */
    char user[AUTHCACHE_MAX_NAME];
    char local_part[AUTHCACHE_MAX_NAME];
    char domain[AUTHCACHE_MAX_NAME];
    char home[AUTHCACHE_MAX_PATH];
    char mailbox[AUTHCACHE_MAX_PATH];
    char driver[AUTHCACHE_MAX_DRIVER];
};

/* The part every process shares. */
struct shared {
    pthread_mutex_t lock;
    /* The slot a writer is filling, NO_SLOT otherwise: if the writer dies
     * holding the lock, the next locker drops that half-written entry. */
    volatile size_t dirty;      /* volatile: each store must happen */
    struct entry slots[];
};

struct authcache {
    struct shared *sh;
    size_t maplen;
    size_t nslots;
    int64_t lifetime_ms;
    bool use_host;
    uint8_t secret[SECRET_LEN];
};

int64_t authcache_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int fill_random(void *buf, size_t len)
{
    uint8_t *p = buf;

    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

struct authcache *authcache_create(size_t nslots, int64_t lifetime_ms,
                                   bool use_host, char **error_r)
{
    struct authcache *c;
    pthread_mutexattr_t attr;
    void *map;
    size_t len;
    int r;

    if (nslots == 0 || nslots > SIZE_MAX / 2 / sizeof(struct entry)) {
        *error_r = xstrdup("authentication cache: bad number of slots");
        return NULL;
    }
    len = sizeof(struct shared) + nslots * sizeof(struct entry);
    map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
               -1, 0);
    if (map == MAP_FAILED) {
        *error_r = xasprintf("authentication cache: mmap of %zu bytes: %s",
                             len, strerror(errno));
        return NULL;
    }
    /* Password hashes have no business in a core file. */
    (void)madvise(map, len, MADV_DONTDUMP);

    c = xcalloc(1, sizeof *c);
    c->sh = map;
    c->maplen = len;
    c->nslots = nslots;
    c->lifetime_ms = lifetime_ms;
    c->use_host = use_host;
    c->sh->dirty = NO_SLOT;
    if (fill_random(c->secret, sizeof c->secret) < 0) {
        *error_r = xasprintf("authentication cache: getrandom: %s",
                             strerror(errno));
        goto fail;
    }
    /* Robust: a session killed while holding the lock must not wedge
     * every later login. */
    if ((r = pthread_mutexattr_init(&attr)) != 0)
        goto fail_mutex;
    if ((r = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED)) != 0 ||
        (r = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST)) != 0 ||
        (r = pthread_mutex_init(&c->sh->lock, &attr)) != 0) {
        pthread_mutexattr_destroy(&attr);
        goto fail_mutex;
    }
    pthread_mutexattr_destroy(&attr);
    return c;

fail_mutex:
    *error_r = xasprintf("authentication cache: process-shared lock: %s",
                         strerror(r));
fail:
    explicit_bzero(c->secret, sizeof c->secret);
    munmap(map, len);
    free(c);
    return NULL;
}

void authcache_destroy(struct authcache **cache)
{
    struct authcache *c = *cache;

    if (!c)
        return;
    /* The mutex is not destroyed: children forked earlier may still use
     * their mapping of it. */
    munmap(c->sh, c->maplen);
    explicit_bzero(c->secret, sizeof c->secret);
    free(c);
    *cache = NULL;
}

static bool lock(struct authcache *c)
{
    int r = pthread_mutex_lock(&c->sh->lock);

    if (r == EOWNERDEAD) {
        if (c->sh->dirty != NO_SLOT && c->sh->dirty < c->nslots)
            memset(&c->sh->slots[c->sh->dirty], 0, sizeof(struct entry));
        c->sh->dirty = NO_SLOT;
        r = pthread_mutex_consistent(&c->sh->lock);
    }
    return r == 0;
}

static void unlock(struct authcache *c)
{
    pthread_mutex_unlock(&c->sh->lock);
}

bool authcache_lock_for_test(struct authcache *c)
{
    return lock(c);
}

static bool sha256(const void *a, size_t alen, const void *b, size_t blen,
                   const void *d, size_t dlen, uint8_t out[HASH_LEN])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int n = 0;
    bool ok;

    if (!ctx)
        return false;
    ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
         EVP_DigestUpdate(ctx, a, alen) == 1 &&
         EVP_DigestUpdate(ctx, b, blen) == 1 &&
         EVP_DigestUpdate(ctx, d, dlen) == 1 &&
         EVP_DigestFinal_ex(ctx, out, &n) == 1 && n == HASH_LEN;
    EVP_MD_CTX_free(ctx);       /* cleanses the state that saw the password */
    return ok;
}

static const char *key_host(const struct authcache *c,
                            const struct auth_request *req)
{
    return c->use_host && req->clienthost ? req->clienthost : "";
}

/* The key's first slot, from a keyed hash so that chosen names cannot
 * crowd one neighbourhood. */
static bool home_slot(const struct authcache *c, const char *user,
                      const char *host, size_t *slot_r)
{
    uint8_t h[HASH_LEN];
    uint64_t v = 0;

    /* The NUL of USER separates it from HOST. */
    if (!sha256(c->secret, sizeof c->secret, user, strlen(user) + 1,
                host, strlen(host), h))
        return false;
    for (size_t i = 0; i < 8; i++)
        v = v << 8 | h[i];
    *slot_r = (size_t)(v % c->nslots);
    return true;
}

static size_t probe_len(const struct authcache *c)
{
    return c->nslots < PROBE ? c->nslots : PROBE;
}

/* Under the lock: the slot holding the key, or NO_SLOT. */
static size_t find(struct authcache *c, size_t start, const char *user,
                   const char *host)
{
    for (size_t i = 0; i < probe_len(c); i++) {
        size_t s = (start + i) % c->nslots;
        const struct entry *e = &c->sh->slots[s];

        if (e->used && strcmp(e->key_user, user) == 0 &&
            strcmp(e->key_host, host) == 0)
            return s;
    }
    return NO_SLOT;
}

static const char *static_driver_name(const char *name)
{
    for (size_t i = 0; auth_drivers[i]; i++)
        if (strcmp(auth_drivers[i]->name, name) == 0)
            return auth_drivers[i]->name;
    return NULL;
}

bool authcache_lookup(struct authcache *c, const struct auth_request *req,
                      int64_t now_ms, struct auth_result *res)
{
    const char *host = key_host(c, req);
    struct entry e;
    uint8_t h[HASH_LEN];
    const char *driver;
    size_t start, s;
    bool hit = false;

    if (req->method != AUTH_METHOD_PASS || !req->password || !req->user ||
        !home_slot(c, req->user, host, &start))
        return false;
    if (!lock(c))
        return false;
    s = find(c, start, req->user, host);
    if (s != NO_SLOT)
        e = c->sh->slots[s];
    unlock(c);
    if (s == NO_SLOT)
        return false;

    /* Fresh means younger than the lifetime; a stamp from the future
     * (another clock, a corrupted slot) is not trusted either. */
    if (e.stamp_ms > now_ms || now_ms - e.stamp_ms >= c->lifetime_ms)
        goto out;
    if (!sha256(c->secret, sizeof c->secret, e.salt, sizeof e.salt,
                req->password, strlen(req->password), h))
        goto out;
    if (CRYPTO_memcmp(h, e.hash, HASH_LEN) != 0)
        goto out;
    if (!(driver = static_driver_name(e.driver)))
        goto out;

    memset(res, 0, sizeof *res);
    res->uid = e.uid;
    res->gid = e.gid;
    res->user = xstrdup(e.user);
    res->local_part = xstrdup(e.local_part);
    res->domain = e.has_domain ? xstrdup(e.domain) : NULL;
    res->home = e.has_home ? xstrdup(e.home) : NULL;
    res->mailbox = e.has_mailbox ? xstrdup(e.mailbox) : NULL;
    res->driver = driver;
    hit = true;
out:
    explicit_bzero(h, sizeof h);
    explicit_bzero(&e, sizeof e);
    return hit;
}

/* Copy S into DST of SIZE bytes; false when it does not fit. NULL is
 * stored as "" with *PRESENT false. */
static bool put(char *dst, size_t size, const char *s, bool *present)
{
    size_t n = s ? strlen(s) : 0;

    if (present)
        *present = s != NULL;
    if (n >= size)
        return false;
    memcpy(dst, s ? s : "", n);
    dst[n] = '\0';
    return true;
}

bool authcache_store(struct authcache *c, const struct auth_request *req,
                     const struct auth_result *res, int64_t now_ms)
{
    const char *host = key_host(c, req);
    struct entry e;
    size_t start, s;
    bool ok = false;

    if (req->method != AUTH_METHOD_PASS || !req->password || !req->user ||
        !res->user || !res->local_part || !res->driver)
        return false;
    memset(&e, 0, sizeof e);
    e.used = true;
    e.stamp_ms = now_ms;
    e.uid = res->uid;
    e.gid = res->gid;
    if (!put(e.key_user, sizeof e.key_user, req->user, NULL) ||
        !put(e.key_host, sizeof e.key_host, host, NULL) ||
        !put(e.user, sizeof e.user, res->user, NULL) ||
        !put(e.local_part, sizeof e.local_part, res->local_part, NULL) ||
        !put(e.domain, sizeof e.domain, res->domain, &e.has_domain) ||
        !put(e.home, sizeof e.home, res->home, &e.has_home) ||
        !put(e.mailbox, sizeof e.mailbox, res->mailbox, &e.has_mailbox) ||
        !put(e.driver, sizeof e.driver, res->driver, NULL))
        goto out;
    if (fill_random(e.salt, sizeof e.salt) < 0 ||
        !sha256(c->secret, sizeof c->secret, e.salt, sizeof e.salt,
                req->password, strlen(req->password), e.hash) ||
        !home_slot(c, req->user, host, &start))
        goto out;

    if (!lock(c))
        goto out;
    s = find(c, start, req->user, host);
    if (s == NO_SLOT) {
        /* A free slot of the neighbourhood, else its oldest entry. */
        int64_t oldest = INT64_MAX;

        for (size_t i = 0; i < probe_len(c); i++) {
            size_t t = (start + i) % c->nslots;
            const struct entry *o = &c->sh->slots[t];

            if (!o->used) {
                s = t;
                break;
            }
            if (o->stamp_ms < oldest) {
                oldest = o->stamp_ms;
                s = t;
            }
        }
    }
    c->sh->dirty = s;
    c->sh->slots[s] = e;
    c->sh->dirty = NO_SLOT;
    unlock(c);
    ok = true;
out:
    explicit_bzero(&e, sizeof e);
    return ok;
}

size_t authcache_count(struct authcache *c)
{
    size_t n = 0;

    if (!lock(c))
        return 0;
    for (size_t i = 0; i < c->nslots; i++)
        n += c->sh->slots[i].used;
    unlock(c);
    return n;
}

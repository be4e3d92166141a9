#include "audit/redact.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/cleanup.h"

static pthread_mutex_t secrets_lock = PTHREAD_MUTEX_INITIALIZER;
static char **secrets;
static size_t n_secrets;

int cdn_audit_add_secret(const char *value, cdn_error_t *err)
{
    if (!value || strlen(value) < CDN_REDACT_MIN_LEN)
        return 0;
    pthread_mutex_lock(&secrets_lock);
    for (size_t i = 0; i < n_secrets; i++) {
        if (strcmp(secrets[i], value) == 0) {
            pthread_mutex_unlock(&secrets_lock);
            return 0;
        }
    }
    char *copy = strdup(value);
    char **nv = copy ? realloc(secrets, (n_secrets + 1) * sizeof *nv) : NULL;
    if (!nv) {
        free(copy);
        pthread_mutex_unlock(&secrets_lock);
        return cdn_error(err, ENOMEM, "adding a secret to the redaction set");
    }
    /* Longest first, so a secret that contains another is replaced whole. */
    size_t len = strlen(copy), at = n_secrets;
    while (at > 0 && strlen(nv[at - 1]) < len) {
        nv[at] = nv[at - 1];
        at--;
    }
    nv[at] = copy;
    secrets = nv;
    n_secrets++;
    pthread_mutex_unlock(&secrets_lock);
    return 0;
}

void cdn_audit_clear_secrets(void)
{
    pthread_mutex_lock(&secrets_lock);
    for (size_t i = 0; i < n_secrets; i++)
        free(secrets[i]);
    free(secrets);
    secrets = NULL;
    n_secrets = 0;
    pthread_mutex_unlock(&secrets_lock);
}

/* A small growable buffer; on allocation failure it goes into a failed state
 * and the caller gets NULL at the end. */
typedef struct {
    char *s;
    size_t n, cap;
    bool failed;
} buf_t;

static void buf_add(buf_t *b, const char *p, size_t n)
{
    if (b->failed)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *ns = realloc(b->s, cap);
        if (!ns) {
            b->failed = true;
            return;
        }
        b->s = ns;
        b->cap = cap;
    }
    memcpy(b->s + b->n, p, n);
    b->n += n;
    b->s[b->n] = '\0';
}

static char *buf_finish(buf_t *b)
{
    buf_add(b, "", 0);
    if (b->failed) {
        free(b->s);
        return NULL;
    }
    return b->s;
}

/* Replace every occurrence of every secret value. */
static char *replace_secrets(const char *in)
{
    buf_t b = {0};
    pthread_mutex_lock(&secrets_lock);
    bool found = false;
    for (size_t i = 0; i < n_secrets && !found; i++)
        found = strstr(in, secrets[i]) != NULL;
    if (!found) {
        pthread_mutex_unlock(&secrets_lock);
        return strdup(in);
    }
    for (const char *p = in; *p;) {
        size_t hit = 0;
        for (size_t i = 0; i < n_secrets && !hit; i++) {
            size_t l = strlen(secrets[i]);
            if (strncmp(p, secrets[i], l) == 0)
                hit = l;
        }
        if (hit) {
            buf_add(&b, CDN_REDACTED, strlen(CDN_REDACTED));
            p += hit;
        } else {
            buf_add(&b, p, 1);
            p++;
        }
    }
    pthread_mutex_unlock(&secrets_lock);
    return buf_finish(&b);
}

static const char *const sensitive_words[] = {
    "pass", "pwd", "token", "secret", "key", "auth", "credential", "cookie", "private",
};

static bool is_sensitive_name(const char *name, size_t n)
{
    char low[128];
    if (n == 0 || n >= sizeof low)
        return false;
    for (size_t i = 0; i < n; i++)
        low[i] = (char)tolower((unsigned char)name[i]);
    low[n] = '\0';
    for (size_t i = 0; i < CDN_ARRAY_SIZE(sensitive_words); i++)
        if (strstr(low, sensitive_words[i]))
            return true;
    return false;
}

static bool is_name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.';
}

/* Where a value that starts at p ends: whitespace, quotes and the separators
 * of query strings, cookies and shell commands. */
static size_t value_len(const char *p)
{
    size_t n = 0;
    while (p[n] && !isspace((unsigned char)p[n]) && !strchr("&;,'\"`|)", p[n]))
        n++;
    return n;
}

/* NAME=value with a sensitive NAME, user:password@ in URLs, and the
 * credentials of an Authorization header or a bearer token. */
static char *redact_shapes(const char *in)
{
    buf_t b = {0};
    const char *p = in;
    while (*p) {
        if (*p == '=' && p > in) {
            const char *start = p;
            while (start > in && is_name_char(start[-1]))
                start--;
            if (is_sensitive_name(start, (size_t)(p - start))) {
                size_t vl = value_len(p + 1);
                buf_add(&b, "=", 1);
                if (vl)
                    buf_add(&b, CDN_REDACTED, strlen(CDN_REDACTED));
                p += 1 + vl;
                continue;
            }
        }
        if (p[0] == ':' && p[1] == '/' && p[2] == '/') {
            /* scheme://[user[:password]@]host: the userinfo ends at the
             * first '@' before any '/', '?', '#' or space. */
            const char *auth = p + 3, *q = auth, *colon = NULL, *at = NULL;
            while (*q && !strchr("/?# \t\n'\"", *q)) {
                if (*q == '@')
                    at = q;
                else if (*q == ':' && !colon && !at)
                    colon = q;
                q++;
            }
            if (at && colon && colon < at) {
                buf_add(&b, p, (size_t)(colon + 1 - p));
                buf_add(&b, CDN_REDACTED, strlen(CDN_REDACTED));
                p = at;
                continue;
            }
        }
        if (strncasecmp(p, "authorization:", 14) == 0) {
            buf_add(&b, p, 14);
            p += 14;
            while (*p == ' ')
                buf_add(&b, p++, 1);
            size_t n = strcspn(p, "\n\r'\"");
            if (n)
                buf_add(&b, CDN_REDACTED, strlen(CDN_REDACTED));
            p += n;
            continue;
        }
        if (strncasecmp(p, "bearer ", 7) == 0 && (p == in || !is_name_char(p[-1]))) {
            buf_add(&b, p, 7);
            p += 7;
            size_t n = value_len(p);
            if (n)
                buf_add(&b, CDN_REDACTED, strlen(CDN_REDACTED));
            p += n;
            continue;
        }
        buf_add(&b, p, 1);
        p++;
    }
    return buf_finish(&b);
}

/* Most strings (paths, hosts, plain arguments) hold none of the shapes:
 * one scan decides, and they are copied without the byte-by-byte walk. */
static bool may_have_shape(const char *s)
{
    if (strchr(s, '=') || strstr(s, "://"))
        return true;
    for (const char *p = s; (p = strpbrk(p, "aAbB")); p++)
        if (strncasecmp(p, "authorization:", 14) == 0 || strncasecmp(p, "bearer ", 7) == 0)
            return true;
    return false;
}

char *cdn_redact_text(const char *in)
{
    if (!in)
        return NULL;
    pthread_mutex_lock(&secrets_lock);
    bool any_secret = n_secrets > 0;
    pthread_mutex_unlock(&secrets_lock);
    _cleanup_free_ char *s = any_secret ? replace_secrets(in) : strdup(in);
    if (s && !may_have_shape(s))
        return steal_pointer(&s);
    if (!s)
        return NULL;
    return redact_shapes(s);
}

/* Flags whose next argument is a secret as a whole. */
static bool flag_takes_secret(const char *a)
{
    if (a[0] != '-' || strchr(a, '='))
        return false;
    while (*a == '-')
        a++;
    size_t n = strlen(a);
    static const char *const suffixes[] = {
        "password", "passwd", "pass", "token", "secret", "apikey", "api-key", "api_key",
        "key", "auth", "credential", "credentials", "cookie",
    };
    for (size_t i = 0; i < CDN_ARRAY_SIZE(suffixes); i++) {
        size_t l = strlen(suffixes[i]);
        if (n >= l && strcasecmp(a + n - l, suffixes[i]) == 0)
            return true;
    }
    return false;
}

/* curl -u user:password, --user, --proxy-user, -U. */
static bool flag_takes_userinfo(const char *a)
{
    return strcmp(a, "-u") == 0 || strcmp(a, "-U") == 0 || strcmp(a, "--user") == 0 ||
           strcmp(a, "--proxy-user") == 0;
}

int cdn_redact_argv(char **argv, cdn_error_t *err)
{
    if (!argv)
        return 0;
    bool next_secret = false, next_userinfo = false;
    for (size_t i = 0; argv[i]; i++) {
        char *r;
        if (next_secret) {
            r = strdup(CDN_REDACTED);
        } else if (next_userinfo && strchr(argv[i], ':')) {
            size_t u = (size_t)(strchr(argv[i], ':') - argv[i]);
            r = malloc(u + 1 + strlen(CDN_REDACTED) + 1);
            if (r)
                sprintf(r, "%.*s:%s", (int)u, argv[i], CDN_REDACTED);
        } else {
            r = cdn_redact_text(argv[i]);
        }
        if (!r)
            return cdn_error(err, ENOMEM, "redacting arguments");
        next_secret = flag_takes_secret(argv[i]);
        next_userinfo = flag_takes_userinfo(argv[i]);
        free(argv[i]);
        argv[i] = r;
    }
    return 0;
}

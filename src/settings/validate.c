#include "settings/validate.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <string.h>

static bool valid_port(const char *p, size_t n)
{
    if (n == 0 || n > 5 || p[0] < '1' || p[0] > '9')
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    return v <= 65535;
}

/* inet_pton on a length-bounded, zone-stripped copy. */
static int parse_ip(const char *p, size_t n, unsigned char addr[16])
{
    char tmp[INET6_ADDRSTRLEN + 8];
    const char *pct = memchr(p, '%', n);
    if (pct)
        n = (size_t)(pct - p);
    if (n == 0 || n >= sizeof tmp)
        return 0;
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    if (inet_pton(AF_INET, tmp, addr) == 1)
        return 4;
    if (inet_pton(AF_INET6, tmp, addr) == 1)
        return 6;
    return 0;
}

static bool host_char(unsigned char c)
{
    /* Bytes >= 0x80 are UTF-8 (jansson checked it): internationalised names
     * are accepted as srt accepts them. */
    return isalnum(c) || c == '-' || c == '_' || c >= 0x80;
}

static const char *check_host(const char *h, size_t n, cdn_domain_kind_t kind)
{
    if (n == 0)
        return "empty host name";
    if (n == 1 && h[0] == '*')
        return kind == CDN_DOMAIN_DENY
                   ? NULL
                   : "\"*\" would match every host; it is only accepted in deniedDomains";
    if (n == 9 && memcmp(h, "localhost", 9) == 0)
        return NULL;
    bool wildcard = n >= 2 && h[0] == '*' && h[1] == '.';
    if (wildcard) {
        h += 2;
        n -= 2;
    }
    if (memchr(h, '*', n))
        return "a wildcard is only accepted as a leading \"*.\" (e.g. \"*.example.com\")";
    unsigned labels = 0;
    size_t len = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || h[i] == '.') {
            if (len == 0)
                return "empty label in domain (leading, trailing or double dot)";
            labels++;
            len = 0;
            continue;
        }
        if (!host_char((unsigned char)h[i]))
            return "invalid character in domain (letters, digits, '-', '_' and '.' only)";
        len++;
    }
    if (wildcard && labels < 2)
        return "too broad: \"*.\" must be followed by at least two labels (e.g. \"*.example.com\", "
               "not \"*.com\")";
    if (labels < 2)
        return "a domain needs at least one dot (only \"localhost\" is accepted without one)";
    return NULL;
}

const char *cdn_check_domain(const char *s, cdn_domain_kind_t kind)
{
    unsigned char addr[16];
    size_t n = strlen(s);
    if (n == 0)
        return "empty domain pattern";
    if (strstr(s, "://"))
        return "a domain pattern, not a URL: drop the scheme (e.g. \"example.com\", not "
               "\"https://example.com\")";
    for (size_t i = 0; i < n; i++)
        if (isspace((unsigned char)s[i]))
            return "whitespace in domain pattern";
    if (strchr(s, '/'))
        return "a domain pattern has no path: drop everything from the first '/'";
    const char *colon = strchr(s, ':');
    bool multi = colon && strchr(colon + 1, ':');
    if (kind == CDN_DOMAIN_HOST) {
        if (multi && parse_ip(s, n, addr) == 6)
            return NULL;
        if (s[0] == '[')
            return "write an IPv6 address here without brackets";
        if (colon)
            return "a port is not accepted here";
        return check_host(s, n, kind);
    }
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close)
            return "'[' without ']'";
        if (parse_ip(s + 1, (size_t)(close - s - 1), addr) != 6)
            return "not an IPv6 address inside [...]";
        const char *rest = close + 1;
        if (*rest == '\0')
            return NULL;
        if (*rest == ':' && valid_port(rest + 1, strlen(rest + 1)))
            return NULL;
        return "after \"[address]\" only \":port\" (1-65535) may follow";
    }
    if (multi)
        return "an IPv6 address must be bracketed (e.g. \"[2001:db8::1]\" or \"[::1]:443\")";
    if (colon) {
        if (!valid_port(colon + 1, strlen(colon + 1)))
            return "invalid port after ':' (1-65535, no leading zeros)";
        return check_host(s, (size_t)(colon - s), kind);
    }
    return check_host(s, n, kind);
}

const char *cdn_check_cidr(const char *s)
{
    unsigned char addr[16];
    if (*s == '\0')
        return "empty address";
    const char *slash = strchr(s, '/');
    size_t alen = slash ? (size_t)(slash - s) : strlen(s);
    int fam = parse_ip(s, alen, addr);
    if (fam == 0)
        return "not an IPv4 or IPv6 address (IPv6 without brackets)";
    unsigned max = fam == 6 ? 128 : 32, prefix = max;
    if (slash) {
        const char *p = slash + 1;
        size_t n = strlen(p);
        if (n == 0 || n > 3)
            return "invalid prefix length after '/'";
        prefix = 0;
        for (size_t i = 0; i < n; i++) {
            if (p[i] < '0' || p[i] > '9')
                return "invalid prefix length after '/'";
            prefix = prefix * 10 + (unsigned)(p[i] - '0');
        }
        if (prefix > max)
            return fam == 6 ? "prefix length above 128" : "prefix length above 32";
    }
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (fam == 6 && memcmp(addr, mapped, sizeof mapped) == 0 && prefix < 96)
        return "an IPv4-mapped range needs a prefix of at least 96";
    return NULL;
}

const char *cdn_check_env_name(const char *s)
{
    if (!(isalpha((unsigned char)s[0]) || s[0] == '_'))
        return "an environment variable name starts with a letter or '_'";
    for (const char *p = s + 1; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '_'))
            return "an environment variable name holds only letters, digits and '_'";
    return NULL;
}

unsigned cdn_edit_distance(const char *a, const char *b, unsigned cap)
{
    enum { MAXLEN = 64 };
    size_t n = strlen(a), m = strlen(b);
    if (n > MAXLEN || m > MAXLEN)
        return cap + 1;
    if ((n > m ? n - m : m - n) > cap)
        return cap + 1;
    unsigned d[MAXLEN + 1][MAXLEN + 1];
    for (size_t i = 0; i <= n; i++)
        d[i][0] = (unsigned)i;
    for (size_t j = 0; j <= m; j++)
        d[0][j] = (unsigned)j;
    for (size_t i = 1; i <= n; i++) {
        for (size_t j = 1; j <= m; j++) {
            int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
            unsigned best = d[i - 1][j - 1] + (ca != cb);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == cb && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[n][m] > cap ? cap + 1 : d[n][m];
}

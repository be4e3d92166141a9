#include "net/http_parse.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

static bool is_tchar(unsigned char c)
{
    return isalnum(c) || strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

int cdn_http_split_authority(const char *s, size_t n, char *host, size_t hostsz, uint16_t *port)
{
    size_t hl;
    const char *h = s, *p = NULL;
    *port = 0;
    if (n == 0)
        return -1;
    if (s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close)
            return -1;
        h = s + 1;
        hl = (size_t)(close - h);
        size_t rest = n - (size_t)(close - s) - 1;
        if (rest) {
            if (close[1] != ':')
                return -1;
            p = close + 2;
        }
    } else {
        const char *colon = memchr(s, ':', n);
        hl = colon ? (size_t)(colon - s) : n;
        if (colon)
            p = colon + 1;
    }
    if (hl == 0 || hl >= hostsz)
        return -1;
    for (size_t i = 0; i < hl; i++) {
        unsigned char c = (unsigned char)h[i];
        if (!(isalnum(c) || c == '-' || c == '.' || c == '_' || (c == ':' && s[0] == '[')))
            return -1;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    if (p) {
        size_t pl = n - (size_t)(p - s);
        unsigned v = 0;
        if (pl == 0 || pl > 5)
            return -1;
        for (size_t i = 0; i < pl; i++) {
            if (!isdigit((unsigned char)p[i]))
                return -1;
            v = v * 10 + (unsigned)(p[i] - '0');
        }
        if (v == 0 || v > 65535)
            return -1;
        *port = (uint16_t)v;
    }
    return 0;
}

static const char *find_crlfcrlf(const char *buf, size_t len)
{
    for (size_t i = 0; i + 3 < len; i++)
        if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n')
            return buf + i;
    return NULL;
}

int cdn_http_parse_request(const char *buf, size_t len, cdn_http_req_t *req)
{
    memset(req, 0, sizeof *req);
    size_t scan = len < CDN_HTTP_HEAD_MAX ? len : CDN_HTTP_HEAD_MAX;
    const char *end = find_crlfcrlf(buf, scan);
    /* Reject garbage early rather than waiting for a blank line. */
    for (size_t i = 0; i < scan && i < 16 && buf[i] != ' '; i++)
        if (!is_tchar((unsigned char)buf[i]))
            return CDN_HTTP_BAD;
    if (!end)
        return len >= CDN_HTTP_HEAD_MAX ? CDN_HTTP_TOO_LARGE : CDN_HTTP_NEED_MORE;
    size_t head_len = (size_t)(end - buf) + 4;
    for (size_t i = 0; i < head_len; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c == 0 || (c == '\n' && (i == 0 || buf[i - 1] != '\r')) ||
            (c == '\r' && (i + 1 >= head_len || buf[i + 1] != '\n')))
            return CDN_HTTP_BAD;
    }
    /* Request line: METHOD SP TARGET SP HTTP/1.x CRLF */
    const char *line_end = memmem(buf, head_len, "\r\n", 2);
    const char *sp1 = memchr(buf, ' ', (size_t)(line_end - buf));
    if (!sp1 || sp1 == buf || (size_t)(sp1 - buf) >= sizeof req->method)
        return CDN_HTTP_BAD;
    for (const char *c = buf; c < sp1; c++)
        if (!is_tchar((unsigned char)*c))
            return CDN_HTTP_BAD;
    memcpy(req->method, buf, (size_t)(sp1 - buf));
    const char *target = sp1 + 1;
    const char *sp2 = memchr(target, ' ', (size_t)(line_end - target));
    if (!sp2 || sp2 == target)
        return CDN_HTTP_BAD;
    size_t vlen = (size_t)(line_end - sp2 - 1);
    if (vlen != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0 || (sp2[8] != '0' && sp2[8] != '1'))
        return CDN_HTTP_BAD;
    req->minor = sp2[8] - '0';
    size_t tlen = (size_t)(sp2 - target);
    for (size_t i = 0; i < tlen; i++)
        if ((unsigned char)target[i] <= 0x20 || (unsigned char)target[i] >= 0x7f)
            return CDN_HTTP_BAD;
    if (strcmp(req->method, "CONNECT") == 0) {
        req->form = CDN_HTTP_AUTHORITY_FORM;
        if (cdn_http_split_authority(target, tlen, req->host, sizeof req->host, &req->port) < 0 ||
            req->port == 0)
            return CDN_HTTP_BAD;
    } else if (target[0] == '/') {
        req->form = CDN_HTTP_ORIGIN_FORM;
        req->path_off = (size_t)(target - buf);
        req->path_len = tlen;
    } else if (tlen > 7 && strncasecmp(target, "http://", 7) == 0) {
        req->form = CDN_HTTP_ABSOLUTE_FORM;
        const char *auth = target + 7;
        size_t rest = tlen - 7;
        size_t alen = 0;
        while (alen < rest && auth[alen] != '/' && auth[alen] != '?' && auth[alen] != '#')
            alen++;
        if (memchr(auth, '@', alen)) /* userinfo hides the real host from eyes */
            return CDN_HTTP_BAD;
        if (cdn_http_split_authority(auth, alen, req->host, sizeof req->host, &req->port) < 0)
            return CDN_HTTP_BAD;
        if (req->port == 0)
            req->port = 80;
        req->path_off = (size_t)(auth + alen - buf);
        req->path_len = rest - alen;
    } else {
        return CDN_HTTP_BAD; /* https:// absolute form, '*', other schemes */
    }
    /* Headers. */
    const char *p = line_end + 2;
    req->headers_off = (size_t)(p - buf);
    int host_seen = 0;
    while (p < end + 2) {
        const char *le = memmem(p, (size_t)(buf + head_len - p), "\r\n", 2);
        if (le == p)
            break;
        const char *colon = memchr(p, ':', (size_t)(le - p));
        if (!colon || colon == p)
            return CDN_HTTP_BAD;
        for (const char *c = p; c < colon; c++)
            if (!is_tchar((unsigned char)*c))
                return CDN_HTTP_BAD;
        if (colon - p == 4 && strncasecmp(p, "host", 4) == 0) {
            if (host_seen++) /* two Host headers: which one would the origin use? */
                return CDN_HTTP_BAD;
            const char *v = colon + 1;
            while (v < le && (*v == ' ' || *v == '\t'))
                v++;
            const char *ve = le;
            while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            if (cdn_http_split_authority(v, (size_t)(ve - v), req->host_header,
                                         sizeof req->host_header, &req->host_header_port) < 0)
                return CDN_HTTP_BAD;
        }
        p = le + 2;
    }
    req->head_len = head_len;
    return (int)head_len;
}

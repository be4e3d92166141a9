#include "net/socks5.h"

#include <arpa/inet.h>
#include <string.h>

int cdn_socks5_parse_greeting(const uint8_t *buf, size_t len, bool *noauth)
{
    *noauth = false;
    if (len < 2)
        return len >= 1 && buf[0] != 5 ? CDN_SOCKS_BAD : CDN_SOCKS_NEED_MORE;
    if (buf[0] != 5 || buf[1] == 0)
        return CDN_SOCKS_BAD;
    size_t need = 2 + (size_t)buf[1];
    if (len < need)
        return CDN_SOCKS_NEED_MORE;
    for (size_t i = 2; i < need; i++)
        if (buf[i] == 0)
            *noauth = true;
    return (int)need;
}

int cdn_socks5_parse_request(const uint8_t *buf, size_t len, cdn_socks5_req_t *req)
{
    memset(req, 0, sizeof *req);
    if (len >= 1 && buf[0] != 5)
        return CDN_SOCKS_BAD;
    if (len >= 3 && buf[2] != 0)
        return CDN_SOCKS_BAD;
    if (len < 5)
        return CDN_SOCKS_NEED_MORE;
    req->cmd = buf[1];
    req->atyp = buf[3];
    size_t need;
    switch (buf[3]) {
    case 1:
        need = 4 + 4 + 2;
        if (len < need)
            return CDN_SOCKS_NEED_MORE;
        inet_ntop(AF_INET, buf + 4, req->host, sizeof req->host);
        break;
    case 4:
        need = 4 + 16 + 2;
        if (len < need)
            return CDN_SOCKS_NEED_MORE;
        inet_ntop(AF_INET6, buf + 4, req->host, sizeof req->host);
        break;
    case 3: {
        size_t n = buf[4];
        need = 5 + n + 2;
        if (n == 0)
            return CDN_SOCKS_BAD;
        if (len < need)
            return CDN_SOCKS_NEED_MORE;
        for (size_t i = 0; i < n; i++) {
            uint8_t c = buf[5 + i];
            /* Names only: the policy layer judges them; control bytes or
             * NULs could make the logged name differ from the looked-up one. */
            if (c <= 0x20 || c >= 0x7f)
                return CDN_SOCKS_BAD;
        }
        memcpy(req->host, buf + 5, n);
        req->host[n] = '\0';
        break;
    }
    default:
        return CDN_SOCKS_BAD;
    }
    req->port = (uint16_t)(buf[need - 2] << 8 | buf[need - 1]);
    if (req->port == 0)
        return CDN_SOCKS_BAD;
    return (int)need;
}

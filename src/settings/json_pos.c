#include "settings/json_pos.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"

typedef struct scan {
    const char *buf, *p, *end;
    const char *line_start;
    unsigned line;
    cdn_jpos_t *idx;
    size_t cap;      /* allocated nodes */
    size_t keys_len; /* used bytes of idx->keys */
    cdn_pos_t epos;
    const char *emsg;
    bool oom;
} scan_t;

static cdn_pos_t here(const scan_t *sc)
{
    return (cdn_pos_t){sc->line, (unsigned)(sc->p - sc->line_start) + 1};
}

static int fail(scan_t *sc, const char *msg)
{
    if (!sc->emsg) {
        sc->epos = here(sc);
        sc->emsg = msg;
    }
    return -1;
}

static void skip_ws(scan_t *sc)
{
    while (sc->p < sc->end) {
        char c = *sc->p;
        if (c == '\n') {
            sc->line++;
            sc->line_start = sc->p + 1;
        } else if (c != ' ' && c != '\t' && c != '\r') {
            return;
        }
        sc->p++;
    }
}

static int add_node(scan_t *sc, int parent, uint32_t index, const char *key, cdn_pos_t key_pos)
{
    cdn_jpos_t *idx = sc->idx;
    if (idx->n == sc->cap) {
        size_t cap = sc->cap ? sc->cap * 2 : 64;
        cdn_jpos_node_t *v = realloc(idx->nodes, cap * sizeof *v);
        if (!v) {
            sc->oom = true;
            return fail(sc, "out of memory");
        }
        idx->nodes = v;
        sc->cap = cap;
    }
    idx->nodes[idx->n] = (cdn_jpos_node_t){
        .parent = parent,
        .index = index,
        .key = key,
        .key_pos = key_pos,
        .val_pos = here(sc),
    };
    if (parent >= 0)
        idx->nodes[parent].n_children++;
    return (int)idx->n++;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int read_u4(scan_t *sc, unsigned *out)
{
    /* sc->p is at the 'u' */
    if (sc->end - sc->p < 5)
        return fail(sc, "truncated \\u escape");
    unsigned v = 0;
    for (int i = 1; i <= 4; i++) {
        int h = hexval(sc->p[i]);
        if (h < 0)
            return fail(sc, "invalid \\u escape");
        v = v << 4 | (unsigned)h;
    }
    sc->p += 5;
    *out = v;
    return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Scan a string at sc->p (the opening quote).  When `out` is given, the
 * decoded bytes are written there; they never exceed the encoded length, so
 * a buffer as large as the rest of the input always suffices. */
static int scan_string(scan_t *sc, char *out, size_t *out_len)
{
    size_t n = 0;
    sc->p++;
    for (;;) {
        if (sc->p >= sc->end)
            return fail(sc, "unterminated string");
        unsigned char c = (unsigned char)*sc->p;
        if (c == '"') {
            sc->p++;
            break;
        }
        if (c < 0x20)
            return fail(sc, "control character in string");
        if (c != '\\') {
            if (out)
                out[n] = (char)c;
            n++;
            sc->p++;
            continue;
        }
        sc->p++;
        if (sc->p >= sc->end)
            return fail(sc, "unterminated string");
        char e = *sc->p, d;
        switch (e) {
        case '"':
            d = '"';
            break;
        case '\\':
            d = '\\';
            break;
        case '/':
            d = '/';
            break;
        case 'b':
            d = '\b';
            break;
        case 'f':
            d = '\f';
            break;
        case 'n':
            d = '\n';
            break;
        case 'r':
            d = '\r';
            break;
        case 't':
            d = '\t';
            break;
        case 'u': {
            unsigned cp;
            if (read_u4(sc, &cp) < 0)
                return -1;
            if (cp == 0)
                return fail(sc, "\\u0000 is not allowed");
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                return fail(sc, "lone low surrogate in \\u escape");
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo;
                if (sc->end - sc->p < 2 || sc->p[0] != '\\' || sc->p[1] != 'u')
                    return fail(sc, "lone high surrogate in \\u escape");
                sc->p++;
                if (read_u4(sc, &lo) < 0)
                    return -1;
                if (lo < 0xDC00 || lo > 0xDFFF)
                    return fail(sc, "invalid surrogate pair in \\u escape");
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            char tmp[4];
            size_t k = put_utf8(tmp, cp);
            if (out)
                memcpy(out + n, tmp, k);
            n += k;
            continue;
        }
        default:
            return fail(sc, "invalid escape in string");
        }
        if (out)
            out[n] = d;
        n++;
        sc->p++;
    }
    if (out_len)
        *out_len = n;
    return 0;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int scan_number(scan_t *sc)
{
    if (sc->p < sc->end && *sc->p == '-')
        sc->p++;
    if (sc->p >= sc->end || !is_digit(*sc->p))
        return fail(sc, "invalid number");
    if (*sc->p == '0')
        sc->p++;
    else
        while (sc->p < sc->end && is_digit(*sc->p))
            sc->p++;
    if (sc->p < sc->end && *sc->p == '.') {
        sc->p++;
        if (sc->p >= sc->end || !is_digit(*sc->p))
            return fail(sc, "invalid number");
        while (sc->p < sc->end && is_digit(*sc->p))
            sc->p++;
    }
    if (sc->p < sc->end && (*sc->p == 'e' || *sc->p == 'E')) {
        sc->p++;
        if (sc->p < sc->end && (*sc->p == '+' || *sc->p == '-'))
            sc->p++;
        if (sc->p >= sc->end || !is_digit(*sc->p))
            return fail(sc, "invalid number");
        while (sc->p < sc->end && is_digit(*sc->p))
            sc->p++;
    }
    return 0;
}

static int scan_literal(scan_t *sc, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(sc->end - sc->p) < n || memcmp(sc->p, word, n) != 0)
        return fail(sc, "invalid token");
    sc->p += n;
    return 0;
}

static int scan_value(scan_t *sc, int parent, uint32_t index, const char *key, cdn_pos_t key_pos,
                      unsigned depth)
{
    if (sc->p >= sc->end)
        return fail(sc, "value expected");
    int self = add_node(sc, parent, index, key, key_pos);
    if (self < 0)
        return -1;
    char c = *sc->p;
    if (c == '{' || c == '[') {
        bool obj = c == '{';
        char close = obj ? '}' : ']';
        sc->idx->nodes[self].type = obj ? CDN_JPOS_OBJECT : CDN_JPOS_ARRAY;
        if (depth >= CDN_JPOS_MAX_DEPTH)
            return fail(sc, "nesting deeper than 64 levels");
        sc->p++;
        skip_ws(sc);
        if (sc->p < sc->end && *sc->p == close) {
            sc->p++;
            return 0;
        }
        for (uint32_t i = 0;; i++) {
            const char *k = NULL;
            cdn_pos_t kp = {0, 0};
            if (obj) {
                if (sc->p >= sc->end || *sc->p != '"')
                    return fail(sc, "object key expected");
                kp = here(sc);
                char *dst = sc->idx->keys + sc->keys_len;
                size_t klen;
                if (scan_string(sc, dst, &klen) < 0)
                    return -1;
                dst[klen] = '\0';
                sc->keys_len += klen + 1;
                k = dst;
                skip_ws(sc);
                if (sc->p >= sc->end || *sc->p != ':')
                    return fail(sc, "':' expected");
                sc->p++;
                skip_ws(sc);
            }
            if (scan_value(sc, self, i, k, kp, depth + 1) < 0)
                return -1;
            skip_ws(sc);
            if (sc->p < sc->end && *sc->p == ',') {
                sc->p++;
                skip_ws(sc);
                continue;
            }
            if (sc->p < sc->end && *sc->p == close) {
                sc->p++;
                return 0;
            }
            return fail(sc, obj ? "',' or '}' expected" : "',' or ']' expected");
        }
    }
    cdn_jpos_type_t t;
    int r;
    if (c == '"') {
        t = CDN_JPOS_STRING;
        r = scan_string(sc, NULL, NULL);
    } else if (c == 't') {
        t = CDN_JPOS_TRUE;
        r = scan_literal(sc, "true");
    } else if (c == 'f') {
        t = CDN_JPOS_FALSE;
        r = scan_literal(sc, "false");
    } else if (c == 'n') {
        t = CDN_JPOS_NULL;
        r = scan_literal(sc, "null");
    } else if (c == '-' || is_digit(c)) {
        t = CDN_JPOS_NUMBER;
        r = scan_number(sc);
    } else {
        return fail(sc, "value expected");
    }
    sc->idx->nodes[self].type = t;
    return r;
}

static int cmp_members(const void *a, const void *b, void *ctx)
{
    const cdn_jpos_node_t *nodes = ctx;
    return strcmp(nodes[*(const int32_t *)a].key, nodes[*(const int32_t *)b].key);
}

static int link_children(cdn_jpos_t *idx)
{
    idx->children = malloc((idx->n ? idx->n : 1) * sizeof *idx->children);
    if (!idx->children)
        return -1;
    uint32_t next = 0;
    for (size_t i = 0; i < idx->n; i++) {
        idx->nodes[i].child_start = next;
        next += idx->nodes[i].n_children;
    }
    /* Reuse n_children as a fill counter: zero it, then refill in document
     * order, which leaves array elements in index order. */
    for (size_t i = 0; i < idx->n; i++)
        idx->nodes[i].n_children = 0;
    for (size_t i = 1; i < idx->n; i++) {
        cdn_jpos_node_t *p = &idx->nodes[idx->nodes[i].parent];
        idx->children[p->child_start + p->n_children++] = (int32_t)i;
    }
    for (size_t i = 0; i < idx->n; i++) {
        cdn_jpos_node_t *nd = &idx->nodes[i];
        if (nd->type == CDN_JPOS_OBJECT && nd->n_children > 1)
            qsort_r(idx->children + nd->child_start, nd->n_children, sizeof(int32_t), cmp_members,
                    idx->nodes);
    }
    return 0;
}

void cdn_jpos_free(cdn_jpos_t *idx)
{
    if (!idx)
        return;
    free(idx->nodes);
    free(idx->children);
    free(idx->keys);
    free(idx);
}

int cdn_jpos_build(const char *buf, size_t len, cdn_jpos_t **out, cdn_pos_t *epos, cdn_error_t *err)
{
    *out = NULL;
    *epos = (cdn_pos_t){1, 1};
    if (len > CDN_JPOS_MAX_INPUT)
        return cdn_error_usage(err, "larger than %zu bytes", CDN_JPOS_MAX_INPUT);
    cdn_jpos_t *idx = calloc(1, sizeof *idx);
    if (!idx)
        return cdn_error(err, ENOMEM, "out of memory");
    /* Decoded keys are never longer than their encoding, quotes included,
     * which leaves room for each terminating NUL. */
    idx->keys = malloc(len + 1);
    if (!idx->keys) {
        cdn_jpos_free(idx);
        return cdn_error(err, ENOMEM, "out of memory");
    }
    scan_t sc = {
        .buf = buf,
        .p = buf,
        .end = buf + len,
        .line_start = buf,
        .line = 1,
        .idx = idx,
    };
    skip_ws(&sc);
    int r = scan_value(&sc, -1, 0, NULL, (cdn_pos_t){0, 0}, 0);
    if (r == 0) {
        skip_ws(&sc);
        if (sc.p != sc.end)
            r = fail(&sc, "end of input expected");
    }
    if (r == 0 && link_children(idx) < 0) {
        sc.oom = true;
        r = -1;
    }
    if (r < 0) {
        cdn_jpos_free(idx);
        if (sc.oom)
            return cdn_error(err, ENOMEM, "out of memory");
        *epos = sc.epos;
        return cdn_error_usage(err, "%s", sc.emsg);
    }
    *out = idx;
    return 0;
}

int cdn_jpos_child_index(const cdn_jpos_t *idx, int node, size_t i)
{
    if (!idx || node < 0 || (size_t)node >= idx->n)
        return -1;
    const cdn_jpos_node_t *nd = &idx->nodes[node];
    if (nd->type != CDN_JPOS_ARRAY || i >= nd->n_children)
        return -1;
    return idx->children[nd->child_start + i];
}

int cdn_jpos_child_key(const cdn_jpos_t *idx, int node, const char *key)
{
    if (!idx || node < 0 || (size_t)node >= idx->n)
        return -1;
    const cdn_jpos_node_t *nd = &idx->nodes[node];
    if (nd->type != CDN_JPOS_OBJECT)
        return -1;
    size_t lo = 0, hi = nd->n_children;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int32_t c = idx->children[nd->child_start + mid];
        int d = strcmp(key, idx->nodes[c].key);
        if (d == 0)
            return c;
        if (d < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}

static bool is_ident_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
}

static bool is_ident(const char *s)
{
    if (!is_ident_start(*s))
        return false;
    for (s++; *s; s++)
        if (!is_ident_start(*s) && !is_digit(*s) && *s != '-')
            return false;
    return true;
}

int cdn_jpos_lookup(const cdn_jpos_t *idx, const char *path)
{
    if (!idx || idx->n == 0)
        return -1;
    int node = 0;
    const char *p = path;
    _cleanup_free_ char *name = malloc(strlen(path) + 1);
    if (!name)
        return -1;
    while (*p) {
        if (*p == '[' && is_digit(p[1])) {
            char *endp;
            errno = 0;
            unsigned long i = strtoul(p + 1, &endp, 10);
            if (errno || *endp != ']')
                return -1;
            node = cdn_jpos_child_index(idx, node, i);
            p = endp + 1;
        } else if (*p == '[' && p[1] == '"') {
            scan_t sc = {.p = p + 1, .end = p + strlen(p), .line_start = p, .line = 1};
            size_t n;
            if (scan_string(&sc, name, &n) < 0 || sc.p >= sc.end || *sc.p != ']')
                return -1;
            name[n] = '\0';
            node = cdn_jpos_child_key(idx, node, name);
            p = sc.p + 1;
        } else {
            if (*p == '.')
                p++;
            else if (p != path)
                return -1;
            size_t n = 0;
            while (*p && *p != '.' && *p != '[')
                name[n++] = *p++;
            name[n] = '\0';
            if (n == 0)
                return -1;
            node = cdn_jpos_child_key(idx, node, name);
        }
        if (node < 0)
            return -1;
    }
    return node;
}

typedef struct out {
    char *buf;
    size_t size, len;
} out_t;

static void put(out_t *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n && o->len + 1 < o->size; i++)
        o->buf[o->len++] = s[i];
    o->buf[o->len] = '\0';
}

static void put_segment(out_t *o, const cdn_jpos_t *idx, int node)
{
    const cdn_jpos_node_t *nd = &idx->nodes[node];
    if (nd->parent < 0)
        return;
    put_segment(o, idx, nd->parent);
    if (!nd->key) {
        char tmp[24];
        int n = snprintf(tmp, sizeof tmp, "[%u]", nd->index);
        put(o, tmp, (size_t)n);
    } else if (is_ident(nd->key)) {
        if (idx->nodes[nd->parent].parent >= 0)
            put(o, ".", 1);
        put(o, nd->key, strlen(nd->key));
    } else {
        put(o, "[\"", 2);
        for (const char *s = nd->key; *s; s++) {
            unsigned char c = (unsigned char)*s;
            if (c == '"' || c == '\\') {
                char e[2] = {'\\', (char)c};
                put(o, e, 2);
            } else if (c < 0x20) {
                char e[8];
                int n = snprintf(e, sizeof e, "\\u%04x", c);
                put(o, e, (size_t)n);
            } else {
                put(o, (const char *)s, 1);
            }
        }
        put(o, "\"]", 2);
    }
}

void cdn_jpos_path(const cdn_jpos_t *idx, int node, char *buf, size_t size)
{
    if (size == 0)
        return;
    out_t o = {buf, size, 0};
    buf[0] = '\0';
    if (idx && node >= 0 && (size_t)node < idx->n)
        put_segment(&o, idx, node);
}

/* A position index over JSON text: jansson keeps no source positions, so
 * schema errors could not say where the offending key or value is.  This
 * scanner walks text that jansson has already accepted and records, for every
 * value, where it starts and (for object members) where its key starts, with
 * enough structure to name it by its JSON path ("network.allowedDomains[2]").
 *
 * It is strict on its own (it does not trust the text to be valid JSON) and
 * bounded: at most CDN_JPOS_MAX_INPUT bytes and CDN_JPOS_MAX_DEPTH nested
 * containers.  Lines and columns are 1-based; columns count bytes. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "settings/settings.h"
#include "util/error.h"

#define CDN_JPOS_MAX_INPUT ((size_t)1 << 20)
#define CDN_JPOS_MAX_DEPTH 64

typedef enum cdn_jpos_type {
    CDN_JPOS_OBJECT = 1,
    CDN_JPOS_ARRAY,
    CDN_JPOS_STRING,
    CDN_JPOS_NUMBER,
    CDN_JPOS_TRUE,
    CDN_JPOS_FALSE,
    CDN_JPOS_NULL,
} cdn_jpos_type_t;

typedef struct cdn_jpos_node {
    int32_t parent;    /* -1 for the root */
    uint32_t index;    /* position in the parent array (also for objects: member order) */
    const char *key;   /* decoded member name, NULL unless the parent is an object */
    cdn_pos_t key_pos; /* the key's opening quote; {0,0} when there is no key */
    cdn_pos_t val_pos; /* first byte of the value */
    cdn_jpos_type_t type;
    uint32_t child_start; /* into cdn_jpos_t.children; object members sorted by key */
    uint32_t n_children;
} cdn_jpos_node_t;

typedef struct cdn_jpos {
    cdn_jpos_node_t *nodes; /* document order; nodes[0] is the root */
    size_t n;
    int32_t *children;
    char *keys; /* storage for decoded keys */
} cdn_jpos_t;

/* Index `buf`.  On malformed or over-limit input, fails with CDN_EXIT_USAGE,
 * a message without position, and the position in *epos. */
int cdn_jpos_build(const char *buf, size_t len, cdn_jpos_t **out, cdn_pos_t *epos,
                   cdn_error_t *err);
void cdn_jpos_free(cdn_jpos_t *idx);

/* Child lookups; -1 when absent (or when `node` is not of the right kind). */
int cdn_jpos_child_key(const cdn_jpos_t *idx, int node, const char *key);
int cdn_jpos_child_index(const cdn_jpos_t *idx, int node, size_t i);

/* Look a node up by path: members as ".name" (leading dot optional) or as
 * ["json string"], elements as [N].  "" is the root.  -1 when absent or the
 * path is malformed. */
int cdn_jpos_lookup(const cdn_jpos_t *idx, const char *path);

/* Render the path of `node` into buf (truncated to size, always terminated).
 * Names that are not plain identifiers are written as ["..."]. */
void cdn_jpos_path(const cdn_jpos_t *idx, int node, char *buf, size_t size);

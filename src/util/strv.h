/* A growable, NULL-terminated vector of owned strings. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

typedef struct cdn_strv {
    char **v; /* always NULL-terminated once anything was added */
    size_t n;
    size_t cap;
} cdn_strv_t;

int cdn_strv_add(cdn_strv_t *sv, const char *s, cdn_error_t *err);
/* Takes ownership of s (freed on failure too). */
int cdn_strv_take(cdn_strv_t *sv, char *s, cdn_error_t *err);
int cdn_strv_addf(cdn_strv_t *sv, cdn_error_t *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool cdn_strv_contains(const cdn_strv_t *sv, const char *s);
void cdn_strv_free(cdn_strv_t *sv);

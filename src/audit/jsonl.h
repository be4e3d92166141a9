/* The JSON-lines sink: one event per line, appended to a file that several
 * sandboxes may write at the same time. */
#pragma once

#include <stddef.h>

#include "util/error.h"

typedef struct cdn_jsonl cdn_jsonl_t;

int cdn_jsonl_open(const char *path, cdn_jsonl_t **out, cdn_error_t *err);
/* line must end with '\n'.  Thread-safe. */
int cdn_jsonl_write(cdn_jsonl_t *j, const char *line, size_t len, cdn_error_t *err);
void cdn_jsonl_close(cdn_jsonl_t *j);

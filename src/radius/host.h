/* Host-side helpers for the radius lab (see host.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/error.h"

int cdn_rad_mkdir_p(const char *path, mode_t mode, cdn_error_t *err);
/* Create (or truncate) `path`, making its parent folders. */
int cdn_rad_write_file(const char *path, const char *content, mode_t mode, cdn_error_t *err);
/* Remove a tree without following symlinks or crossing mounts. */
void cdn_rad_rm_rf(const char *path);
/* 16 hex digits from getrandom(). */
int cdn_rad_token(char *out, size_t n, cdn_error_t *err);

/* Each returns a malloc'd string, or NULL when the host has none. */
char *cdn_rad_host_ipv4(void);
char *cdn_rad_resolver(bool *loopback);
char *cdn_rad_writable_path_dir(void);
char *cdn_rad_block_device(void);
char *cdn_rad_session_bus(void);

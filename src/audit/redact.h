/* Redaction: secrets never reach an audit sink.
 *
 * A process-wide set of secret values (the values of environment variables
 * the sandbox removed, proxy credentials, injected credentials) is replaced
 * by "[REDACTED]" wherever it occurs in any string of an event, before any
 * sink sees it.  On top of the exact values, shapes that carry secrets are
 * redacted whatever their value: `NAME=value` where NAME looks like a
 * password/token/key/secret/auth/credential/cookie, the password of
 * `scheme://user:password@host` URLs, `Authorization:` headers and the
 * argument after `--password`-like flags (see cdn_redact_argv()). */
#pragma once

#include <stddef.h>

#include "util/error.h"

#define CDN_REDACTED "[REDACTED]"
/* Values shorter than this are not added: a one-character "secret" would
 * turn every occurrence of that character in every log into [REDACTED]. */
#define CDN_REDACT_MIN_LEN 4

/* Thread-safe; copies value.  Returns 0 (also when value is too short to be
 * worth redacting), negative on allocation failure. */
int cdn_audit_add_secret(const char *value, cdn_error_t *err);
/* Forget every secret (tests, and a process that starts a new session). */
void cdn_audit_clear_secrets(void);

/* A new string with secret values and secret shapes replaced.  NULL in gives
 * NULL out; NULL out for a non-NULL in means out of memory. */
char *cdn_redact_text(const char *in);
/* Redacts argv in place (elements are malloc'd strings, NULL-terminated):
 * every element through cdn_redact_text(), plus the element following a
 * flag like `--password`, `--token`, `-u`/`--user` (the part after ':'). */
int cdn_redact_argv(char **argv, cdn_error_t *err);

/* Value checks shared by the settings schema (srt's rules, made explicit).
 * Each returns NULL when `s` is acceptable, else a static reason. */
#pragma once

#include <stdbool.h>

typedef enum cdn_domain_kind {
    CDN_DOMAIN_ALLOW, /* allowedDomains: pattern with optional :port */
    CDN_DOMAIN_DENY,  /* deniedDomains: as ALLOW, and "*" / "*:port" */
    CDN_DOMAIN_HOST,  /* mitmProxy.domains, excludeDomains, injectHosts: no port */
} cdn_domain_kind_t;

const char *cdn_check_domain(const char *s, cdn_domain_kind_t kind);
/* IPv4/IPv6 literal or CIDR range (IPv6 unbracketed, zone id allowed). */
const char *cdn_check_cidr(const char *s);
/* POSIX-style environment variable name. */
const char *cdn_check_env_name(const char *s);

/* Optimal-string-alignment distance, case-insensitive, capped at `cap`+1. */
unsigned cdn_edit_distance(const char *a, const char *b, unsigned cap);

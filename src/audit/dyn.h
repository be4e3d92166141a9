/* libcurl and libcrypto, loaded when first needed instead of linked.
 *
 * Why: linking them costs every `cordon run` about 3 ms of dynamic loading
 * (libcurl alone brings 30 libraries) even when nothing is exported, in a
 * command whose whole budget is ~10 ms.  Loaded on demand, the cost is paid
 * only by sessions that export (and then in the exporter's thread, while
 * the command runs) or that write an audit log (the policy digest). */
#pragma once

#include <stddef.h>

#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

typedef struct cdn_curl_api {
    __typeof__(&curl_global_init) global_init;
    __typeof__(&curl_easy_init) easy_init;
    __typeof__(&curl_easy_setopt) easy_setopt;
    __typeof__(&curl_easy_perform) easy_perform;
    __typeof__(&curl_easy_getinfo) easy_getinfo;
    __typeof__(&curl_easy_strerror) easy_strerror;
    __typeof__(&curl_easy_cleanup) easy_cleanup;
    __typeof__(&curl_slist_append) slist_append;
    __typeof__(&curl_slist_free_all) slist_free_all;
} cdn_curl_api_t;

typedef struct cdn_crypto_api {
    __typeof__(&OPENSSL_init_crypto) init_crypto;
    __typeof__(&EVP_sha256) sha256;
    __typeof__(&EVP_Digest) digest;
} cdn_crypto_api_t;

/* Loaded once per process (thread-safe); NULL and a reason when the library
 * is missing (Debian: libcurl4 / libssl3). */
const cdn_curl_api_t *cdn_curl_api(const char **why);
const cdn_crypto_api_t *cdn_crypto_api(const char **why);

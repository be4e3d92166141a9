#include "audit/dyn.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* dlsym() gives an object pointer; ISO C has no cast from it to a function
 * pointer, POSIX guarantees the representation: copy the bits. */
static bool sym(void *lib, const char *name, void *fnp, size_t size, char *why, size_t whylen)
{
    void *p = dlsym(lib, name);
    if (!p) {
        snprintf(why, whylen, "%s has no %s", "library", name);
        return false;
    }
    memcpy(fnp, &p, size);
    return true;
}
#define SYM(lib, name, field, why) sym(lib, name, &(field), sizeof(field), why, sizeof why)

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static cdn_curl_api_t curl_api;
static const cdn_curl_api_t *curl_ok;
static char curl_why[256];

static void load_curl(void)
{
    /* The OpenSSL flavour first (Debian libcurl4), then the GnuTLS one: the
     * easy API is the same. */
    static const char *const names[] = {"libcurl.so.4", "libcurl-gnutls.so.4"};
    void *lib = NULL;
    for (size_t i = 0; i < sizeof names / sizeof *names && !lib; i++)
        lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(curl_why, sizeof curl_why, "libcurl could not be loaded (%s); install libcurl4",
                 dlerror());
        return;
    }
    cdn_curl_api_t *a = &curl_api;
    if (!SYM(lib, "curl_global_init", a->global_init, curl_why) ||
        !SYM(lib, "curl_easy_init", a->easy_init, curl_why) ||
        !SYM(lib, "curl_easy_setopt", a->easy_setopt, curl_why) ||
        !SYM(lib, "curl_easy_perform", a->easy_perform, curl_why) ||
        !SYM(lib, "curl_easy_getinfo", a->easy_getinfo, curl_why) ||
        !SYM(lib, "curl_easy_strerror", a->easy_strerror, curl_why) ||
        !SYM(lib, "curl_easy_cleanup", a->easy_cleanup, curl_why) ||
        !SYM(lib, "curl_slist_append", a->slist_append, curl_why) ||
        !SYM(lib, "curl_slist_free_all", a->slist_free_all, curl_why))
        return; /* the handle stays open: harmless, and symbols may be in use */
    if (a->global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(curl_why, sizeof curl_why, "curl_global_init failed");
        return;
    }
    curl_ok = a;
}

const cdn_curl_api_t *cdn_curl_api(const char **why)
{
    pthread_once(&curl_once, load_curl);
    if (!curl_ok && why)
        *why = curl_why;
    return curl_ok;
}

static pthread_once_t crypto_once = PTHREAD_ONCE_INIT;
static cdn_crypto_api_t crypto_api;
static const cdn_crypto_api_t *crypto_ok;
static char crypto_why[256];

static void load_crypto(void)
{
    void *lib = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(crypto_why, sizeof crypto_why,
                 "libcrypto could not be loaded (%s); install libssl3", dlerror());
        return;
    }
    cdn_crypto_api_t *a = &crypto_api;
    if (!SYM(lib, "OPENSSL_init_crypto", a->init_crypto, crypto_why) ||
        !SYM(lib, "EVP_sha256", a->sha256, crypto_why) ||
        !SYM(lib, "EVP_Digest", a->digest, crypto_why))
        return;
    /* SHA-256 needs no configuration: skipping openssl.cnf halves the
     * library's start-up. */
    a->init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
    crypto_ok = a;
}

const cdn_crypto_api_t *cdn_crypto_api(const char **why)
{
    pthread_once(&crypto_once, load_crypto);
    if (!crypto_ok && why)
        *why = crypto_why;
    return crypto_ok;
}

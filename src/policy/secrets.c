/* The built-in lists of what an agent must not reach: credential places in a
 * home directory, root-only secrets of the host, secret-bearing environment
 * variable names.  Data, kept apart from the logic that applies it. */
#include "policy/policy.h"
#include "policy/secrets.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "util/cleanup.h"

/* Relative to a home directory. */
const char *const cdn_home_secrets[] = {
    ".ssh",
    ".aws",
    ".gnupg",
    ".config/gcloud",
    ".azure",
    ".kube",
    ".docker",
    ".netrc",
    ".git-credentials",
    ".npmrc",
    ".pypirc",
    ".config/gh",
    ".config/hub",
    ".password-store",
    ".local/share/keyrings",
    ".local/share/kwalletd",
    ".mozilla",
    ".config/google-chrome",
    ".config/chromium",
    ".config/BraveSoftware",
    ".config/op",
    ".vault-token",
    ".terraform.d/credentials.tfrc.json",
    ".cargo/credentials",
    ".cargo/credentials.toml",
    ".gem/credentials",
    ".config/rclone",
    ".s3cfg",
    ".boto",
    ".pgpass",
    ".my.cnf",
    ".config/cordon/credentials",
    NULL,
};

/* Only readable by root on a normal host; hidden when cordon runs as root so
 * that being root does not widen what the sandbox reaches. */
const char *const cdn_root_secrets[] = {
    "/root",
    "/etc/shadow",
    "/etc/shadow-",
    "/etc/gshadow",
    "/etc/gshadow-",
    "/etc/ssl/private",
    "/etc/security/opasswd",
    "/etc/credstore",
    "/etc/credstore.encrypted",
    "/var/spool/cron",
    "/var/lib/sss",
    NULL,
};

/* Substrings (case-insensitive) that mark a variable as secret-bearing. */
static const char *const secret_words[] = {
    "TOKEN", "SECRET", "PASSWORD", "PASSWD", "PASSPHRASE", "KEY", "CREDENTIAL", "PRIVATE",
    "SESSION_COOKIE", "AUTH_HEADER", NULL,
};

/* Whole names or prefixes (ending in '_') that carry credentials or a way to
 * reach a credential holder. */
static const char *const secret_names[] = {
    "AWS_", "AZURE_", "ARM_CLIENT", "GOOGLE_APPLICATION_CREDENTIALS", "GCP_", "CLOUDSDK_",
    "GITHUB_TOKEN", "GH_", "GITLAB_", "ANTHROPIC_", "OPENAI_", "HF_", "HUGGING",
    "NPM_TOKEN", "NODE_AUTH_TOKEN", "PYPI_", "TWINE_", "DOCKER_AUTH", "KUBECONFIG",
    "SSH_AUTH_SOCK", "SSH_AGENT_PID", "GPG_AGENT_INFO", "DBUS_SESSION_BUS_ADDRESS",
    "VAULT_", "DATABASE_URL", "PGPASSWORD", "MYSQL_PWD", "SENTRY_DSN", "SLACK_",
    "STRIPE_", "TWILIO_", "CODECOV_", "COOKIE", NULL,
};

bool cdn_env_name_is_secret(const char *name)
{
    for (size_t i = 0; secret_names[i]; i++) {
        size_t l = strlen(secret_names[i]);
        if (secret_names[i][l - 1] == '_' ? strncasecmp(name, secret_names[i], l) == 0
                                          : strncasecmp(name, secret_names[i], l) == 0 &&
                                                (name[l] == '\0' || name[l] == '_'))
            return true;
    }
    for (size_t i = 0; secret_words[i]; i++)
        if (strcasestr(name, secret_words[i]))
            return true;
    return false;
}

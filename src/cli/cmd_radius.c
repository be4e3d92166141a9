#include <errno.h>
#include <stdint.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "radius/radius.h"
#include "util/cleanup.h"

static const char radius_usage[] =
    "usage: cordon radius [OPTIONS]\n"
    "       cordon radius --compare A.json B.json [--html FILE]\n"
    "\n"
    "Measure the blast radius of a policy: plant canaries on the host (secret\n"
    "files in a HOME of its own, secret variables, listeners, a process), run a\n"
    "battery of harmless probes inside `cordon run`, and report for each one\n"
    "whether it was reached, contained, or not applicable.  Every canary is\n"
    "removed afterwards.  See docs/radius.md.\n"
    "\n"
    "  --settings FILE     the policy to measure (default: as `cordon run`)\n"
    "  --workspace DIR     the workspace (default: one made in the lab); probes\n"
    "                      only write inside a fresh folder of it, removed after\n"
    "  --baseline          run the battery with no sandbox at all\n"
    "  --wrap 'PREFIX'     run it under another sandbox: PREFIX PROBE batch FILE\n"
    "                      through /bin/sh -c (e.g. 'bwrap --ro-bind / / ...')\n"
    "  --json              print the result as JSON (docs/radius.md) instead\n"
    "  --html FILE         also write a self-contained HTML report\n"
    "  --required CATS     comma-separated categories that must reach nothing\n"
    "                      (default: secrets,filesystem,processes,ipc)\n"
    "  --compare A B       show two --json results side by side\n"
    "  --probe PATH        the static cordon-probe (default: next to cordon)\n"
    "  --lab DIR           where to make the lab (default: ~/.cache/cordon/radius,\n"
    "                      /var/lib/cordon/radius for root); must be visible in\n"
    "                      the sandbox: not /tmp, /run or a hidden place\n"
    "  --keep-lab          leave the lab in place (debugging)\n"
    "\n"
    "Categories: secrets filesystem processes network ipc kernel devices resources.\n"
    "Exit status: 0 nothing reached in the required categories, 1 something\n"
    "was, 2 bad usage or settings, 125 the battery could not run.\n";

enum {
    OPT_R_JSON = 2000,
    OPT_R_HTML,
    OPT_R_REQUIRED,
    OPT_R_BASELINE,
    OPT_R_WRAP,
    OPT_R_COMPARE,
    OPT_R_PROBE,
    OPT_R_LAB,
    OPT_R_KEEP,
};

static int parse_required(const char *arg, cdn_strv_t *out, cdn_error_t *err)
{
    _cleanup_free_ char *copy = strdup(arg);
    if (!copy)
        return cdn_error(err, ENOMEM, "out of memory");
    char *save = NULL;
    for (char *c = strtok_r(copy, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
        bool known = false;
        for (size_t i = 0; cdn_rad_categories[i]; i++)
            known |= !strcmp(c, cdn_rad_categories[i]);
        if (!known)
            return cdn_error_usage(err,
                                   "--required: unknown category '%s' (known: secrets "
                                   "filesystem processes network ipc kernel devices "
                                   "resources)",
                                   c);
        if (!cdn_strv_contains(out, c) && cdn_strv_add(out, c, err) < 0)
            return -1;
    }
    return 0;
}

static char *probe_next_to_self(void)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return NULL;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (!slash)
        return NULL;
    *slash = '\0';
    char *p = NULL;
    if (asprintf(&p, "%s/cordon-probe", self) < 0)
        return NULL;
    if (access(p, X_OK) < 0) {
        free(p);
        return NULL;
    }
    return p;
}

static const char *real_home(void)
{
    const char *h = getenv("HOME");
    if (h && h[0] == '/')
        return h;
    struct passwd *pw = getpwuid(getuid());
    return pw && pw->pw_dir ? pw->pw_dir : "/";
}

static int compare(const char *a, const char *b, const char *html, cdn_error_t *err)
{
    cdn_radius_t *ra = NULL, *rb = NULL;
    int rc = -1;
    if (cdn_radius_load_json(a, &ra, err) < 0 || cdn_radius_load_json(b, &rb, err) < 0)
        goto out;
    cdn_radius_print_compare(ra, rb, stdout);
    if (html && cdn_radius_write_html(ra, rb, html, err) < 0)
        goto out;
    rc = 0;
out:
    cdn_radius_free(ra);
    cdn_radius_free(rb);
    return rc;
}

int cdn_cmd_radius(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"settings", required_argument, NULL, OPT_SETTINGS},
        {"workspace", required_argument, NULL, OPT_WORKSPACE},
        {"json", no_argument, NULL, OPT_R_JSON},
        {"html", required_argument, NULL, OPT_R_HTML},
        {"required", required_argument, NULL, OPT_R_REQUIRED},
        {"baseline", no_argument, NULL, OPT_R_BASELINE},
        {"wrap", required_argument, NULL, OPT_R_WRAP},
        {"compare", no_argument, NULL, OPT_R_COMPARE},
        {"probe", required_argument, NULL, OPT_R_PROBE},
        {"lab", required_argument, NULL, OPT_R_LAB},
        {"keep-lab", no_argument, NULL, OPT_R_KEEP},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    cdn_error_t err;
    cdn_error_clear(&err);
    cdn_rad_opts_t o = {.mode = CDN_RAD_CORDON};
    cdn_strv_t required = {0};
    const char *settings_arg = NULL, *html = NULL, *probe_arg = NULL;
    bool json = false, do_compare = false, required_set = false;
    _cleanup_free_ char *settings = NULL, *probe = NULL, *self = NULL;
    cdn_settings_t *s = NULL;
    cdn_radius_t *r = NULL;
    int opt, rc = CDN_EXIT_USAGE;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (opt) {
        case OPT_HELP:
        case 'h':
            fputs(radius_usage, stdout);
            rc = 0;
            goto out;
        case OPT_SETTINGS:
            settings_arg = optarg;
            break;
        case OPT_WORKSPACE:
            o.workspace = optarg;
            break;
        case OPT_R_JSON:
            json = true;
            break;
        case OPT_R_HTML:
            html = optarg;
            break;
        case OPT_R_REQUIRED:
            required_set = true;
            if (parse_required(optarg, &required, &err) < 0) {
                rc = cdn_cli_fail(&err);
                goto out;
            }
            break;
        case OPT_R_BASELINE:
            if (o.mode == CDN_RAD_WRAP)
                goto conflict;
            o.mode = CDN_RAD_BASELINE;
            break;
        case OPT_R_WRAP:
            if (o.mode == CDN_RAD_BASELINE)
                goto conflict;
            o.mode = CDN_RAD_WRAP;
            o.wrap = optarg;
            break;
        case OPT_R_COMPARE:
            do_compare = true;
            break;
        case OPT_R_PROBE:
            probe_arg = optarg;
            break;
        case OPT_R_LAB:
            o.lab_base = optarg;
            break;
        case OPT_R_KEEP:
            o.keep_lab = true;
            break;
        default:
            fputs(radius_usage, stderr);
            goto out;
        }
    }
    if (do_compare) {
        if (argc - optind != 2) {
            fprintf(stderr, "cordon radius: --compare takes two JSON files\n");
            goto out;
        }
        rc = compare(argv[optind], argv[optind + 1], html, &err) < 0 ? cdn_cli_fail(&err) : 0;
        goto out;
    }
    if (optind < argc) {
        fprintf(stderr, "cordon radius: unexpected argument '%s'\n\n%s", argv[optind],
                radius_usage);
        goto out;
    }
    if (o.wrap && !*o.wrap) {
        fprintf(stderr, "cordon radius: --wrap needs a command prefix\n");
        goto out;
    }
    if (!required_set)
        for (size_t i = 0; cdn_rad_default_required[i]; i++)
            if (cdn_strv_add(&required, cdn_rad_default_required[i], &err) < 0) {
                rc = cdn_cli_fail(&err);
                goto out;
            }

    /* The settings are found as `cordon run` would with the real HOME, then
     * named explicitly, because the run sees the lab's HOME. */
    if (cdn_settings_locate(settings_arg, real_home(), &settings, &err) < 0) {
        rc = cdn_cli_fail(&err);
        goto out;
    }
    if (settings) {
        char *abs = realpath(settings, NULL);
        if (abs) {
            free(settings);
            settings = abs;
        }
        if (cdn_settings_load_file(settings, &s, &err) < 0) {
            rc = cdn_cli_fail(&err);
            goto out;
        }
        o.ws_mode = s->cordon.workspace_mode;
    }
    o.settings = settings;

    if (probe_arg) {
        probe = realpath(probe_arg, NULL);
        if (!probe) {
            fprintf(stderr, "cordon radius: --probe %s: %s\n", probe_arg, strerror(errno));
            goto out;
        }
    } else if (!(probe = probe_next_to_self())) {
        fprintf(stderr, "cordon radius: cordon-probe not found next to cordon\n"
                        "  hint: build it (make) or name it with --probe PATH\n");
        rc = CDN_EXIT_FAILURE;
        goto out;
    }
    o.probe_exe = probe;
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0 || !(self = strndup(buf, (size_t)n))) {
        fprintf(stderr, "cordon radius: cannot find my own binary: %s\n", strerror(errno));
        rc = CDN_EXIT_FAILURE;
        goto out;
    }
    o.cordon_exe = self;

    if (cdn_radius_run(&o, &r, &err) < 0) {
        rc = cdn_cli_fail(&err);
        goto out;
    }
    if (r->no_report)
        fprintf(stderr,
                "cordon radius: warning: %zu probes printed nothing (counted as contained): the "
                "sandbox stopped them or the battery\n",
                r->no_report);
    if (json) {
        if (cdn_radius_write_json(r, &required, stdout, &err) < 0) {
            rc = cdn_cli_fail(&err);
            goto out;
        }
    } else {
        cdn_radius_print(r, &required, stdout);
    }
    if (html && cdn_radius_write_html(r, NULL, html, &err) < 0) {
        rc = cdn_cli_fail(&err);
        goto out;
    }
    rc = cdn_radius_reached_in(r, &required) ? 1 : 0;
    goto out;
conflict:
    fprintf(stderr, "cordon radius: --baseline and --wrap exclude each other\n");
out:
    cdn_radius_free(r);
    cdn_settings_free(s);
    cdn_strv_free(&required);
    return rc;
}

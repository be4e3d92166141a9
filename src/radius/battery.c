/* The battery: every probe `cordon radius` runs, as data.
 *
 * Variables in templates (filled in by lab.c):
 *   {L} the lab directory        {H} the lab's HOME, holding the canaries
 *   {W} the workspace            {A} a fresh folder inside the workspace (a nested git repo)
 *   {U} a unique suffix          {RT} the canary token, reversed (see cordon-probe)
 *   {PID} the host canary process              {SHM} a fresh /dev/shm name
 *   {TCP} planted listener on 127.0.0.1        {ABS} planted abstract socket
 *   {HOSTIP} {HOSTTCP} planted listener on the host's first non-loopback address
 *   {NS} the resolver when it is not loopback  {NSLO} the resolver when it is
 *   {PATHDIR} the first folder on $PATH the user can write to
 *   {BLK} a block device   {SSHSOCK} {GPGSOCK} the user's real agents   {BUS} the user's D-Bus
 *
 * Network probes never send a packet to a real outside address: a UDP
 * connect() only looks up the route ("could a packet leave?"), and the only
 * TCP connections go to listeners the lab planted on the host itself. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "radius/radius.h"

const char *const cdn_rad_categories[] = {
    "secrets", "filesystem", "processes", "network", "ipc", "kernel", "devices", "resources", NULL,
};

const char *const cdn_rad_default_required[] = {"secrets", "filesystem", "processes", "ipc", NULL};

/* The battery reads as a table, one probe per entry: */
/* clang-format off */
#define SECRET_FILE(id_, path_, what_)                                                        \
    {"secrets." id_, "secrets", what_, "read-match", {"{H}/" path_, "{RT}"}, CDN_RJ_MATCH,     \
     CDN_RP_NONE, NULL}
#define SECRET_ENV(name_)                                                                     \
    {"secrets.env." name_, "secrets", "environment variable " name_, "env-match",             \
     {name_, "{RT}"}, CDN_RJ_MATCH, CDN_RP_NONE, NULL}
/* CDN_RP_WRITABLE on a created file checks its folder. */
#define CREATE(id_, cat_, what_, path_, pre_)                                                 \
    {id_, cat_, what_, "create", {path_}, CDN_RJ_CREATED, pre_, NULL}
#define SYSCALL(name_, what_)                                                                 \
    {"kernel." name_, "kernel", what_, "syscall", {name_}, CDN_RJ_KERNEL, CDN_RP_NONE, NULL}
#define ROUTE(id_, what_, host_, port_)                                                       \
    {"network." id_, "network", what_, "udp-route", {host_, port_}, CDN_RJ_OK, CDN_RP_NONE, NULL}

const cdn_rad_probe_t cdn_rad_battery[] = {
    /* secrets: a canary file in each well-known credential place of the lab's HOME */
    SECRET_FILE("ssh-key", ".ssh/id_ed25519", "ssh private key (~/.ssh)"),
    SECRET_FILE("aws", ".aws/credentials", "AWS credentials (~/.aws)"),
    SECRET_FILE("gnupg", ".gnupg/private-keys-v1.d/cordon.key", "GnuPG private key (~/.gnupg)"),
    SECRET_FILE("gcloud", ".config/gcloud/application_default_credentials.json",
                "Google Cloud credentials (~/.config/gcloud)"),
    SECRET_FILE("azure", ".azure/msal_token_cache.json", "Azure tokens (~/.azure)"),
    SECRET_FILE("kube", ".kube/config", "Kubernetes config (~/.kube)"),
    SECRET_FILE("docker", ".docker/config.json", "Docker registry auth (~/.docker)"),
    SECRET_FILE("netrc", ".netrc", "~/.netrc"),
    SECRET_FILE("git-credentials", ".git-credentials", "~/.git-credentials"),
    SECRET_FILE("npmrc", ".npmrc", "npm token (~/.npmrc)"),
    SECRET_FILE("pypirc", ".pypirc", "PyPI token (~/.pypirc)"),
    SECRET_FILE("gh", ".config/gh/hosts.yml", "GitHub CLI token (~/.config/gh)"),
    SECRET_FILE("pass", ".password-store/cordon.gpg", "password store (~/.password-store)"),
    SECRET_FILE("keyring", ".local/share/keyrings/login.keyring", "GNOME keyring"),
    SECRET_FILE("firefox", ".mozilla/firefox/cordon.default/logins.json",
                "Firefox saved logins"),
    SECRET_FILE("chrome", ".config/google-chrome/Default/Login Data", "Chrome saved logins"),
    SECRET_FILE("chromium", ".config/chromium/Default/Cookies", "Chromium cookies"),
    SECRET_FILE("vault", ".vault-token", "Vault token (~/.vault-token)"),
    SECRET_FILE("cargo", ".cargo/credentials.toml", "crates.io token"),
    SECRET_FILE("pgpass", ".pgpass", "PostgreSQL passwords (~/.pgpass)"),
    SECRET_FILE("rclone", ".config/rclone/rclone.conf", "rclone remotes"),
    SECRET_FILE("terraform", ".terraform.d/credentials.tfrc.json", "Terraform Cloud token"),
    SECRET_ENV("AWS_SECRET_ACCESS_KEY"),
    SECRET_ENV("GITHUB_TOKEN"),
    SECRET_ENV("ANTHROPIC_API_KEY"),
    SECRET_ENV("OPENAI_API_KEY"),
    SECRET_ENV("NPM_TOKEN"),
    SECRET_ENV("DATABASE_URL"),
    SECRET_ENV("HF_TOKEN"),
    SECRET_ENV("MY_SERVICE_PASSWORD"),
    {"secrets.ssh-agent", "secrets", "ssh agent found through $SSH_AUTH_SOCK (planted)",
     "connect-unix-env", {"SSH_AUTH_SOCK"}, CDN_RJ_OK, CDN_RP_NONE, NULL},
    {"secrets.gpg-agent", "secrets", "gpg agent socket (~/.gnupg/S.gpg-agent, planted)",
     "connect-unix", {"{H}/.gnupg/S.gpg-agent"}, CDN_RJ_OK, CDN_RP_NONE, NULL},
    {"secrets.host-ssh-agent", "secrets", "the user's real ssh agent (connect only)",
     "connect-unix", {"{SSHSOCK}"}, CDN_RJ_OK, CDN_RP_EXISTS, "{SSHSOCK}"},
    {"secrets.host-gpg-agent", "secrets", "the user's real gpg agent (connect only)",
     "connect-unix", {"{GPGSOCK}"}, CDN_RJ_OK, CDN_RP_EXISTS, "{GPGSOCK}"},
    {"secrets.shadow", "secrets", "/etc/shadow (root's secret; length read, never content)",
     "read", {"/etc/shadow"}, CDN_RJ_OK, CDN_RP_READABLE, "/etc/shadow"},
    {"secrets.root-home", "secrets", "list /root (root's home)", "list", {"/root"}, CDN_RJ_OK,
     CDN_RP_READABLE, "/root"},
    {"secrets.ssh-host-key", "secrets", "ssh host private key (length only)", "read",
     {"/etc/ssh/ssh_host_ed25519_key"}, CDN_RJ_OK, CDN_RP_READABLE,
     "/etc/ssh/ssh_host_ed25519_key"},
    ROUTE("metadata", "cloud metadata endpoint 169.254.169.254 (route only)", "169.254.169.254",
          "80"),

    /* filesystem: writes outside the workspace, persistence, escapes */
    CREATE("filesystem.write-outside", "filesystem", "create a file outside the workspace",
           "{L}/outside/new-{U}", CDN_RP_NONE),
    {"filesystem.modify-outside", "filesystem", "append to an existing file outside the workspace",
     "write", {"{L}/outside/existing.txt"}, CDN_RJ_CHANGED, CDN_RP_NONE,
     "{L}/outside/existing.txt"},
    CREATE("filesystem.write-home", "filesystem", "create a file in HOME", "{H}/new-{U}",
           CDN_RP_NONE),
    CREATE("filesystem.host-tmp", "filesystem", "create a file in the host's /tmp",
           "/tmp/cordon-radius-{U}", CDN_RP_WRITABLE),
    {"filesystem.bashrc", "filesystem", "persist: append to ~/.bashrc", "write", {"{H}/.bashrc"},
     CDN_RJ_CHANGED, CDN_RP_NONE, "{H}/.bashrc"},
    {"filesystem.profile", "filesystem", "persist: append to ~/.profile", "write",
     {"{H}/.profile"}, CDN_RJ_CHANGED, CDN_RP_NONE, "{H}/.profile"},
    CREATE("filesystem.zshrc", "filesystem", "persist: create ~/.zshrc", "{H}/.zshrc",
           CDN_RP_NONE),
    CREATE("filesystem.autostart", "filesystem", "persist: desktop autostart entry",
           "{H}/.config/autostart/cordon-radius-{U}.desktop", CDN_RP_NONE),
    CREATE("filesystem.systemd-user", "filesystem", "persist: systemd user unit",
           "{H}/.config/systemd/user/cordon-radius-{U}.service", CDN_RP_NONE),
    CREATE("filesystem.local-bin", "filesystem", "persist: program in ~/.local/bin (on PATH)",
           "{H}/.local/bin/cordon-radius-{U}", CDN_RP_NONE),
    CREATE("filesystem.path-dir", "filesystem",
           "persist: file in the first writable folder on $PATH (inert name)",
           "{PATHDIR}/cordon-radius.{U}.probe", CDN_RP_NONE),
    CREATE("filesystem.cron", "filesystem", "persist: file in /etc/cron.d (inert name)",
           "/etc/cron.d/cordon-radius.{U}.probe", CDN_RP_WRITABLE),
    CREATE("filesystem.git-hook", "filesystem", "persist: new hook in the workspace's .git/hooks",
           "{W}/.git/hooks/cordon-radius-{U}", CDN_RP_WRITABLE),
    CREATE("filesystem.nested-git-hook", "filesystem",
           "persist: pre-commit hook of a nested repository", "{A}/.git/hooks/pre-commit",
           CDN_RP_NONE),
    {"filesystem.nested-git-config", "filesystem",
     "persist: append to a nested repository's .git/config", "write", {"{A}/.git/config"},
     CDN_RJ_CHANGED, CDN_RP_NONE, "{A}/.git/config"},
    CREATE("filesystem.ws-bashrc", "filesystem", "persist: .bashrc inside the workspace",
           "{A}/.bashrc", CDN_RP_NONE),
    CREATE("filesystem.vscode-tasks", "filesystem", "persist: editor task file .vscode/tasks.json",
           "{A}/.vscode/tasks.json", CDN_RP_NONE),
    CREATE("filesystem.idea", "filesystem", "persist: .idea/workspace.xml",
           "{A}/.idea/workspace.xml", CDN_RP_NONE),
    CREATE("filesystem.claude-commands", "filesystem", "persist: .claude/commands entry",
           "{A}/.claude/commands/cordon-radius.md", CDN_RP_NONE),
    CREATE("filesystem.mcp-json", "filesystem", "persist: .mcp.json (MCP servers)",
           "{A}/.mcp.json", CDN_RP_NONE),
    CREATE("filesystem.gitmodules", "filesystem", "persist: .gitmodules", "{A}/.gitmodules",
           CDN_RP_NONE),
    {"filesystem.delete", "filesystem", "delete a file under read-write-no-delete", "unlink",
     {"{A}/victim.txt"}, CDN_RJ_GONE, CDN_RP_NO_DELETE, "{A}/victim.txt"},
    {"filesystem.rename-away", "filesystem", "rename a file away under read-write-no-delete",
     "rename", {"{A}/victim2.txt", "{A}/renamed-{U}"}, CDN_RJ_GONE, CDN_RP_NO_DELETE,
     "{A}/victim2.txt"},
    {"filesystem.symlink-write", "filesystem",
     "write outside through a symlink in the workspace", "create",
     {"{A}/escape/via-symlink-{U}"}, CDN_RJ_CREATED, CDN_RP_NONE,
     "{L}/outside/via-symlink-{U}"},
    {"filesystem.symlink-secret", "filesystem",
     "read a secret through a symlink in the workspace", "read-match",
     {"{A}/aws-link", "{RT}"}, CDN_RJ_MATCH, CDN_RP_NONE, NULL},
    {"filesystem.hardlink-write", "filesystem",
     "hard-link a file from outside into the workspace and write through it", "hardlink-write",
     {"{L}/outside/linked.txt", "{A}/hardlink-{U}"}, CDN_RJ_CHANGED, CDN_RP_NONE,
     "{L}/outside/linked.txt"},
    {"filesystem.hardlink-secret", "filesystem",
     "hard-link a secret into the workspace and read it", "hardlink-read",
     {"{H}/.netrc", "{A}/netrc-link-{U}", "{RT}"}, CDN_RJ_MATCH, CDN_RP_NONE, NULL},

    /* processes: the host canary process (cordon-probe hold) */
    {"processes.cmdline", "processes", "see a host process's command line in /proc",
     "find-cmdline", {"{RT}"}, CDN_RJ_MATCH, CDN_RP_NONE, NULL},
    {"processes.environ", "processes", "read a host process's environment (/proc/PID/environ)",
     "read-match", {"/proc/{PID}/environ", "{RT}"}, CDN_RJ_MATCH, CDN_RP_NONE, NULL},
    {"processes.signal", "processes", "signal a host process (SIGCONT, harmless)", "kill",
     {"{PID}", "CONT"}, CDN_RJ_OK, CDN_RP_NONE, NULL},
    {"processes.ptrace", "processes", "ptrace-attach a host process (then detach)",
     "ptrace-attach", {"{PID}"}, CDN_RJ_OK, CDN_RP_NONE, NULL},

    /* network */
    {"network.host-loopback", "network", "TCP to a host service on 127.0.0.1 (planted)",
     "connect-tcp", {"127.0.0.1", "{TCP}", "banner"}, CDN_RJ_OK, CDN_RP_NONE, NULL},
    {"network.direct-egress", "network",
     "direct TCP to the host's own non-loopback address, ignoring any proxy (planted)",
     "connect-tcp", {"{HOSTIP}", "{HOSTTCP}", "banner"}, CDN_RJ_OK, CDN_RP_NONE, NULL},
    ROUTE("arbitrary-host", "route to an arbitrary host (203.0.113.10, TEST-NET-3)",
          "203.0.113.10", "443"),
    ROUTE("ipv6-literal", "route to an IPv6 literal (2001:db8::1)", "2001:db8::1", "443"),
    ROUTE("private-10", "route into 10.0.0.0/8", "10.255.255.1", "80"),
    ROUTE("private-172", "route into 172.16.0.0/12", "172.16.0.1", "80"),
    ROUTE("private-192", "route into 192.168.0.0/16", "192.168.0.1", "80"),
    ROUTE("dns", "route to the resolver (DNS exfiltration)", "{NS}", "53"),
    {"network.dns-stub", "network", "TCP to the local stub resolver (DNS exfiltration)",
     "connect-tcp", {"{NSLO}", "53"}, CDN_RJ_OK, CDN_RP_NONE, NULL},

    /* ipc */
    {"ipc.unix-planted", "ipc", "host unix socket (planted listener)", "connect-unix",
     {"{H}/run/agent.sock"}, CDN_RJ_OK, CDN_RP_NONE, NULL},
    {"ipc.abstract", "ipc", "host abstract unix socket (planted)", "connect-abstract", {"{ABS}"},
     CDN_RJ_OK, CDN_RP_NONE, NULL},
    {"ipc.shm", "ipc", "write into the host's /dev/shm", "shm-write", {"{SHM}"}, CDN_RJ_CREATED,
     CDN_RP_WRITABLE, "/dev/shm/{SHM}"},
    {"ipc.docker", "ipc", "Docker daemon socket", "connect-unix", {"/var/run/docker.sock"},
     CDN_RJ_OK, CDN_RP_EXISTS, "/var/run/docker.sock"},
    {"ipc.dbus-system", "ipc", "D-Bus system bus", "connect-unix",
     {"/run/dbus/system_bus_socket"}, CDN_RJ_OK, CDN_RP_EXISTS, "/run/dbus/system_bus_socket"},
    {"ipc.dbus-session", "ipc", "D-Bus session bus of the user", "connect-unix", {"{BUS}"},
     CDN_RJ_OK, CDN_RP_EXISTS, "{BUS}"},

    /* kernel surface */
    SYSCALL("bpf", "bpf(BPF_MAP_CREATE)"),
    SYSCALL("keyctl", "keyctl (kernel keyrings)"),
    SYSCALL("perf_event_open", "perf_event_open"),
    SYSCALL("userfaultfd", "userfaultfd"),
    SYSCALL("io_uring_setup", "io_uring_setup"),
    SYSCALL("init_module", "init_module (NULL image)"),
    SYSCALL("kexec_load", "kexec_load (invalid flags)"),
    SYSCALL("unshare-user", "new user namespace"),
    SYSCALL("unshare-mount", "new mount namespace"),
    SYSCALL("mount", "mount a tmpfs"),
    SYSCALL("socket-packet", "raw packet socket (AF_PACKET)"),
    SYSCALL("socket-netlink-audit", "audit netlink socket"),

    /* devices: opened read-only, nothing read */
    {"devices.kvm", "devices", "/dev/kvm", "open", {"/dev/kvm"}, CDN_RJ_OK, CDN_RP_READABLE,
     "/dev/kvm"},
    {"devices.block", "devices", "a block device (open only)", "open", {"{BLK}"}, CDN_RJ_OK,
     CDN_RP_READABLE, "{BLK}"},
    {"devices.mem", "devices", "/dev/mem (open only)", "open", {"/dev/mem"}, CDN_RJ_OK,
     CDN_RP_READABLE, "/dev/mem"},

    /* resources: read the limits; exhaustion is never attempted */
    {"resources.processes", "resources", "process exhaustion (limit configured?)", "limits", {NULL},
     CDN_RJ_PIDS, CDN_RP_NONE, NULL},
    {"resources.memory", "resources", "memory exhaustion (limit configured?)", "limits", {NULL},
     CDN_RJ_MEMORY, CDN_RP_NONE, NULL},
};

/* clang-format on */

const size_t cdn_rad_battery_len = sizeof cdn_rad_battery / sizeof cdn_rad_battery[0];

int cdn_rad_expand(const char *tmpl, const cdn_rad_var_t *vars, size_t n_vars, char **out,
                   const cdn_rad_var_t **missing, cdn_error_t *err)
{
    size_t cap = strlen(tmpl) + 1, len = 0;
    for (size_t i = 0; i < n_vars; i++)
        if (vars[i].value)
            cap += strlen(vars[i].value) * 4; /* each may appear a few times */
    char *s = malloc(cap + 1);
    if (!s)
        return cdn_error(err, ENOMEM, "out of memory");
    for (const char *p = tmpl; *p;) {
        if (*p == '{') {
            const char *end = strchr(p, '}');
            const cdn_rad_var_t *v = NULL;
            for (size_t i = 0; end && i < n_vars; i++)
                if (strlen(vars[i].name) == (size_t)(end - p - 1) &&
                    strncmp(vars[i].name, p + 1, (size_t)(end - p - 1)) == 0)
                    v = &vars[i];
            if (!v) {
                free(s);
                return cdn_error(err, EINVAL, "battery template %s: unknown variable", tmpl);
            }
            if (!v->value) {
                free(s);
                *missing = v;
                *out = NULL;
                return 1;
            }
            size_t vl = strlen(v->value);
            if (len + vl >= cap) {
                free(s);
                return cdn_error(err, E2BIG, "battery template %s: too long", tmpl);
            }
            memcpy(s + len, v->value, vl);
            len += vl;
            p = end + 1;
            continue;
        }
        if (len + 1 >= cap) {
            free(s);
            return cdn_error(err, E2BIG, "battery template %s: too long", tmpl);
        }
        s[len++] = *p++;
    }
    s[len] = '\0';
    *out = s;
    return 0;
}

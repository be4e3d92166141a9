/* `cordon run`: apply a plan and run its command to the end. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/ioctl.h>
#include <termios.h>

#include "net/net.h"
#include "plan/plan.h"
#include "sandbox/supervisor.h"
#include "util/error.h"

struct cdn_audit;

typedef struct cdn_run_opts {
    struct cdn_audit *audit; /* events go here (process, violations); NULL = none */
    bool quiet;          /* no violations block on stderr */
    bool force_no_pty;   /* never allocate a pseudo-terminal */
    bool without_landlock; /* explicitly accepted: the kernel has no Landlock */
} cdn_run_opts_t;

typedef struct cdn_run_result {
    int exit_status;     /* the command's, or 128+N when a signal N killed it */
    cdn_violation_rec_t *violations;
    size_t n_violations;
    size_t n_violations_dropped;
    int64_t duration_ns;
    struct rusage rusage; /* the whole sandbox: pid 1 and everything it reaped */
} cdn_run_result_t;

/* Returns 0 when the command ran (whatever its status), -1 when cordon
 * could not set the sandbox up (nothing ran). */
int cdn_sandbox_run(const cdn_plan_t *plan, const cdn_run_opts_t *opts, cdn_run_result_t *res,
                    cdn_error_t *err);
void cdn_run_result_free(cdn_run_result_t *res);

/* Messages between the sandbox's pid 1 and the host side (pid 1 -> host,
 * except CDN_MSG_CONNECT). */
enum {
    CDN_MSG_ERROR = 1,
    CDN_MSG_VIOLATION = 2,
    CDN_MSG_EXEC_FAILED = 3,
    CDN_MSG_PTY = 4,    /* one fd: the terminal's master side */
    CDN_MSG_NETFDS = 5, /* the broker's listening sockets, in cdn_net_fds_t order,
                           then the allowLocalPorts ones */
    CDN_MSG_CONNECT = 6,   /* host -> pid 1: a socket connected to 127.0.0.1:port */
    CDN_MSG_CONNECTED = 7, /* its answer: one fd, or none and errnum */
};
#define CDN_MSG_MAX_FDS (8 + CDN_NET_MAX_FORWARDS)
typedef struct cdn_msg {
    int type;
    union {
        cdn_error_t error;
        cdn_violation_rec_t violation;
        struct {
            int errnum;
            char what[256];
        } exec;
        struct {
            unsigned present; /* bit i: slot i of cdn_net_fds_t travels */
            unsigned n_local;
            uint16_t local_port[CDN_NET_MAX_FORWARDS];
        } netfds;
        struct {
            uint64_t id;
            uint16_t port;
            int errnum;
        } connect;
    } u;
} cdn_msg_t;

/* The terminal the command gets when cordon runs attached to one: pid 1
 * allocates it from the sandbox's own devpts (so ttyname() works inside)
 * with the caller's settings, and hands the master side out (CDN_MSG_PTY). */
typedef struct cdn_tty_setup {
    struct termios termios;
    bool have_termios;
    struct winsize winsize;
    bool have_winsize;
} cdn_tty_setup_t;

/* The sandbox's pid 1 (sandbox/init.c); tty NULL = no terminal. Never returns. */
_Noreturn void cdn_sandbox_init(const cdn_plan_t *plan, int ctl_fd, const cdn_tty_setup_t *tty);

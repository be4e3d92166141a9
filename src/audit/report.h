/* The terminal sink for agents: after a command that ran into denials, a
 * short block on stderr in srt's style saying what was denied and which
 * setting would allow it, so the agent stops retrying around the sandbox. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "audit/event.h"
#include "settings/settings.h"

typedef struct cdn_violations cdn_violations_t;

cdn_violations_t *cdn_violations_new(void);
void cdn_violations_free(cdn_violations_t *v);
/* Records fs.violation and net.deny events (others are ignored); identical
 * denials are counted once.  Bounded: past a limit only the count grows. */
int cdn_violations_add(cdn_violations_t *v, const cdn_event_t *ev);
/* The command the denials belong to (from process.start), for ignore rules. */
int cdn_violations_set_command(cdn_violations_t *v, char *const *argv);
/* srt's ignoreViolations: rule "*" matches every command, any other pattern
 * matches when the command line contains it; a denial is ignored when its
 * path (or host) contains one of the rule's substrings. */
bool cdn_violation_ignored(const char *command, const char *target,
                           const cdn_ignore_rule_t *rules, size_t n);
/* Prints the block (nothing if nothing is left after filtering); returns
 * the number of denials listed. */
size_t cdn_violations_print(const cdn_violations_t *v, FILE *out, const cdn_ignore_rule_t *rules,
                            size_t n_rules);

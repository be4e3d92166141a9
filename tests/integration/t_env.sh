#!/bin/bash
# Credential-looking environment variables never reach the command.
. "$(dirname "$0")/lib.sh"

SECRET="cordon-env-secret-$RANDOM$RANDOM"
export AWS_SECRET_ACCESS_KEY="$SECRET-aws" AWS_REGION="$SECRET-region" GITHUB_TOKEN="$SECRET-gh"
export ANTHROPIC_API_KEY="$SECRET-anthropic" MY_PASSWORD="$SECRET-pw" DB_PASSWD="$SECRET-passwd"
export APP_SECRET="$SECRET-app" GOOGLE_CREDENTIALS="$SECRET-cred" SSH_AUTH_SOCK="$T/agent.sock"
export GPG_AGENT_INFO="$SECRET-gpg" DBUS_SESSION_BUS_ADDRESS="unix:path=$T/bus"
export ORDINARY_SETTING="plain-value" TMPDIR="$T/host-tmpdir"
mkdir -p "$TMPDIR"

for v in AWS_SECRET_ACCESS_KEY AWS_REGION GITHUB_TOKEN ANTHROPIC_API_KEY MY_PASSWORD DB_PASSWD \
    APP_SECRET GOOGLE_CREDENTIALS SSH_AUTH_SOCK GPG_AGENT_INFO DBUS_SESSION_BUS_ADDRESS; do
    denied "$v removed" "ENOENT" cr -- "$PROBE" env "$v"
done
for v in PATH HOME LANG ORDINARY_SETTING; do
    allowed "$v kept" cr -- "$PROBE" env "$v"
done
ok "env dump runs" cr -- env
out_has "env dump shows ordinary variables" "ORDINARY_SETTING=plain-value"
out_lacks "env dump shows no secret value" "$SECRET"
out_lacks "env dump shows no agent socket" "agent.sock"

ok "every process environment inside readable" cr -c 'for f in /proc/[0-9]*/environ; do tr "\0" "\n" <"$f"; done; exit 0'
out_has "process environments were read" "ORDINARY_SETTING=plain-value"
out_lacks "no secret in any process environment inside (/proc/*/environ)" "$SECRET"

allowed "--env-pass GITHUB_TOKEN keeps it" cr --env-pass GITHUB_TOKEN -- "$PROBE" env GITHUB_TOKEN
ok "--env-pass keeps the exact value" cr --env-pass GITHUB_TOKEN -c 'test "$GITHUB_TOKEN" = "'"$SECRET-gh"'"'
denied "--env-pass GITHUB_TOKEN keeps only that one" "ENOENT" cr --env-pass GITHUB_TOKEN -- "$PROBE" env ANTHROPIC_API_KEY
ok "--setenv sets a variable" cr --setenv CORDON_T=hello -c 'test "$CORDON_T" = hello'

ok "TMPDIR is /tmp inside" cr -c 'test "$TMPDIR" = /tmp'
ok "mktemp works inside" cr -c 'f=$(mktemp) && echo x >"$f" && case $f in /tmp/*) exit 0 ;; *) exit 1 ;; esac'
done_testing

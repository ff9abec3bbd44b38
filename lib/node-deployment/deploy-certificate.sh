#!/bin/sh
# Deploys the rotation's certificate to this node's nginx, or rolls it back: the script of the
# SSM Command document (lib/node-deployment/index.ts). POSIX sh (runs under dash); needs only
# openssl, the AWS CLI and the base utilities (awk, sed, cmp, cp, mv, mktemp).
#
# The document's script is this file (result, parameters, certificates) followed by
# deploy-certificate-changes.sh (files, monit, commands, the actions and the entry point):
# deployScript() in parameters.ts joins them, and the rehearsal and the tests run exactly that.
#
# Parameters arrive as environment variables SSM_<name> (the document declares them with
# interpolationType ENV_VAR, so no value is ever pasted into this text). The private key never
# passes through a parameter, a shell variable, a process argument or the output: the AWS CLI
# writes the secret to a file (umask 077), awk splits it into files, and every later command
# names files only.
#
# install:  fetch the secret -> check it holds the expected certificate and a matching key ->
#           back up the current files (<path>.previous) -> write the new ones atomically (temp
#           file in the same directory, then mv) -> nginx test -> reload -> TLS handshake to
#           the local port until the expected SHA-256 is served -> monit certmd5 -> monit reload.
#           A failed test restores the backup without reloading; a failed reload or handshake
#           restores, reloads and checks the previous certificate is served again.
# rollback: put the backup back, test, reload, and check the backup's certificate is served.
#
# Stdout is exactly one line of JSON (the result); progress goes to stderr. Exit codes:
# 0 SUCCEEDED, 1 FAILED (what this run changed was restored and verified), 2 REFUSED (nothing
# changed: bad parameters, wrong secret, unreadable files), 3 RESTORE_INCOMPLETE (a restore
# could not be verified: look at this node).
set -u
umask 077
PATH="${PATH:-/usr/bin:/bin}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
export PATH

# ---- result ------------------------------------------------------------------------------------

ACTION="${SSM_action:-}"
EXPECTED=""
PREVIOUS=""
SERVED=""
INSTALLED=""
CHANGED=false
RESTORED=""
MONIT_UPDATED=""
MONIT_RELOADED=false
WORK=""
LOCK=""

log() { printf 'deploy-certificate: %s\n' "$*" >&2; }

# JSON string of $1 (control characters dropped, quotes and backslashes escaped).
json_str() {
  printf '"'
  printf '%s' "$1" | tr -d '\000-\010\013\014\016-\037' |
    awk 'BEGIN { ORS = "" } { gsub(/\\/, "\\\\"); gsub(/"/, "\\\""); gsub(/\t/, "\\t"); gsub(/\r/, "\\r"); if (NR > 1) print "\\n"; print }'
  printf '"'
}
json_or_null() { if [ -n "$1" ]; then json_str "$1"; else printf 'null'; fi; }
# JSON list of the space-separated words of $1.
json_list() {
  printf '['
  sep=''
  for w in $1; do
    printf '%s' "$sep"
    json_str "$w"
    sep=','
  done
  printf ']'
}

# Prints the result line and exits. $1 status, $2 exit code, $3 stage, $4 message.
finish() {
  if [ -n "${SSM_certificatePath:-}" ] && [ -f "${SSM_certificatePath:-}" ]; then INSTALLED="$(fp_sha256 "$SSM_certificatePath")"; fi
  printf '{"action":%s,"status":%s,"stage":%s,"message":%s,"expected":%s,"served":%s,"previous":%s,"installed":%s,"changed":%s,"restored":%s,"monitUpdated":%s,"monitReloaded":%s}\n' \
    "$(json_or_null "$ACTION")" "$(json_str "$1")" "$(json_str "$3")" "$(json_str "$4")" \
    "$(json_or_null "$EXPECTED")" "$(json_or_null "$SERVED")" "$(json_or_null "$PREVIOUS")" "$(json_or_null "$INSTALLED")" \
    "$CHANGED" "$(json_list "$RESTORED")" "$(json_list "$MONIT_UPDATED")" "$MONIT_RELOADED"
  exit "$2"
}
refuse() { finish REFUSED 2 "$1" "$2"; }

cleanup() {
  [ -n "$WORK" ] && rm -rf "$WORK"
  [ -n "$LOCK" ] && rm -rf "$LOCK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# ---- parameters --------------------------------------------------------------------------------

# An absolute path of letters, digits and . _ - / (no spaces, no ..).
is_path() {
  case "$1" in
    /*) ;;
    *) return 1 ;;
  esac
  case "$1" in
    *[!A-Za-z0-9_./-]* | */../* | */.. | */./* | */.) return 1 ;;
  esac
  return 0
}
is_uint() {
  case "$1" in
    '' | *[!0-9]*) return 1 ;;
  esac
  return 0
}
# Lower-case hex without separators; empty when $1 is not a SHA-256 fingerprint.
norm_sha256() {
  v="$(printf '%s' "$1" | tr -d ':' | tr 'A-F' 'a-f')"
  case "$v" in
    *[!0-9a-f]*) return 0 ;;
  esac
  [ "${#v}" -eq 64 ] && printf '%s' "$v"
  return 0
}

read_parameters() {
  if [ -z "${SSM_action+x}" ]; then
    refuse parameters 'no SSM_action: parameters arrive as SSM_<name> environment variables (interpolationType ENV_VAR, SSM Agent 3.3.2746.0 or later)'
  fi
  case "$ACTION" in
    install | rollback) ;;
    *) refuse parameters "action must be install or rollback, not \"$ACTION\"" ;;
  esac
  SECRET_ID="${SSM_secretId:-}"
  CERT_PATH="${SSM_certificatePath:-}"
  KEY_PATH="${SSM_keyPath:-}"
  CHAIN_PATH="${SSM_chainPath:-}"
  OWNER="${SSM_owner:-}"
  TEST_CMD="${SSM_nginxTestCommand:-nginx -t}"
  RELOAD_CMD="${SSM_nginxReloadCommand:-systemctl reload nginx}"
  CONNECT_HOST="${SSM_connectHost:-127.0.0.1}"
  PORT="${SSM_port:-443}"
  SERVER_NAME="${SSM_serverName:-}"
  MONIT_FILES="${SSM_monitFiles:-}"
  MONIT_RELOAD_CMD="${SSM_monitReloadCommand:-monit reload}"
  ATTEMPTS="${SSM_verifyAttempts:-10}"
  INTERVAL="${SSM_verifyIntervalSeconds:-1}"

  problems=''
  add() { problems="${problems}${problems:+; }$1"; }
  if [ -n "${SSM_expectedSha256:-}" ]; then
    EXPECTED="$(norm_sha256 "$SSM_expectedSha256")"
    [ -n "$EXPECTED" ] || add 'expectedSha256 must be 64 hex digits (colons allowed)'
  elif [ "$ACTION" = install ]; then
    add 'expectedSha256 is required for install'
  fi
  if [ "$ACTION" = install ]; then
    case "$SECRET_ID" in
      '' | *[!A-Za-z0-9_/+=.@:-]*) add 'secretId must be a secret name or ARN' ;;
    esac
  fi
  is_path "$CERT_PATH" || add 'certificatePath must be an absolute path of letters, digits and . _ - /'
  is_path "$KEY_PATH" || add 'keyPath must be an absolute path of letters, digits and . _ - /'
  [ -z "$CHAIN_PATH" ] || is_path "$CHAIN_PATH" || add 'chainPath must be empty or an absolute path'
  [ "$CERT_PATH" != "$KEY_PATH" ] || add 'certificatePath and keyPath must differ'
  for f in $MONIT_FILES; do is_path "$f" || add "monitFiles: \"$f\" is not an absolute path"; done
  case "$OWNER" in
    *[!A-Za-z0-9_.:-]*) add 'owner must be user or user:group' ;;
  esac
  case "$CONNECT_HOST" in
    '' | *[!A-Za-z0-9_.:-]*) add 'connectHost must be a host name or address' ;;
  esac
  case "$SERVER_NAME" in
    '' | *[!A-Za-z0-9_.-]*) add 'serverName must be the DNS name nginx serves (the TLS SNI name)' ;;
  esac
  if ! is_uint "$PORT" || [ "$PORT" -lt 1 ] || [ "$PORT" -gt 65535 ]; then add 'port must be 1-65535'; fi
  if ! is_uint "$ATTEMPTS" || [ "$ATTEMPTS" -lt 1 ] || [ "$ATTEMPTS" -gt 120 ]; then add 'verifyAttempts must be 1-120'; fi
  if ! is_uint "$INTERVAL" || [ "$INTERVAL" -gt 60 ]; then add 'verifyIntervalSeconds must be 0-60'; fi
  [ -n "$TEST_CMD" ] || add 'nginxTestCommand must not be empty'
  [ -n "$RELOAD_CMD" ] || add 'nginxReloadCommand must not be empty'
  [ -z "$problems" ] || refuse parameters "$problems"

  for tool in openssl awk sed cmp cp mv mktemp; do
    command -v "$tool" >/dev/null 2>&1 || refuse parameters "$tool is not installed on this node"
  done
  if [ "$ACTION" = install ]; then command -v aws >/dev/null 2>&1 || refuse parameters 'the AWS CLI (aws) is not installed on this node'; fi
  for d in "$(dirname "$CERT_PATH")" "$(dirname "$KEY_PATH")" ${CHAIN_PATH:+"$(dirname "$CHAIN_PATH")"}; do
    [ -d "$d" ] || refuse parameters "directory $d does not exist"
  done
}

# ---- certificates ------------------------------------------------------------------------------

fp_sha256() { openssl x509 -in "$1" -noout -fingerprint -sha256 2>/dev/null | sed 's/^.*=//; s/://g' | tr 'A-F' 'a-f'; }
fp_md5() { openssl x509 -in "$1" -noout -fingerprint -md5 2>/dev/null | sed 's/^.*=//; s/://g' | tr 'a-f' 'A-F'; }

# The SHA-256 of the certificate a TLS handshake to the local nginx sees, or empty.
served_sha256() {
  openssl s_client -connect "$CONNECT_HOST:$PORT" -servername "$SERVER_NAME" </dev/null 2>/dev/null |
    openssl x509 -noout -fingerprint -sha256 2>/dev/null | sed 's/^.*=//; s/://g' | tr 'A-F' 'a-f'
}

# Waits until $1 is served (reload is asynchronous): true when seen. Leaves SERVED set.
await_served() {
  n=0
  while :; do
    SERVED="$(served_sha256)"
    [ "$SERVED" = "$1" ] && return 0
    n=$((n + 1))
    [ "$n" -ge "$ATTEMPTS" ] && return 1
    sleep "$INTERVAL"
  done
}

# Splits the secret's JSON ({"certificate", "privateKey", "chain" | "certificateChain"}) in $1
# into the files $2 (certificate), $3 (key), $4 (chain, maybe empty). Values go file to file.
split_secret() {
  awk -v cert="$2" -v key="$3" -v chain="$4" '
    function hexval(h,   k, v, c) {
      v = 0
      for (k = 1; k <= length(h); k++) {
        c = index("0123456789abcdef", tolower(substr(h, k, 1)))
        if (c == 0) return -1
        v = v * 16 + c - 1
      }
      return v
    }
    # The JSON string starting at s[i] (a quote); leaves i after the closing quote.
    function jstr(   out, c, rest, v) {
      out = ""; i++
      while (i <= n) {
        rest = substr(s, i)
        if (match(rest, /["\\]/) == 0) { bad = 1; return out }
        out = out substr(rest, 1, RSTART - 1); i += RSTART - 1
        c = substr(s, i, 1)
        if (c == "\"") { i++; return out }
        c = substr(s, i + 1, 1); i += 2
        if (c == "n") out = out "\n"
        else if (c == "r") out = out "\r"
        else if (c == "t") out = out "\t"
        else if (c == "b" || c == "f") out = out
        else if (c == "u") {
          v = hexval(substr(s, i, 4)); i += 4
          if (v < 1 || v > 126) { bad = 1; return out }
          out = out sprintf("%c", v)
        } else out = out c
      }
      bad = 1
      return out
    }
    function pem(v) { gsub(/\r/, "", v); sub(/^[ \t\n]+/, "", v); sub(/[ \t\n]+$/, "", v); return v == "" ? "" : v "\n" }
    { s = s $0 "\n" }
    END {
      n = length(s); i = 1; depth = 0; expect = ""; bad = 0
      while (i <= n && !bad) {
        c = substr(s, i, 1)
        if (c == "\"") {
          v = jstr()
          if (depth == 1 && expect == "key") { name = v; expect = "colon" }
          else if (depth == 1 && expect == "value") { val[name] = v; has[name] = 1; expect = "comma" }
          continue
        }
        if (c == "{" || c == "[") { depth++; if (depth == 1) expect = "key" }
        else if (c == "}" || c == "]") depth--
        else if (c == ":" && depth == 1) expect = "value"
        else if (c == "," && depth == 1) expect = "key"
        i++
      }
      if (bad) exit 3
      if (!has["certificate"] || !has["privateKey"]) exit 4
      c = has["chain"] ? val["chain"] : val["certificateChain"]
      printf "%s", pem(val["certificate"]) > cert
      printf "%s", pem(val["privateKey"]) > key
      printf "%s", pem(c) > chain
    }' "$1"
}


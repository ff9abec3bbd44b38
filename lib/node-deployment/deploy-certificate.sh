#!/bin/sh
# Deploys the rotation's certificate to this node's nginx, or rolls it back: the script of the
# SSM Command document (lib/node-deployment/document.ts). POSIX sh (runs under dash); needs only
# openssl, the AWS CLI and the base utilities (awk, sed, cmp, cp, mv, mktemp).
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

# ---- files -------------------------------------------------------------------------------------

# Copies $1 to $2 atomically: a temp file in $2's directory, mode $3, owner OWNER, then mv.
place() {
  tmp="$(mktemp "$(dirname "$2")/.cert-rotation.XXXXXX")" || return 1
  if cp "$1" "$tmp" && chmod "$3" "$tmp" && { [ -z "$OWNER" ] || chown "$OWNER" "$tmp"; } && mv -f "$tmp" "$2"; then return 0; fi
  rm -f "$tmp"
  return 1
}
# Copies $1 to $2 atomically, keeping $1's mode and owner (backups and restores).
place_preserving() {
  tmp="$(mktemp "$(dirname "$2")/.cert-rotation.XXXXXX")" || return 1
  if cp -p "$1" "$tmp" && mv -f "$tmp" "$2"; then return 0; fi
  rm -f "$tmp"
  return 1
}
same_file() { [ -f "$1" ] && [ -f "$2" ] && cmp -s "$1" "$2"; }

# The managed files: "path:staged copy:mode". The chain only when chainPath is set.
managed() {
  printf '%s\n' "$CERT_PATH:$WORK/new.fullchain:0644" "$KEY_PATH:$WORK/new.key:0600"
  [ -z "$CHAIN_PATH" ] || printf '%s\n' "$CHAIN_PATH:$WORK/new.chain:0644"
}

# Saves each current file (or notes its absence) into $1/<n>, so `put_back $1` undoes a change.
save_current() {
  mkdir -p "$1" || return 1
  k=0
  for entry in $(managed); do
    k=$((k + 1))
    path="${entry%%:*}"
    if [ -f "$path" ]; then cp -p "$path" "$1/$k" || return 1; else : >"$1/$k.absent"; fi
  done
}
put_back() {
  ok=0
  k=0
  for entry in $(managed); do
    k=$((k + 1))
    path="${entry%%:*}"
    if [ -f "$1/$k" ]; then
      if same_file "$1/$k" "$path"; then continue; fi
      place_preserving "$1/$k" "$path" || ok=1
    elif [ -f "$1/$k.absent" ]; then
      [ -e "$path" ] || continue
      rm -f "$path" || ok=1
    fi
    RESTORED="$RESTORED $path"
  done
  return "$ok"
}

# ---- monit -------------------------------------------------------------------------------------

# Rewrites the certmd5 values of monit file $1 that equal one of the space-separated MD5s $2
# into $3 (upper-case hex), via a temp copy with the file's mode. Prints "updated", "current"
# (already $3) or "unmatched".
monit_rewrite() {
  tmp="$(mktemp "$(dirname "$1")/.cert-rotation.XXXXXX")" || {
    echo failed
    return
  }
  cp -p "$1" "$tmp" || {
    rm -f "$tmp"
    echo failed
    return
  }
  result="$(awk -v olds="$2" -v new="$3" -v out="$tmp" '
    BEGIN { split(olds, o, " "); for (j in o) old[o[j]] = 1; changed = 0; current = 0 }
    {
      line = ""; rest = $0
      while (match(rest, /[Cc][Ee][Rr][Tt][Mm][Dd]5[ \t]+[0-9A-Fa-f:-]+/)) {
        pre = substr(rest, 1, RSTART - 1); seg = substr(rest, RSTART, RLENGTH); rest = substr(rest, RSTART + RLENGTH)
        match(seg, /[0-9A-Fa-f:-]+$/); kw = substr(seg, 1, RSTART - 1); tok = substr(seg, RSTART)
        norm = toupper(tok); gsub(/[:-]/, "", norm)
        if (norm == new) current++; else if (norm in old) { tok = new; changed++ }
        line = line pre kw tok
      }
      print line rest > out
    }
    END { print (changed ? "updated" : current ? "current" : "unmatched") }' "$1")"
  if [ "$result" = updated ]; then
    mv -f "$tmp" "$1" || result=failed
  fi
  rm -f "$tmp"
  echo "$result"
}

# Checks (before anything changes) that every monit file mentions one of $1 or $2 in a certmd5.
monit_preflight() {
  for f in $MONIT_FILES; do
    [ -f "$f" ] || refuse monit "monit file $f does not exist"
    grep -i 'certmd5' "$f" | tr -d ':-' | tr 'a-f' 'A-F' | grep -E -q "$(printf '%s' "$1 $2" | sed 's/^ *//; s/ *$//; s/  */|/g')" ||
      refuse monit "monit file $f has no certmd5 of the current ($1) or the new certificate"
  done
}

# Updates the monit files from the MD5s $1 to $2 and reloads monit when one changed.
monit_update() {
  [ -n "$MONIT_FILES" ] || return 0
  for f in $MONIT_FILES; do
    r="$(monit_rewrite "$f" "$1" "$2")"
    case "$r" in
      updated) MONIT_UPDATED="$MONIT_UPDATED $f" ;;
      current) ;;
      *) return 1 ;;
    esac
  done
  [ -n "$MONIT_UPDATED" ] || return 0
  run "$MONIT_RELOAD_CMD" "$WORK/monit-reload.out" || return 2
  MONIT_RELOADED=true
}

# ---- commands ----------------------------------------------------------------------------------

# Runs command line $1 with its output in file $2; the last lines go in LAST_OUTPUT.
run() {
  sh -c "$1" >"$2" 2>&1
  rc=$?
  LAST_OUTPUT="$(tail -n 3 "$2" | tr '\n' ' ' | sed 's/ *$//')"
  return "$rc"
}

# After a failure: put $1 back, test and reload nginx, and check $2 (when known) is served.
# Exits FAILED when that holds, RESTORE_INCOMPLETE when not.
restore_and_exit() {
  stage="$3"
  why="$4"
  if ! put_back "$1"; then finish RESTORE_INCOMPLETE 3 "$stage" "$why; restoring the files failed"; fi
  [ "${5:-reload}" = reload ] || finish FAILED 1 "$stage" "$why; files restored, nginx was not reloaded"
  if ! run "$TEST_CMD" "$WORK/nginx-test-restored.out"; then
    finish RESTORE_INCOMPLETE 3 "$stage" "$why; files restored but nginx test fails on them: $LAST_OUTPUT"
  fi
  if ! run "$RELOAD_CMD" "$WORK/nginx-reload-restored.out"; then
    finish RESTORE_INCOMPLETE 3 "$stage" "$why; files restored but nginx reload fails: $LAST_OUTPUT"
  fi
  if [ -n "$2" ] && ! await_served "$2"; then
    finish RESTORE_INCOMPLETE 3 "$stage" "$why; files restored and reloaded but $CONNECT_HOST:$PORT serves ${SERVED:-nothing}, not $2"
  fi
  finish FAILED 1 "$stage" "$why; restored and verified"
}

# Tests, reloads and verifies that $1 is served; on failure restores from $2 (previous = $3).
activate() {
  if ! run "$TEST_CMD" "$WORK/nginx-test.out"; then
    SERVED="$(served_sha256)"
    if [ "$CHANGED" = true ]; then restore_and_exit "$2" "$3" nginx-test "nginx test failed: $LAST_OUTPUT" no-reload; fi
    finish FAILED 1 nginx-test "nginx test failed: $LAST_OUTPUT (this run changed no file)"
  fi
  if ! run "$RELOAD_CMD" "$WORK/nginx-reload.out"; then
    if [ "$CHANGED" = true ]; then restore_and_exit "$2" "$3" nginx-reload "nginx reload failed: $LAST_OUTPUT"; fi
    finish FAILED 1 nginx-reload "nginx reload failed: $LAST_OUTPUT (this run changed no file)"
  fi
  if ! await_served "$1"; then
    why="$CONNECT_HOST:$PORT ($SERVER_NAME) serves ${SERVED:-nothing}, not $1"
    if [ "$CHANGED" = true ]; then restore_and_exit "$2" "$3" verify "$why"; fi
    finish FAILED 1 verify "$why (this run changed no file)"
  fi
}

# ---- actions -----------------------------------------------------------------------------------

lock() {
  LOCK_PATH="$(dirname "$KEY_PATH")/.cert-rotation.lock"
  if ! mkdir "$LOCK_PATH" 2>/dev/null; then
    holder="$(cat "$LOCK_PATH/pid" 2>/dev/null || true)"
    if [ -n "$holder" ] && kill -0 "$holder" 2>/dev/null; then refuse lock "another run (pid $holder) is deploying here"; fi
    rm -rf "$LOCK_PATH"
    mkdir "$LOCK_PATH" 2>/dev/null || refuse lock "cannot take the lock $LOCK_PATH"
  fi
  LOCK="$LOCK_PATH"
  echo "$$" >"$LOCK/pid"
  # Work files (the secret among them) stay next to the key, readable by this user only.
  WORK="$(mktemp -d "$(dirname "$KEY_PATH")/.cert-rotation.work.XXXXXX")" || refuse lock 'cannot create a work directory next to the key'
}

do_install() {
  log "fetching the certificate from Secrets Manager"
  region=''
  case "$SECRET_ID" in arn:*) region="$(printf '%s' "$SECRET_ID" | cut -d: -f4)" ;; esac
  if ! aws secretsmanager get-secret-value --secret-id "$SECRET_ID" ${region:+--region "$region"} \
    --query SecretString --output text >"$WORK/secret.json" 2>"$WORK/aws.err"; then
    refuse fetch "aws secretsmanager get-secret-value failed: $(tail -n 2 "$WORK/aws.err" | tr '\n' ' ')"
  fi
  split_secret "$WORK/secret.json" "$WORK/new.crt" "$WORK/new.key" "$WORK/new.chain"
  case $? in
    0) ;;
    4) refuse check 'the secret has no certificate or privateKey field' ;;
    *) refuse check 'the secret is not the JSON {"certificate", "privateKey", "chain"}' ;;
  esac
  rm -f "$WORK/secret.json"
  found="$(fp_sha256 "$WORK/new.crt")"
  [ -n "$found" ] || refuse check 'the secret'"'"'s certificate does not parse'
  [ "$found" = "$EXPECTED" ] || refuse check "the secret holds certificate $found, not the expected $EXPECTED"
  openssl x509 -in "$WORK/new.crt" -noout -pubkey >"$WORK/cert.pub" 2>/dev/null
  openssl pkey -in "$WORK/new.key" -pubout >"$WORK/key.pub" 2>/dev/null
  if ! [ -s "$WORK/cert.pub" ] || ! cmp -s "$WORK/cert.pub" "$WORK/key.pub"; then
    refuse check 'the secret'"'"'s private key does not match its certificate'
  fi
  cat "$WORK/new.crt" "$WORK/new.chain" >"$WORK/new.fullchain"

  [ -f "$CERT_PATH" ] && PREVIOUS="$(fp_sha256 "$CERT_PATH")"
  new_md5="$(fp_md5 "$WORK/new.crt")"
  old_md5s=''
  [ -f "$CERT_PATH" ] && old_md5s="$(fp_md5 "$CERT_PATH")"
  [ -f "$CERT_PATH.previous" ] && old_md5s="$old_md5s $(fp_md5 "$CERT_PATH.previous")"
  monit_preflight "$old_md5s" "$new_md5"

  # Already installed (a re-run): keep the backup, which holds the certificate before this rotation.
  up_to_date=true
  for entry in $(managed); do
    path="${entry%%:*}"
    rest="${entry#*:}"
    same_file "${rest%%:*}" "$path" || up_to_date=false
  done
  if [ "$up_to_date" = true ]; then
    log "the files already hold $EXPECTED"
    SERVED="$(served_sha256)"
    [ "$SERVED" = "$EXPECTED" ] || activate "$EXPECTED" "$WORK/saved" "$PREVIOUS"
  else
    save_current "$WORK/saved" || refuse backup 'cannot read the current files'
    for entry in $(managed); do
      path="${entry%%:*}"
      if [ -f "$path" ]; then place_preserving "$path" "$path.previous" || refuse backup "cannot back up $path"; fi
    done
    log "installing $EXPECTED (previous ${PREVIOUS:-none})"
    CHANGED=true
    for entry in $(managed); do
      path="${entry%%:*}"
      rest="${entry#*:}"
      if ! place "${rest%%:*}" "$path" "${rest##*:}"; then
        restore_and_exit "$WORK/saved" "$PREVIOUS" install "cannot write $path" no-reload
      fi
    done
    activate "$EXPECTED" "$WORK/saved" "$PREVIOUS"
  fi
  monit_update "$old_md5s" "$new_md5"
  case $? in
    0) finish SUCCEEDED 0 done "$EXPECTED is served on $CONNECT_HOST:$PORT" ;;
    1) finish FAILED 1 monit "$EXPECTED is served, but a monit file could not be rewritten" ;;
    *) finish FAILED 1 monit "$EXPECTED is served and monit files updated, but the monit reload failed: $LAST_OUTPUT" ;;
  esac
}

do_rollback() {
  [ -f "$CERT_PATH.previous" ] && [ -f "$KEY_PATH.previous" ] || refuse backup "no backup ($CERT_PATH.previous, $KEY_PATH.previous) to roll back to"
  backup="$(fp_sha256 "$CERT_PATH.previous")"
  [ -n "$backup" ] || refuse backup "the backup $CERT_PATH.previous does not parse"
  if [ -n "$EXPECTED" ] && [ "$EXPECTED" != "$backup" ]; then refuse backup "the backup holds $backup, not the expected $EXPECTED"; fi
  EXPECTED="$backup"
  [ -f "$CERT_PATH" ] && PREVIOUS="$(fp_sha256 "$CERT_PATH")"
  # The staged copies for a rollback are the backups.
  mkdir -p "$WORK" && cp -p "$CERT_PATH.previous" "$WORK/new.fullchain" && cp -p "$KEY_PATH.previous" "$WORK/new.key" || refuse backup 'cannot read the backup'
  if [ -n "$CHAIN_PATH" ]; then
    if [ -f "$CHAIN_PATH.previous" ]; then cp -p "$CHAIN_PATH.previous" "$WORK/new.chain" || refuse backup 'cannot read the chain backup'; else CHAIN_PATH=''; fi
  fi
  cur_md5=''
  [ -f "$CERT_PATH" ] && cur_md5="$(fp_md5 "$CERT_PATH")"
  back_md5="$(fp_md5 "$CERT_PATH.previous")"
  monit_preflight "$cur_md5" "$back_md5"

  up_to_date=true
  for entry in $(managed); do
    path="${entry%%:*}"
    rest="${entry#*:}"
    same_file "${rest%%:*}" "$path" || up_to_date=false
  done
  if [ "$up_to_date" = true ]; then
    SERVED="$(served_sha256)"
    [ "$SERVED" = "$EXPECTED" ] || activate "$EXPECTED" "$WORK/saved" "$PREVIOUS"
  else
    save_current "$WORK/saved" || refuse backup 'cannot read the current files'
    log "restoring $EXPECTED (now ${PREVIOUS:-none})"
    CHANGED=true
    for entry in $(managed); do
      path="${entry%%:*}"
      rest="${entry#*:}"
      if ! place_preserving "${rest%%:*}" "$path"; then
        restore_and_exit "$WORK/saved" "$PREVIOUS" rollback "cannot write $path" no-reload
      fi
    done
    activate "$EXPECTED" "$WORK/saved" "$PREVIOUS"
  fi
  monit_update "$cur_md5" "$back_md5"
  case $? in
    0) finish SUCCEEDED 0 done "the backup $EXPECTED is served on $CONNECT_HOST:$PORT" ;;
    1) finish FAILED 1 monit "$EXPECTED is served, but a monit file could not be rewritten" ;;
    *) finish FAILED 1 monit "$EXPECTED is served and monit files updated, but the monit reload failed: $LAST_OUTPUT" ;;
  esac
}

read_parameters
lock
case "$ACTION" in
  install) do_install ;;
  rollback) do_rollback ;;
esac

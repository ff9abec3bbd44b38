# The second part of the node deploy script: see deploy-certificate.sh, which comes first.

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

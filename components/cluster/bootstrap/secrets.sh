# shellcheck shell=bash
# wg-mesh bootstrap library: secrets read at boot through the node's own cloud identity
# (the join tokens on every node, the PKI bundle on control planes), and the kubeadm runs
# that use them. Sourced by /usr/local/sbin/wg-mesh-bootstrap.
#
# - No secret is ever an argument of a command (the process list is world-readable), printed
#   to the journal or the serial console, or written to a file others can read: values live
#   in shell variables, go to curl on stdin, and into a 0600 copy of the kubeadm config under
#   a 0700 directory in /run (tmpfs), removed after each kubeadm run. kubeadm's own output
#   (it prints the token and a join command) passes through `redact`.
# - A transient store error (no network yet, no credentials yet, the secret not created yet)
#   is retried; access denied is not: it ends the script with what to do, and systemd runs
#   the unit again later.
# - The store holds `{"tokens": [{"token", "expires"}, ...]}`, newest first. `kubeadm init`
#   uses the newest; a joining node uses the newest token the cluster already accepts, which
#   it sees in cluster-info's signatures (`jws-kubeconfig-<token id>`, one per valid token;
#   token ids are public). A node created while `pulumi up` publishes a new token therefore
#   waits until the cluster accepts one of them.

RUN_DIR="${WG_MESH_RUN_DIR:-/run/wg-mesh}"
STORE_ATTEMPTS="${WG_MESH_STORE_ATTEMPTS:-30}"
STORE_DELAY="${WG_MESH_STORE_DELAY:-10}"
TOKEN_ROUNDS="${WG_MESH_TOKEN_ROUNDS:-90}" # 45 minutes at 30 s
TOKEN_DELAY="${WG_MESH_TOKEN_DELAY:-30}"
GCP_METADATA="${WG_MESH_GCP_METADATA:-http://metadata.google.internal}"
STORE_DENIED=3

# Replaces anything shaped like a kubeadm token in a stream (kubeadm's output).
redact() {
  sed -u -E 's/[a-z0-9]{6}\.[a-z0-9]{16}/<redacted-token>/g'
}

private_dir() {
  install -d -m 0700 "$RUN_DIR"
}

ensure_aws_cli() {
  command -v aws >/dev/null && return 0
  snap wait system seed.loaded >&2 && snap install aws-cli --classic >&2
}

# store_read_aws REGION SECRET_ID: the secret's string on stdout; 1 = transient, 3 = denied.
# Credentials come from the instance role (IMDSv2).
store_read_aws() {
  local value err status=0
  ensure_aws_cli || return 1
  private_dir
  err=$(mktemp -p "$RUN_DIR")
  value=$(aws secretsmanager get-secret-value --region "$1" --secret-id "$2" --query SecretString --output text 2>"$err") || status=$?
  if ((status == 0)); then
    rm -f "$err"
    printf '%s' "$value"
    return 0
  fi
  log "AWS Secrets Manager ($2): $(head -c 400 "$err" | tr '\n' ' ' | redact)"
  if grep -qE 'AccessDenied|is not authorized to perform' "$err"; then status=$STORE_DENIED; else status=1; fi
  rm -f "$err"
  return "$status"
}

# store_read_gcp PROJECT SECRET_ID: as store_read_aws, with the instance's service account.
store_read_gcp() {
  local token response code body
  token=$(curl -fsS --max-time 10 -H 'Metadata-Flavor: Google' "${GCP_METADATA}/computeMetadata/v1/instance/service-accounts/default/token" | jq -er .access_token) || {
    log "no access token from the GCP metadata server yet"
    return 1
  }
  # The token goes in through stdin so it never shows up in the process list.
  response=$(printf 'Authorization: Bearer %s\n' "$token" |
    curl -sS --max-time 20 -H @- -w '\n%{http_code}' "https://secretmanager.googleapis.com/v1/projects/${1}/secrets/${2}/versions/latest:access") || {
    log "GCP Secret Manager (${2}) did not answer"
    return 1
  }
  code=${response##*$'\n'}
  body=${response%$'\n'*}
  if [[ "$code" == 200 ]]; then
    printf '%s' "$body" | jq -er .payload.data | tr '_-' '/+' | base64 -d
    return
  fi
  log "GCP Secret Manager (${2}): HTTP ${code}: $(printf '%s' "$body" | jq -r '.error.message // empty' 2>/dev/null | head -c 400 | redact)"
  if [[ "$code" == 403 ]]; then return "$STORE_DENIED"; fi
  return 1
}

# store_ref WHAT: "<region|project> <secret id>" of the pki, join-token or boot-guard secret in this cloud.
store_ref() {
  case "${CLOUD}:$1" in
    aws:pki) printf '%s %s\n' "$PKI_AWS_REGION" "$PKI_AWS_SECRET_ID" ;;
    gcp:pki) printf '%s %s\n' "$PKI_GCP_PROJECT" "$PKI_GCP_SECRET_ID" ;;
    aws:join-token) printf '%s %s\n' "$JOIN_TOKEN_AWS_REGION" "$JOIN_TOKEN_AWS_SECRET_ID" ;;
    gcp:join-token) printf '%s %s\n' "$JOIN_TOKEN_GCP_PROJECT" "$JOIN_TOKEN_GCP_SECRET_ID" ;;
    aws:boot-guard) printf '%s %s\n' "$BOOT_GUARD_AWS_REGION" "$BOOT_GUARD_AWS_SECRET_ID" ;;
    gcp:boot-guard) printf '%s %s\n' "$BOOT_GUARD_GCP_PROJECT" "$BOOT_GUARD_GCP_SECRET_ID" ;;
    *) return 1 ;;
  esac
}

# store_fetch WHAT: the secret's value on stdout, retried on transient errors;
# status 3 (after a clear message) when this instance's identity may not read it.
store_fetch() {
  local what=$1 where id n=1 status value store
  read -r where id <<<"$(store_ref "$what")"
  [[ -n "$where" && -n "$id" ]] || die "no ${what} secret is configured for ${CLOUD} in ${ENV_FILE}"
  store=$([[ "$CLOUD" == aws ]] && echo "AWS Secrets Manager" || echo "GCP Secret Manager")
  while :; do
    status=0
    value=$("store_read_${CLOUD}" "$where" "$id") || status=$?
    if ((status == 0)); then
      printf '%s' "$value"
      return 0
    fi
    if ((status == STORE_DENIED)); then
      log "ACCESS DENIED reading the ${what} secret ${id} from ${store} with this instance's identity. The program grants it to the node identities of ${CLUSTER_NAME:-this cluster} only, and only until the current join token expires: run \`pulumi up\` (it issues a fresh token and renews the grant); this unit then retries by itself. If it persists, check that the instance runs with the cluster's ${ROLE} instance profile / service account."
      return "$STORE_DENIED"
    fi
    if ((n >= STORE_ATTEMPTS)); then
      log "the ${what} secret ${id} could not be read from ${store} after ${n} attempts"
      return 1
    fi
    log "reading the ${what} secret ${id} failed (attempt ${n}/${STORE_ATTEMPTS}); retrying in ${STORE_DELAY}s"
    sleep "$STORE_DELAY"
    n=$((n + 1))
  done
}

# Token ids the cluster accepts now: cluster-info is signed for each valid token (read
# anonymously through the local API proxy, trusting only the cluster CA).
published_token_ids() {
  curl -fsS --max-time 10 --cacert "$CA_CERT" "https://${API_PROXY}/api/v1/namespaces/kube-public/configmaps/cluster-info" |
    jq -r '.data // {} | keys[] | select(startswith("jws-kubeconfig-")) | ltrimstr("jws-kubeconfig-")'
}

# choose_join_token ACTION DOC: "<token> <seconds left>" of the token to use, or status 1.
choose_join_token() {
  local action=$1 doc=$2 ids="" now token expires left stored=()
  now=$(date +%s)
  if [[ "$action" == join ]]; then
    ids=$(published_token_ids) || {
      log "cluster-info is not readable through ${API_PROXY} yet"
      return 1
    }
  fi
  while read -r token expires; do
    [[ "$token" =~ ^[a-z0-9]{6}\.[a-z0-9]{16}$ ]] || continue
    stored+=("${token%%.*}")
    left=$(($(date -d "$expires" +%s 2>/dev/null || echo 0) - now))
    ((left > 60)) || continue
    if [[ "$action" == init ]] || grep -qxF "${token%%.*}" <<<"$ids"; then
      printf '%s %s\n' "$token" "$left"
      return 0
    fi
  done < <(printf '%s' "$doc" | jq -r '.tokens[]? | "\(.token) \(.expires)"' 2>/dev/null)
  local accepted=${ids//$'\n'/ }
  log "no usable join token yet: the store holds token id(s) ${stored[*]:-none}, the cluster accepts ${accepted:-none}; \`pulumi up\` publishes a fresh one"
  return 1
}

# acquire_join_token ACTION: "<token> <seconds left>", waiting (TOKEN_ROUNDS x TOKEN_DELAY)
# until the store holds a token this node can use; status 3 when access is denied.
acquire_join_token() {
  local action=$1 round=1 doc status picked
  while ((round <= TOKEN_ROUNDS)); do
    status=0
    doc=$(store_fetch join-token) || status=$?
    if ((status == STORE_DENIED)); then return "$STORE_DENIED"; fi
    if ((status == 0)) && picked=$(choose_join_token "$action" "$doc"); then
      printf '%s\n' "$picked"
      return 0
    fi
    round=$((round + 1))
    sleep "$TOKEN_DELAY"
  done
  log "no usable join token after ${TOKEN_ROUNDS} rounds"
  return 1
}

# render_kubeadm_config SRC TOKEN TTL_SECONDS: the path of a private copy of SRC with the
# token filled in (bash substitution: the token is never a command argument).
render_kubeadm_config() {
  local src=$1 dest content
  private_dir
  dest="${RUN_DIR}/$(basename "$src")"
  content=$(<"$src")
  content=${content//@@WG_MESH_JOIN_TOKEN@@/$2}
  content=${content//@@WG_MESH_JOIN_TOKEN_TTL@@/${3}s}
  [[ "$content" != *@@WG_MESH_* ]] || die "a placeholder is left in ${src}"
  (
    umask 077
    printf '%s\n' "$content" >"$dest"
  )
  printf '%s\n' "$dest"
}

# run_kubeadm ARGS...: kubeadm with its output redacted (kubeadm prints the token).
run_kubeadm() {
  kubeadm "$@" 2>&1 | redact >&2
}

# kubeadm_with_token init|join: one kubeadm run with a fetched token; the private config
# copy is removed whatever happens.
kubeadm_with_token() {
  local action=$1 picked status=0 config src
  picked=$(acquire_join_token "$action") || status=$?
  if ((status == STORE_DENIED)); then die "cannot read the join token (access denied; see above)"; fi
  ((status == 0)) || return 1
  src=$([[ "$action" == init ]] && echo "$KUBEADM_INIT_CONFIG" || echo "$KUBEADM_JOIN_CONFIG")
  config=$(render_kubeadm_config "$src" "${picked% *}" "${picked##* }")
  status=0
  if [[ "$action" == init ]]; then
    run_kubeadm init --config "$config" --skip-phases=addon/kube-proxy || status=$?
  else
    run_kubeadm join --config "$config" || status=$?
  fi
  rm -f "$config"
  return "$status"
}

#!/usr/bin/env bash
# First start of the compose deployment's OpenBao, and unsealing after every restart.
#
#   deploy/openbao/bootstrap.sh          # init (once) + unseal + configure + AppRole files
#   deploy/openbao/bootstrap.sh unseal   # after a restart: unseal only
#
# init   `bao operator init` with KEY_SHARES (5) / KEY_THRESHOLD (3). The unseal keys and the
#        root token go to deploy/secrets/openbao-init.json (owner-only). Move that file offline
#        (or hand the keys to KEY_THRESHOLD different people) once the deployment works.
# unseal with the first KEY_THRESHOLD keys from that file (or type them: bao operator unseal).
# setup  `manage.py setup_vault` with the root token: kv-v2 secret/, pki/, database/, the
#        candlefish-console policy and AppRole (idempotent).
# approle writes deploy/secrets/vault_role_id and vault_secret_id (a new secret id only when the
#        file is empty), which web, worker and beat read as VAULT_ROLE_ID_FILE / VAULT_SECRET_ID_FILE.
#
# Needs bash and python3 on the host (to read bao's JSON output).
# Where the commands run (override both to use a local `bao` and checkout, as the tests do):
#   BAO     default "docker compose exec -T -e BAO_TOKEN openbao bao"
#   MANAGE  default "docker compose run --rm --no-deps -e VAULT_TOKEN migrate python manage.py"
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
SECRETS_DIR="${SECRETS_DIR:-$here/../secrets}"
BAO="${BAO:-docker compose exec -T -e BAO_TOKEN openbao bao}"
MANAGE="${MANAGE:-docker compose run --rm --no-deps -e VAULT_TOKEN migrate python manage.py}"
KEY_SHARES="${KEY_SHARES:-5}"
KEY_THRESHOLD="${KEY_THRESHOLD:-3}"
ROLE="candlefish-console"
init_file="$SECRETS_DIR/openbao-init.json"

field() { # field KEY [INDEX...] < json: one value (booleans as true/false)
    python3 -c $'import json, sys\nv = json.load(sys.stdin)\nfor k in sys.argv[1:]:\n    v = v[int(k)] if k.isdigit() else v[k]\nprint(str(v).lower() if isinstance(v, bool) else v)' "$@"
}
bao() { $BAO "$@"; }
state() { # prints "<initialized> <sealed>"; `bao status` exits 2 when sealed, so its code is ignored
    local out
    out="$(bao status -format=json || true)"
    [[ -n "$out" ]] || { echo "OpenBao does not answer (is it up? docker compose up -d openbao)" >&2; exit 1; }
    echo "$(field initialized <<<"$out") $(field sealed <<<"$out")"
}

mkdir -p "$SECRETS_DIR"
chmod 700 "$SECRETS_DIR"
read -r initialized sealed <<<"$(state)"
[[ -n "$initialized" ]] || exit 1

if [[ "$initialized" == false ]]; then
    [[ "${1:-}" != unseal ]] || { echo "OpenBao is not initialised yet: run without 'unseal'" >&2; exit 1; }
    [[ ! -s "$init_file" ]] || { echo "$init_file exists but OpenBao is not initialised: refusing to overwrite it" >&2; exit 1; }
    (umask 077 && bao operator init -key-shares="$KEY_SHARES" -key-threshold="$KEY_THRESHOLD" -format=json >"$init_file")
    echo "initialised OpenBao; unseal keys and root token are in $init_file (move it offline when done)"
fi

if [[ "$sealed" == true || "$initialized" == false ]]; then
    [[ -s "$init_file" ]] || { echo "no $init_file: unseal by hand with bao operator unseal" >&2; exit 1; }
    for i in $(seq 0 $((KEY_THRESHOLD - 1))); do
        bao operator unseal "$(field unseal_keys_b64 "$i" <"$init_file")" >/dev/null
    done
    read -r initialized sealed <<<"$(state)"
    [[ "$sealed" == false ]] || { echo "OpenBao is still sealed" >&2; exit 1; }
    echo "unsealed OpenBao"
fi
[[ "${1:-}" != unseal ]] || exit 0

# Configure with the root token (or VAULT_TOKEN, if the root token was revoked already).
token="${VAULT_TOKEN:-$(field root_token <"$init_file")}"
VAULT_TOKEN="$token" $MANAGE setup_vault
(umask 022 && BAO_TOKEN="$token" bao read -field=role_id "auth/approle/role/$ROLE/role-id" >"$SECRETS_DIR/vault_role_id")
echo "wrote $SECRETS_DIR/vault_role_id"
if [[ ! -s "$SECRETS_DIR/vault_secret_id" ]]; then
    (umask 022 && BAO_TOKEN="$token" bao write -f -field=secret_id "auth/approle/role/$ROLE/secret-id" \
        >"$SECRETS_DIR/vault_secret_id")
    echo "wrote $SECRETS_DIR/vault_secret_id"
fi
echo "OpenBao is ready for the console. Next: docker compose up -d"

#!/usr/bin/env bash
# Write the docker compose secrets (deploy/secrets/*): random keys and passwords, once.
# An existing file is never overwritten, so running this again is safe. The folder is readable
# by its owner only; the files inside are world-readable so the containers' non-root users can
# read them through the bind mount (nobody else can reach them through the folder).
#
#   deploy/make-secrets.sh [folder]      # default: deploy/secrets next to this script
set -euo pipefail

dir="${1:-$(cd "$(dirname "$0")" && pwd)/secrets}"
mkdir -p "$dir"
chmod 700 "$dir"

random() { python3 -c 'import secrets, sys; print(secrets.token_urlsafe(int(sys.argv[1])))' "$1"; }
fernet_key() { python3 -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())'; }

put() { # put NAME VALUE: write the file unless it exists
    local path="$dir/$1"
    if [[ -e "$path" ]]; then
        echo "kept    $path"
    else
        (umask 022 && printf '%s\n' "$2" >"$path")
        echo "created $path"
    fi
}

put secret_key "$(random 64)"
put field_encryption_keys "$(fernet_key)"
put postgres_password "$(random 32)"  # the superuser's (roles.sh and people, never the console)
put database_owner_password "$(random 32)"  # candlefish_owner: owns the tables, used by migrate
put database_password "$(random 32)"  # candlefish: the console's runtime role
# The URLs must carry the same passwords as the servers' own files.
put database_owner_url "postgres://candlefish_owner:$(head -n1 "$dir/database_owner_password")@postgres:5432/candlefish"
put database_url "postgres://candlefish:$(head -n1 "$dir/database_password")@postgres:5432/candlefish"
put redis_password "$(random 32)"
put redis_url "redis://:$(head -n1 "$dir/redis_password")@redis:6379/0"
# Filled by deploy/openbao/bootstrap.sh once OpenBao is initialised; until then the console
# refuses to start with console.E002 (no Vault credentials).
for name in vault_role_id vault_secret_id; do
    [[ -e "$dir/$name" ]] || (umask 022 && : >"$dir/$name")
done
echo "Next: docker compose up -d openbao && deploy/openbao/bootstrap.sh"

# What the console's own token may do in OpenBao/Vault.
# Inventory reads metadata only; rotation writes new versions; break-glass mints child tokens
# under per-grant policies (candlefish-grant-*), which it also writes and deletes.
path "secret/metadata/*"          { capabilities = ["read", "list", "update", "patch", "delete"] }
# Rotation stages a new value beside the key (secret/candlefish-pending/...) and reads it back
# to promote it: values pass through a worker's memory during a step, never anywhere else.
path "secret/data/*"              { capabilities = ["create", "update", "read"] }
path "secret/destroy/*"           { capabilities = ["update"] }
path "pki/certs"                  { capabilities = ["list"] }
path "pki/cert/*"                 { capabilities = ["read"] }
path "pki/issue/*"                { capabilities = ["create", "update"] }
path "pki/revoke"                 { capabilities = ["update"] }
path "database/config/*"          { capabilities = ["read", "list"] }
path "database/roles/*"           { capabilities = ["read", "list"] }
path "database/static-roles/*"    { capabilities = ["read", "list"] }
path "database/rotate-role/*"     { capabilities = ["update"] }
path "database/creds/*"           { capabilities = ["read"] }
path "sys/leases/lookup/*"        { capabilities = ["list", "sudo"] }
path "sys/leases/revoke/*"        { capabilities = ["update"] }
# Rotation targets (dynamic strategy, leases page): rotate the connection's root login, read the
# static login OpenBao now reports to prove it, look up and revoke one lease by id.
path "database/rotate-root/*"     { capabilities = ["update"] }
path "database/static-creds/*"    { capabilities = ["read"] }
path "sys/leases/lookup"          { capabilities = ["update"] }
path "sys/leases/revoke"          { capabilities = ["update"] }
path "sys/policies/acl/candlefish-grant-*" { capabilities = ["create", "read", "update", "delete"] }
path "auth/token/create"          { capabilities = ["create", "update", "sudo"] }
path "auth/token/lookup-accessor" { capabilities = ["update"] }
path "auth/token/revoke-accessor" { capabilities = ["update"] }
# A grant token minted but never recorded (the console died in between) is found by its metadata.
path "auth/token/accessors"       { capabilities = ["list", "sudo"] }
path "auth/token/lookup-self"     { capabilities = ["read"] }
path "sys/health"                 { capabilities = ["read"] }
# Audit anchors: the chain head, a new KV v2 version each time. Write and read, never delete or
# destroy, so the console cannot erase the history that proves its own ledger.
path "audit-anchors/data/*"       { capabilities = ["create", "update", "read"] }
path "audit-anchors/metadata/*"   { capabilities = ["read", "list"] }

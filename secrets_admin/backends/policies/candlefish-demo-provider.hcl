# The demo API provider's own token (make run): it reads the pending and current API keys it
# must accept, and nothing else. A real provider would be limited to its own keys' paths.
path "secret/data/*"     { capabilities = ["read"] }
path "secret/metadata/*" { capabilities = ["read"] }

# OpenBao server for the docker compose deployment (mounted at /openbao/config/openbao.hcl).
# A real server: integrated (raft) storage on the `openbao-data` volume, sealed at every start
# until an operator unseals it (deploy/openbao/bootstrap.sh does the first init + unseal).

ui            = false
disable_mlock = true # recommended with raft storage; the container cannot lock memory anyway

storage "raft" {
  path    = "/openbao/file"
  node_id = "candlefish-openbao-1"
}

# Plain HTTP on the compose network only (the port is not published). To expose OpenBao beyond
# it, mount a certificate and set tls_cert_file / tls_key_file instead of tls_disable.
listener "tcp" {
  address     = "0.0.0.0:8200"
  tls_disable = true
}

api_addr     = "http://openbao:8200"
cluster_addr = "http://openbao:8201"

# Every request and response, values HMAC'd, on the `openbao-audit` volume. Audit devices can
# only be declared here (the API refuses). Accessors stay readable so audit lines can be matched
# to the break-glass grants the console records (it stores accessors, never tokens).
audit "file" "console" {
  description = "every request to OpenBao"
  options {
    file_path     = "/openbao/logs/audit.log"
    hmac_accessor = "false"
    mode          = "0644" # the console's worker reads it (read-only volume) for session recording
  }
}

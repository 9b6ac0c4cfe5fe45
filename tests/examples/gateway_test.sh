#!/usr/bin/env bash
# Runs the shipped reverse-proxy examples for real: for each of nginx
# (examples/nginx/plugauth.conf, auth_request) and Caddy
# (examples/caddy/Caddyfile, forward_auth) it starts plugauth with a fresh data
# dir, the example plugin and the proxy, all on free loopback ports, and checks
# what a client and the plugin behind the proxy see. Also checks that each
# examples/ai-plugin manifest is valid JSON whose "auth" block is what
# `plugauth manifest` prints.
#
# usage: gateway_test.sh PATH/TO/plugauth
# Prints one line per check and ends with "N passed, M failed"; exits non-zero
# on any failure. A missing nginx or caddy is a failure, not a skip.
set -euo pipefail

plugauth=${1:?usage: gateway_test.sh PATH/TO/plugauth}
root=$(cd "$(dirname "$0")/../.." && pwd)
nginx_bin=${NGINX:-/usr/sbin/nginx}
caddy_bin=${CADDY:-/usr/bin/caddy}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/plugauth-gateway.XXXXXX")
# nginx's workers drop to an unprivileged user when the test runs as root;
# let them traverse (not list) the temp dir to reach their temp paths.
chmod 711 "$tmp"
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

passed=0
failed=0
pass() { echo "ok - $1"; passed=$((passed + 1)); }
fail() { echo "not ok - $1${2:+ ($2)}"; failed=$((failed + 1)); }

for tool in curl python3; do
  command -v "$tool" >/dev/null || { echo "gateway_test: $tool not found; run \`make test\` or scripts/deps.sh test" >&2; exit 1; }
done
# Debian's python3 (a test dependency) starts much faster than a version
# manager's shim; the checks run it dozens of times.
python=$(command -v /usr/bin/python3 || command -v python3)

free_port() {
  "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_ready NAME PID URL LOG…: polls URL until anything answers over HTTP,
# for at most 20 s; fails early, showing the logs, if the process died.
wait_ready() {
  local name=$1 pid=$2 url=$3 deadline=$((SECONDS + 20)) code
  local logs=("${@:4}")
  while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "gateway_test: $name exited during start-up; its log:" >&2
      sed 's/^/  /' "${logs[@]}" >&2 || true
      return 1
    fi
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$url" || true)
    [ "$code" != "000" ] && return 0
    sleep 0.05
  done
  echo "gateway_test: $name did not answer on $url within 20 s; its log:" >&2
  sed 's/^/  /' "${logs[@]}" >&2 || true
  return 1
}

# request NAME URL [curl args…]: sets status, headers file and body file.
request() {
  local name=$1 url=$2
  shift 2
  status=$(curl -s --max-time 10 -D "$work/$name.headers" -o "$work/$name.body" -w '%{http_code}' "$@" "$url" || true)
  headers="$work/$name.headers"
  body="$work/$name.body"
}

header_count() {  # header_count FILE NAME → how many times a response header appears
  "$python" - "$1" "$2" <<'EOF'
import sys
print(sum(1 for line in open(sys.argv[1], encoding="latin-1")
          if line.partition(":")[1] and line.partition(":")[0].strip().lower() == sys.argv[2].lower()))
EOF
}

header_value() {  # header_value FILE NAME → the (last) value of a response header
  "$python" - "$1" "$2" <<'EOF'
import sys
value = ""
for line in open(sys.argv[1], encoding="latin-1"):
    name, sep, rest = line.partition(":")
    if sep and name.strip().lower() == sys.argv[2].lower():
        value = rest.strip()
print(value)
EOF
}

json_field() {  # json_field FILE FIELD → the field of the plugin's JSON answer ("" if absent/null)
  "$python" -c 'import json, sys
d = json.load(open(sys.argv[1]))
v = d.get(sys.argv[2])
print("" if v is None else json.dumps(v) if isinstance(v, list) else v)' "$1" "$2" 2>/dev/null || echo "<not JSON>"
}

# Changes one character in the middle of the key's secret, where every bit counts.
tamper() {
  "$python" -c 'import sys
k = sys.argv[1]; i = len(k) - 12
print(k[:i] + ("B" if k[i] == "A" else "A") + k[i + 1:])' "$1"
}

json_key() {  # json_key FIELD < JSON
  "$python" -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

# start_plugauth DIR: fresh data dir with a route /admin → scope admin, a
# GET-only /reports → admin, two resources, roles, users, keys and a
# client-credentials client; exports plugauth_port, service_key, alice_key,
# alice_sub, bob_key, cc_id, cc_secret. Needs proxy_port.
start_plugauth() {
  local dir=$1 data=$1/data
  mkdir -m 700 "$data"
  # Two protected resources (SPEC §3: a request is for the resource its
  # forwarded URL falls under): the proxy's own origin, and another one.
  cat >"$data/plugauth.json" <<EOF
{"routes": [{"prefix": "/admin", "scopes": ["admin"]},
            {"prefix": "/reports", "methods": ["GET"], "scopes": ["admin"]}],
 "resources": [{"uri": "http://127.0.0.1:$proxy_port"}, {"uri": "https://other.test"}]}
EOF
  # Options follow the command: plugauth role add … --data DIR.
  pa() { "$plugauth" "$@" --data "$data" 2>>"$dir/setup.log"; }
  if ! {
    pa role add user --scope "notes:read" >/dev/null &&
    pa role add admin --scope "admin notes:read" >/dev/null &&
    echo alice-password | pa user add alice --password-stdin >/dev/null &&
    echo bob-password | pa user add bob --password-stdin --role admin >/dev/null &&
    alice_sub=$(pa user list --json | "$python" -c 'import json, sys
print(next(u["sub"] for u in json.load(sys.stdin)["users"] if u["name"] == "alice"))') &&
    service_key=$(pa key create --service openai --json | json_key key) &&
    alice_key=$(pa key create --user alice --json | json_key key) &&
    bob_key=$(pa key create --user bob --json | json_key key) &&
    pa client add --name backend --grant client_credentials --scope "notes:read" --json >"$dir/cc.json" &&
    cc_id=$(json_key client_id <"$dir/cc.json") &&
    cc_secret=$(json_key client_secret <"$dir/cc.json")
  }; then
    echo "gateway_test: setting up plugauth's users, roles and keys failed:" >&2
    sed 's/^/  /' "$dir/setup.log" >&2
    return 1
  fi

  plugauth_port=$(free_port)
  "$plugauth" serve --data "$data" --listen "127.0.0.1:$plugauth_port" >"$dir/plugauth.log" 2>&1 &
  plugauth_pid=$!
  pids+=($!)
  wait_ready plugauth $! "http://127.0.0.1:$plugauth_port/healthz" "$dir/plugauth.log"
}

# plugauth must have lived through the checks, exit 0 on SIGTERM and log no
# sanitizer report: a crash would otherwise pass as a proxy's 5xx.
check_plugauth_end() {
  local p=$1 log=$work/plugauth.log st
  if ! kill -0 "$plugauth_pid" 2>/dev/null; then
    st=0; wait "$plugauth_pid" 2>/dev/null || st=$?
    fail "$p: plugauth serve lives through the checks" "it exited with status $st; the end of its log: $(tail -40 "$log")"
    return
  fi
  kill "$plugauth_pid"
  st=0; wait "$plugauth_pid" 2>/dev/null || st=$?
  if [ "$st" = 0 ] && ! grep -qE 'Sanitizer|runtime error:' "$log"; then
    pass "$p: plugauth serve lives through the checks, exits 0 on SIGTERM and logs no sanitizer report"
  else fail "$p: plugauth serve lives through the checks, exits 0 on SIGTERM and logs no sanitizer report" \
    "status $st; the end of its log: $(tail -40 "$log")"; fi
}

start_plugin() {
  local dir=$1
  plugin_port=$(free_port)
  "$python" "$root/examples/plugin/plugin.py" "$plugin_port" >"$dir/plugin.log" 2>&1 &
  pids+=($!)
  wait_ready plugin $! "http://127.0.0.1:$plugin_port/" "$dir/plugin.log"
}

# The shipped example with the test's ports in place of 7070 (plugauth),
# 8000 (plugin) and 8080 (the proxy).
render() {
  sed -e "s/127\.0\.0\.1:7070/127.0.0.1:$plugauth_port/g" \
      -e "s/127\.0\.0\.1:8000/127.0.0.1:$plugin_port/g" \
      -e "s/127\.0\.0\.1:8080/127.0.0.1:$proxy_port/g" "$1" >"$2"
}

start_nginx() {
  local dir=$1
  render "$root/examples/nginx/plugauth.conf" "$dir/plugauth.conf"
  mkdir -p "$dir/nginx-temp"
  cat >"$dir/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log notice;
events { worker_connections 256; }
http {
    access_log $dir/nginx-access.log;
    client_body_temp_path $dir/nginx-temp/body;
    proxy_temp_path $dir/nginx-temp/proxy;
    fastcgi_temp_path $dir/nginx-temp/fastcgi;
    uwsgi_temp_path $dir/nginx-temp/uwsgi;
    scgi_temp_path $dir/nginx-temp/scgi;
    include $dir/plugauth.conf;
}
EOF
  "$nginx_bin" -p "$dir/" -e "$dir/nginx-error.log" -c "$dir/nginx.conf" >"$dir/nginx.log" 2>&1 &
  pids+=($!)
  wait_ready nginx $! "http://127.0.0.1:$proxy_port/" "$dir/nginx.log" "$dir/nginx-error.log"
}

start_caddy() {
  local dir=$1
  render "$root/examples/caddy/Caddyfile" "$dir/Caddyfile"
  # Caddy keeps certificates and autosaved config under $HOME/XDG dirs: keep
  # them in the temp dir too.
  HOME=$dir XDG_DATA_HOME=$dir/xdg-data XDG_CONFIG_HOME=$dir/xdg-config \
    "$caddy_bin" run --config "$dir/Caddyfile" --adapter caddyfile >"$dir/caddy.log" 2>&1 &
  pids+=($!)
  wait_ready caddy $! "http://127.0.0.1:$proxy_port/" "$dir/caddy.log"
}

stop_all() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}

# The checks a client and the plugin behind the proxy can make.
run_checks() {
  local p=$1 base="http://127.0.0.1:$proxy_port" www reached

  request svc "$base/notes?q=1" -H "Authorization: Bearer $service_key"
  if [ "$status" = 200 ] && [ "$(json_field "$body" subject)" = "service:openai" ] &&
     [ "$(json_field "$body" type)" = service ] && [ -z "$(json_field "$body" username)" ]; then
    pass "$p: valid service token reaches upstream with subject service:openai and type service"
  else fail "$p: valid service token reaches upstream with subject service:openai and type service" "status $status, body $(cat "$body")"; fi

  request alice "$base/notes" -H "Authorization: Bearer $alice_key"
  if [ "$status" = 200 ] && [ "$(json_field "$body" subject)" = "$alice_sub" ] &&
     [ "$(json_field "$body" username)" = alice ] && [ "$(json_field "$body" type)" = api_key ] &&
     [ "$(json_field "$body" scope)" = "notes:read" ]; then
    pass "$p: valid user key reaches upstream with subject, username, scope and type"
  else fail "$p: valid user key reaches upstream with subject, username, scope and type" "status $status, want sub $alice_sub, body $(cat "$body")"; fi

  request basic "$base/notes" -u "anything:$alice_key"
  if [ "$status" = 200 ] && [ "$(json_field "$body" username)" = alice ]; then
    pass "$p: user key as the Basic password reaches upstream"
  else fail "$p: user key as the Basic password reaches upstream" "status $status, body $(cat "$body")"; fi

  request post "$base/notes" -H "Authorization: Bearer $alice_key" -H "Content-Type: application/json" \
    --data '{"title": "a note"}'
  if [ "$status" = 200 ] && [ "$(json_field "$body" method)" = POST ] && [ "$(json_field "$body" username)" = alice ]; then
    pass "$p: a POST with a body is checked without its body and reaches upstream"
  else fail "$p: a POST with a body is checked without its body and reaches upstream" "status $status, body $(cat "$body")"; fi

  request tampered "$base/notes/tampered" -H "Authorization: Bearer $(tamper "$alice_key")"
  www=$(header_value "$headers" WWW-Authenticate)
  once_401=$(header_count "$headers" WWW-Authenticate)
  if [ "$status" = 401 ] && [[ "$www" == Bearer\ * && "$www" == *'error="invalid_token"'* ]]; then
    pass "$p: key with one character changed is refused with 401 and WWW-Authenticate error=\"invalid_token\""
  else fail "$p: key with one character changed is refused with 401 and WWW-Authenticate error=\"invalid_token\"" "status $status, WWW-Authenticate '$www'"; fi

  request anonymous "$base/notes/anonymous"
  www=$(header_value "$headers" WWW-Authenticate)
  if [ "$status" = 401 ] && [[ "$www" == Bearer\ * && "$www" == *resource_metadata=* && "$www" != *error=* ]]; then
    pass "$p: no credentials is 401 with a WWW-Authenticate challenge without an error code (RFC 6750 §3.1)"
  else fail "$p: no credentials is 401 with a WWW-Authenticate challenge without an error code (RFC 6750 §3.1)" "status $status, WWW-Authenticate '$www'"; fi

  if "$python" -m json.tool "$body" >/dev/null 2>&1; then
    pass "$p: the 401 body is JSON"
  else fail "$p: the 401 body is JSON" "body $(head -c 200 "$body")"; fi

  request forbidden "$base/admin/users" -H "Authorization: Bearer $alice_key"
  www=$(header_value "$headers" WWW-Authenticate)
  once_403=$(header_count "$headers" WWW-Authenticate)
  if [ "$once_401" = 1 ] && [ "$once_403" = 1 ]; then
    pass "$p: a 401 and a 403 carry WWW-Authenticate exactly once"
  else fail "$p: a 401 and a 403 carry WWW-Authenticate exactly once" "401: $once_401 times, 403: $once_403 times"; fi
  if [ "$status" = 403 ] && [[ "$www" == *'error="insufficient_scope"'* && "$www" == *'scope="admin"'* ]]; then
    pass "$p: user whose roles lack admin gets 403 insufficient_scope scope=\"admin\" on /admin"
  else fail "$p: user whose roles lack admin gets 403 insufficient_scope scope=\"admin\" on /admin" "status $status, WWW-Authenticate '$www'"; fi

  request admin "$base/admin/users" -H "Authorization: Bearer $bob_key"
  if [ "$status" = 200 ] && [ "$(json_field "$body" username)" = bob ]; then
    pass "$p: user with the admin role reaches /admin"
  else fail "$p: user with the admin role reaches /admin" "status $status, body $(cat "$body")"; fi

  request spoof_path "$base/admin/spoofed" -H "Authorization: Bearer $alice_key" \
    -H "X-Original-URI: /notes" -H "X-Original-Method: GET" -H "X-Forwarded-Uri: /notes" -H "X-Forwarded-Method: GET"
  if [ "$status" = 403 ]; then
    pass "$p: client-sent X-Original-URI/X-Forwarded-Uri cannot dodge the /admin route"
  else fail "$p: client-sent X-Original-URI/X-Forwarded-Uri cannot dodge the /admin route" "status $status, body $(cat "$body")"; fi

  request spoof_subject "$base/notes" -H "Authorization: Bearer $alice_key" -H "X-Auth-Subject: service:openai" \
    -H "X-Auth-Scope: admin"
  if [ "$status" = 200 ] && [ "$(json_field "$body" all_subject_headers)" = "[\"$alice_sub\"]" ] &&
     [ "$(json_field "$body" scope)" = "notes:read" ]; then
    pass "$p: client-sent X-Auth-Subject/X-Auth-Scope never reach the upstream"
  else fail "$p: client-sent X-Auth-Subject/X-Auth-Scope never reach the upstream" "status $status, body $(cat "$body")"; fi

  request spoof_username "$base/notes" -H "Authorization: Bearer $service_key" -H "X-Auth-Username: bob"
  if [ "$status" = 200 ] && [ -z "$(json_field "$body" username)" ]; then
    pass "$p: client-sent X-Auth-Username never reaches the upstream when the token has no username"
  else fail "$p: client-sent X-Auth-Username never reaches the upstream when the token has no username" "status $status, body $(cat "$body")"; fi

  hostile_path_checks "$p"
  resource_checks "$p"

  # Refused requests must never reach the plugin: it logs every request it serves.
  reached=$(grep -cE '"[A-Z]+ /(notes/tampered|notes/anonymous|admin/users|admin/spoofed)' "$work/plugin.log" || true)
  if [ "$reached" = 1 ]; then  # only bob's allowed /admin/users
    pass "$p: refused requests never reach the upstream"
  else fail "$p: refused requests never reach the upstream" "$reached of the refused/allowed requests logged by the plugin, want 1: $(grep -E '/(notes/|admin/)' "$work/plugin.log" | tr '\n' ' ')"; fi
}

# The plugin's reading of a request path, as the usual frameworks read it:
# split as a URL ("//h/p" is host h, path /p), percent-decoded once, "\" read as "/", ";params" dropped from each segment,
# dot segments resolved, letters compared case-insensitively. Prints the
# requests the plugin served (after line FROM of its log) that it would
# route under /admin or /reports.
plugin_saw_protected() {  # plugin_saw_protected LOG FROM
  "$python" - "$1" "$2" <<'EOF'
import posixpath, re, sys, urllib.parse
lines = open(sys.argv[1], encoding="latin-1").read().splitlines()[int(sys.argv[2]):]
for line in lines:
    m = re.search(r'"([A-Z]+) (\S+) HTTP/', line)
    if not m:
        continue
    # urlsplit reads "//h/admin" as host "h" and path "/admin", as Node's URL does.
    path = urllib.parse.unquote(urllib.parse.urlsplit(m.group(2)).path).replace("\\", "/")
    path = "/".join(seg.split(";", 1)[0] for seg in path.split("/"))
    path = posixpath.normpath("/" + path).lower()
    if re.match(r"^/+(admin|reports)(/|$)", path):
        print(m.group(1), m.group(2))
EOF
}

# Every ambiguous spelling of a protected path (issue 12, item 2), sent raw
# through the proxy with a key that lacks the admin scope: none may reach
# the plugin at a path it would serve under /admin (or /reports, GET-only).
hostile_path_checks() {
  local p=$1 base="http://127.0.0.1:$proxy_port" from path seen code bad=0 codes=""
  from=$(wc -l <"$work/plugin.log")
  for path in '/admin/%2e%2e/public' '/admin/..%2fpublic' '/admin/../public' '/admin;x=1/users' \
              '/Admin/users' '/ADMIN' '/public/..%2fadmin/users' '/public/%2e%2e/admin' '/public/../admin' \
              '/%61dmin/users' '//admin/users' '//h/admin' '/admin%2fusers' '/admin/./users' '/%2561dmin' '/admin%3Bx' \
              '/admin%00/x' '/admin%5cusers' '/public\..\admin' '/Reports/q3'; do
    code=$(curl -s --path-as-is --max-time 10 -o /dev/null -w '%{http_code}' \
      -H "Authorization: Bearer $alice_key" "$base$path" || true)
    codes+="$path=$code "
    case $code in 2*) bad=$((bad + 1)) ;; esac
  done
  code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' -I -H "Authorization: Bearer $alice_key" \
    "$base/reports/q3" || true)
  codes+="HEAD /reports/q3=$code "
  case $code in 2*) bad=$((bad + 1)) ;; esac
  seen=$(plugin_saw_protected "$work/plugin.log" "$from")
  if [ "$bad" = 0 ] && [ -z "$seen" ]; then
    pass "$p: no ambiguous spelling of /admin (%2e%2e, ..%2f, .., ;, case, %25, \\) and no HEAD on a GET-only rule reaches the plugin without the admin scope"
  else fail "$p: no ambiguous spelling of /admin (%2e%2e, ..%2f, .., ;, case, %25, \\) and no HEAD on a GET-only rule reaches the plugin without the admin scope" \
    "answers: $codes; the plugin served: $(echo "$seen" | tr '\n' ' ')"; fi

  # With the admin key: what plugauth cannot read is still refused (403
  # invalid_request), and HEAD passes a GET-only rule with its scope.
  request strict "$base/admin/%2e%2e/public" --path-as-is -H "Authorization: Bearer $bob_key"
  www=$(header_value "$headers" WWW-Authenticate)
  if [ "$status" = 403 ] && [[ "$www" == *'error="invalid_request"'* ]]; then
    pass "$p: an ambiguous path is refused with 403 invalid_request even with the admin scope"
  else fail "$p: an ambiguous path is refused with 403 invalid_request even with the admin scope" "status $status, WWW-Authenticate '$www'"; fi
  request head_admin "$base/reports/q3" -I -H "Authorization: Bearer $bob_key"
  if [ "$status" = 200 ]; then
    pass "$p: HEAD on a GET-only rule passes with the scope the rule needs"
  else fail "$p: HEAD on a GET-only rule passes with the scope the rule needs" "status $status"; fi
}

# A token minted for one resource is refused at another (issue 12, item 3):
# client-credentials tokens for this proxy's origin and for another
# resource, sent through the proxy.
resource_checks() {
  local p=$1 base="http://127.0.0.1:$proxy_port" token_here token_other
  token_here=$(curl -s --max-time 10 -u "$cc_id:$cc_secret" -d grant_type=client_credentials \
    --data-urlencode "resource=http://127.0.0.1:$proxy_port" "http://127.0.0.1:$plugauth_port/token" | json_key access_token || true)
  token_other=$(curl -s --max-time 10 -u "$cc_id:$cc_secret" -d grant_type=client_credentials \
    --data-urlencode "resource=https://other.test" "http://127.0.0.1:$plugauth_port/token" | json_key access_token || true)
  request res_here "$base/notes" -H "Authorization: Bearer $token_here"
  if [ "$status" = 200 ] && [ "$(json_field "$body" type)" = client ]; then
    pass "$p: a token for the proxy's own resource passes"
  else fail "$p: a token for the proxy's own resource passes" "status $status, body $(cat "$body")"; fi
  request res_other "$base/notes" -H "Authorization: Bearer $token_other"
  www=$(header_value "$headers" WWW-Authenticate)
  if [ -n "$token_other" ] && [ "$status" = 401 ] && [[ "$www" == *'error="invalid_token"'* ]]; then
    pass "$p: a token minted for another resource is refused with 401 invalid_token"
  else fail "$p: a token minted for another resource is refused with 401 invalid_token" "status $status, WWW-Authenticate '$www'"; fi
  # A client-sent X-Forwarded-Host naming the other resource gains nothing:
  # the proxy sets the field itself.
  request res_spoof "$base/notes" -H "Authorization: Bearer $token_other" -H "X-Forwarded-Host: other.test" \
    -H "X-Forwarded-Proto: https"
  if [ -n "$token_other" ] && [ "$status" = 401 ]; then
    pass "$p: a client-sent X-Forwarded-Host/-Proto cannot choose the resource"
  else fail "$p: a client-sent X-Forwarded-Host/-Proto cannot choose the resource" "status $status, body $(cat "$body")"; fi
}

run_proxy() {
  local p=$1 bin=$2
  work=$tmp/$p
  mkdir -m 711 "$work"
  if [ ! -x "$bin" ]; then
    fail "$p: $bin not found; install the test dependencies with \`make test\` (or scripts/deps.sh test)"
    return
  fi
  proxy_port=$(free_port)  # plugauth's resources name the proxy's origin
  if start_plugauth "$work" && start_plugin "$work" && "start_$p" "$work"; then
    run_checks "$p"
    check_plugauth_end "$p"
  else
    fail "$p: plugauth, the plugin and $p start on loopback" "see the logs above"
  fi
  stop_all
}

# The manifests in examples/ai-plugin: valid JSON, and their "auth" blocks are
# what `plugauth manifest --type …` prints (oauth: the shape the spec names).
check_manifests() {
  local dir=$tmp/manifests scheme file
  mkdir -m 700 "$dir" "$dir/data"
  "$plugauth" verification-token set openai 0123456789abcdef0123456789abcdef --data "$dir/data" >/dev/null 2>&1 ||
    fail "ai-plugin: plugauth verification-token set works" "see $dir"
  for scheme in none service_http user_http oauth; do
    file=$root/examples/ai-plugin/$scheme.json
    if "$python" -m json.tool "$file" >/dev/null 2>&1; then
      pass "ai-plugin: $scheme.json is valid JSON"
    else fail "ai-plugin: $scheme.json is valid JSON" "$("$python" -m json.tool "$file" 2>&1 | tail -1)"; fi
    if [ "$scheme" = oauth ]; then
      if "$python" - "$file" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
a = m["auth"]
issuer = a["client_url"].rsplit("/authorize", 1)[0]
assert a["type"] == "oauth" and a["client_url"] == issuer + "/authorize"
assert a["authorization_url"] == issuer + "/token"
assert a["authorization_content_type"] == "application/json" and a["scope"]
assert isinstance(a["verification_tokens"], dict)
EOF
      then pass "ai-plugin: oauth.json's auth block has client_url, authorization_url, scope, content type and verification tokens"
      else fail "ai-plugin: oauth.json's auth block has client_url, authorization_url, scope, content type and verification tokens"; fi
      continue
    fi
    "$plugauth" manifest --type "$scheme" --data "$dir/data" >"$dir/$scheme.auth" 2>/dev/null || true
    if "$python" - "$file" "$dir/$scheme.auth" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
want = json.load(open(sys.argv[2]))
assert m["auth"] == want, (m["auth"], want)
for field in ("schema_version", "name_for_human", "name_for_model", "description_for_human",
              "description_for_model", "api", "logo_url", "contact_email", "legal_info_url"):
    assert m.get(field), field
assert m["api"]["type"] == "openapi"
EOF
    then pass "ai-plugin: $scheme.json's auth block is what \`plugauth manifest --type $scheme\` prints"
    else fail "ai-plugin: $scheme.json's auth block is what \`plugauth manifest --type $scheme\` prints" "it prints $(tr -d '\n ' <"$dir/$scheme.auth")"; fi
  done
}

run_proxy nginx "$nginx_bin"
run_proxy caddy "$caddy_bin"
check_manifests

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

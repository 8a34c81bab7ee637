#!/usr/bin/env bash
# The integration guide's curl examples, runnable: the whole authorization code flow with
# PKCE (curl plays the browser on the provider's login and consent forms), ID token claims,
# userinfo, refresh, introspection, revocation, and client_credentials.
#
#   docs/examples/curl_flow.sh [ISSUER]      (default http://127.0.0.1:8080)
#
# Needs curl, jq and openssl. Start the provider first: cargo run -p idp -- dev
set -euo pipefail

ISSUER=${1:-${ISSUER:-http://127.0.0.1:8080}}
CLIENT_ID=${CLIENT_ID:-fns-lk}
CLIENT_SECRET=${CLIENT_SECRET:-fns-demo-secret}
REDIRECT_URI=${REDIRECT_URI:-http://127.0.0.1:8081/callback}
LOGIN=${LOGIN:-+79000000002}
PASSWORD=${PASSWORD:-Gosuslugi-2026!}

JAR=$(mktemp)
trap 'rm -f "$JAR"' EXIT
ok() { echo "ok: $*"; }
fail() { echo "FAILED: $*" >&2; exit 1; }
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
# The base64url payload of a JWT, as JSON.
jwt_payload() {
  local p; p=$(cut -d. -f2 <<<"$1" | tr '_-' '/+')
  while (( ${#p} % 4 )); do p="$p="; done
  openssl base64 -d -A <<<"$p"
}
hidden() { grep -o "name=\"$1\" value=\"[^\"]*\"" | head -n1 | sed 's/.*value="\([^"]*\)"/\1/'; }

# --- Discovery ------------------------------------------------------------------------------
CONFIG=$(curl -fsS "$ISSUER/.well-known/openid-configuration")
AUTHORIZE=$(jq -r .authorization_endpoint <<<"$CONFIG")
TOKEN=$(jq -r .token_endpoint <<<"$CONFIG")
USERINFO=$(jq -r .userinfo_endpoint <<<"$CONFIG")
INTROSPECT=$(jq -r .introspection_endpoint <<<"$CONFIG")
REVOKE=$(jq -r .revocation_endpoint <<<"$CONFIG")
[ "$(jq -r .issuer <<<"$CONFIG")" = "$ISSUER" ] || fail "issuer in discovery"
ok "discovery: token endpoint $TOKEN"

# --- 1. Authorization request with PKCE (S256), state and nonce ------------------------------
VERIFIER=$(openssl rand 48 | b64url)                        # 64 characters
CHALLENGE=$(printf '%s' "$VERIFIER" | openssl dgst -sha256 -binary | b64url)
STATE=$(openssl rand 16 | b64url)
NONCE=$(openssl rand 16 | b64url)
AUTH_URL="$AUTHORIZE?response_type=code&client_id=$CLIENT_ID&redirect_uri=$(jq -rn --arg u "$REDIRECT_URI" '$u|@uri')&scope=openid%20fullname%20inn&state=$STATE&nonce=$NONCE&code_challenge=$CHALLENGE&code_challenge_method=S256&acr_values=urn:esia:loa:standard"

# --- 2. The person logs in and consents (curl plays the browser) -----------------------------
# Each step answers with a redirect; follow them until one leaves for the client's redirect_uri.
NEXT=$(curl -sS -b "$JAR" -c "$JAR" -o /dev/null -w '%{redirect_url}' "$AUTH_URL")
for _ in 1 2 3 4 5 6 7 8; do
  case "$NEXT" in
    "$REDIRECT_URI"*) break ;;
    */login\?*)
      PAGE=$(curl -sS -b "$JAR" -c "$JAR" "$NEXT")
      NEXT=$(curl -sS -b "$JAR" -c "$JAR" -o /dev/null -w '%{redirect_url}' "$ISSUER/login" \
        --data-urlencode "tx=$(hidden tx <<<"$PAGE")" --data-urlencode "csrf=$(hidden csrf <<<"$PAGE")" \
        --data-urlencode "login=$LOGIN" --data-urlencode "password=$PASSWORD") ;;
    */consent\?*)
      PAGE=$(curl -sS -b "$JAR" -c "$JAR" "$NEXT")
      NEXT=$(curl -sS -b "$JAR" -c "$JAR" -o /dev/null -w '%{redirect_url}' "$ISSUER/consent" \
        --data-urlencode "tx=$(hidden tx <<<"$PAGE")" --data-urlencode "csrf=$(hidden csrf <<<"$PAGE")" \
        --data-urlencode "decision=allow") ;;
    "") fail "the provider did not redirect" ;;
    *) NEXT=$(curl -sS -b "$JAR" -c "$JAR" -o /dev/null -w '%{redirect_url}' "$NEXT") ;;
  esac
done
case "$NEXT" in "$REDIRECT_URI"*) ;; *) fail "never came back to $REDIRECT_URI (last: $NEXT)" ;; esac
query() { sed -n "s/.*[?&]$1=\([^&]*\).*/\1/p" <<<"$NEXT"; }
[ "$(query state)" = "$STATE" ] || fail "state echoed"
[ "$(query iss)" = "$(jq -rn --arg u "$ISSUER" '$u|@uri')" ] || fail "iss in the response (RFC 9207)"
CODE=$(query code)
ok "authorization code received for $REDIRECT_URI"

# --- 3. Code for tokens (client_secret_basic + the PKCE verifier) ----------------------------
TOKENS=$(curl -fsS -u "$CLIENT_ID:$CLIENT_SECRET" "$TOKEN" \
  -d grant_type=authorization_code -d "code=$CODE" \
  --data-urlencode "redirect_uri=$REDIRECT_URI" -d "code_verifier=$VERIFIER")
ACCESS=$(jq -r .access_token <<<"$TOKENS")
REFRESH=$(jq -r .refresh_token <<<"$TOKENS")
ID_CLAIMS=$(jwt_payload "$(jq -r .id_token <<<"$TOKENS")")
# A real client verifies the signature against jwks_uri first (any JOSE library does).
[ "$(jq -r .nonce <<<"$ID_CLAIMS")" = "$NONCE" ] || fail "nonce in the ID token"
[ "$(jq -r .aud <<<"$ID_CLAIMS")" = "$CLIENT_ID" ] || fail "aud of the ID token"
ok "ID token: acr $(jq -r .acr <<<"$ID_CLAIMS"), amr $(jq -c .amr <<<"$ID_CLAIMS")"

# --- 4. userinfo ----------------------------------------------------------------------------
PERSON=$(curl -fsS -H "Authorization: Bearer $ACCESS" "$USERINFO")
[ "$(jq -r .sub <<<"$PERSON")" = "$(jq -r .sub <<<"$ID_CLAIMS")" ] || fail "userinfo sub"
ok "userinfo: $(jq -r '.name + ", ИНН " + .inn' <<<"$PERSON")"

# --- 5. Refresh (the refresh token rotates) -------------------------------------------------
NEW=$(curl -fsS -u "$CLIENT_ID:$CLIENT_SECRET" "$TOKEN" -d grant_type=refresh_token -d "refresh_token=$REFRESH")
NEW_REFRESH=$(jq -r .refresh_token <<<"$NEW")
[ "$NEW_REFRESH" != "$REFRESH" ] || fail "refresh token rotated"
ok "refreshed: new access token for $(jq -r .expires_in <<<"$NEW") s"

# --- 6. Introspection (RFC 7662) ------------------------------------------------------------
ACTIVE=$(curl -fsS -u "$CLIENT_ID:$CLIENT_SECRET" "$INTROSPECT" -d "token=$(jq -r .access_token <<<"$NEW")")
[ "$(jq -r .active <<<"$ACTIVE")" = true ] || fail "introspection: active"
ok "introspection: active, scope \"$(jq -r .scope <<<"$ACTIVE")\""

# --- 7. Revocation (RFC 7009): revoking the refresh token ends the grant ---------------------
STATUS=$(curl -sS -o /dev/null -w '%{http_code}' -u "$CLIENT_ID:$CLIENT_SECRET" "$REVOKE" \
  -d "token=$NEW_REFRESH" -d token_type_hint=refresh_token)
[ "$STATUS" = 200 ] || fail "revocation answered $STATUS"
AFTER=$(curl -fsS -u "$CLIENT_ID:$CLIENT_SECRET" "$INTROSPECT" -d "token=$NEW_REFRESH")
[ "$(jq -r .active <<<"$AFTER")" = false ] || fail "revoked token inactive"
ok "revoked: the refresh token is inactive"

# --- 8. A code is single use: a second redemption fails with invalid_grant (and the
# provider revokes what the first one issued, as RFC 6749 §4.1.2 asks) ----------------------
AGAIN=$(curl -sS -u "$CLIENT_ID:$CLIENT_SECRET" "$TOKEN" \
  -d grant_type=authorization_code -d "code=$CODE" \
  --data-urlencode "redirect_uri=$REDIRECT_URI" -d "code_verifier=$VERIFIER")
[ "$(jq -r .error <<<"$AGAIN")" = invalid_grant ] || fail "code reuse refused"
ok "code reuse refused: invalid_grant"

# --- 9. client_credentials: a token for the service itself -----------------------------------
SERVICE=$(curl -fsS -u "$CLIENT_ID:$CLIENT_SECRET" "$TOKEN" -d grant_type=client_credentials)
[ "$(jq -r .refresh_token <<<"$SERVICE")" = null ] || fail "no refresh token for client_credentials"
ok "client_credentials: $(jq -r .token_type <<<"$SERVICE") token for $(jq -r .expires_in <<<"$SERVICE") s"
echo "all checks passed"

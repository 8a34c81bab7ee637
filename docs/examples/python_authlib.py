"""Connecting a Python service to the provider with Authlib (the integration guide's example).

What it shows, against a running `idp dev` (ISSUER, default http://127.0.0.1:8080):
  1. client_credentials: a token for the service itself, then RFC 7662 introspection;
  2. the authorization code flow with PKCE (S256), state and nonce, as a web site does it:
     the person's browser is played by `requests` filling in the provider's forms;
  3. ID token verification against the provider's JWKS (joserfc, Authlib's JOSE library);
  4. userinfo, refresh (the refresh token rotates), and revocation.

Run it with docs/examples/run_python_example.sh (creates a venv with authlib and requests).
Every check raises on failure, so the exit code tells whether the provider behaved.
"""

import os
import re
import sys
from urllib.parse import parse_qs, urljoin, urlparse

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.jwk import KeySet

ISSUER = os.environ.get("ISSUER", "http://127.0.0.1:8080").rstrip("/")
CLIENT_ID = os.environ.get("CLIENT_ID", "fns-lk")
CLIENT_SECRET = os.environ.get("CLIENT_SECRET", "fns-demo-secret")
REDIRECT_URI = os.environ.get("REDIRECT_URI", "http://127.0.0.1:8081/callback")
# A demo citizen with a standard account (idp dev seeds it).
LOGIN = os.environ.get("LOGIN", "+79000000002")
PASSWORD = os.environ.get("PASSWORD", "Gosuslugi-2026!")


def check(condition, what):
    if not condition:
        raise SystemExit(f"FAILED: {what}")
    print(f"ok: {what}")


def main():
    meta = requests.get(f"{ISSUER}/.well-known/openid-configuration", timeout=10).json()
    check(meta["issuer"] == ISSUER, "discovery names the issuer")

    # 1. The service's own token, and introspection of it.
    service = OAuth2Session(CLIENT_ID, CLIENT_SECRET, token_endpoint_auth_method="client_secret_basic")
    token = service.fetch_token(meta["token_endpoint"], grant_type="client_credentials")
    check(token["token_type"] == "Bearer" and "refresh_token" not in token, "client_credentials token")
    info = service.introspect_token(meta["introspection_endpoint"], token=token["access_token"]).json()
    check(info["active"] is True and info["client_id"] == CLIENT_ID, "introspection: the token is active")

    # 2. The code flow with PKCE, state and nonce.
    site = OAuth2Session(
        CLIENT_ID,
        CLIENT_SECRET,
        scope="openid fullname inn",
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
    )
    verifier = generate_token(64)
    nonce = generate_token(32)
    url, state = site.create_authorization_url(
        meta["authorization_endpoint"],
        code_verifier=verifier,
        nonce=nonce,
        acr_values="urn:esia:loa:standard",
    )
    callback = sign_in_like_a_browser(url, LOGIN, PASSWORD)
    answer = parse_qs(urlparse(callback).query)
    check(answer["state"] == [state], "state is echoed")
    # RFC 9207: the response names its issuer; refuse answers from another provider (mix-up).
    check(answer["iss"] == [ISSUER], "iss in the authorization response")
    tokens = site.fetch_token(
        meta["token_endpoint"], authorization_response=callback, code_verifier=verifier
    )
    check({"access_token", "id_token", "refresh_token"} <= tokens.keys(), "code exchanged for tokens")

    # 3. The ID token: signature against JWKS, then iss, aud, exp, nonce.
    keys = KeySet.import_key_set(requests.get(meta["jwks_uri"], timeout=10).json())
    id_token = jwt.decode(tokens["id_token"], keys, algorithms=["RS256", "ES256"])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": ISSUER},
        aud={"essential": True, "value": CLIENT_ID},
        sub={"essential": True},
        nonce={"essential": True, "value": nonce},
    ).validate(id_token.claims)
    claims = id_token.claims
    check(claims["acr"] == "urn:esia:loa:standard", f"account level (acr) {claims['acr']}")
    check("pwd" in claims["amr"], f"login methods (amr) {claims['amr']}")

    # 4. userinfo, refresh, revocation.
    person = site.get(meta["userinfo_endpoint"]).json()
    check(person["sub"] == claims["sub"], "userinfo names the same person")
    print(f"   {person['name']}, ИНН {person['inn']}")
    old_refresh = tokens["refresh_token"]
    new = site.refresh_token(meta["token_endpoint"], refresh_token=old_refresh)
    check(new["refresh_token"] != old_refresh, "refresh rotates the refresh token")
    site.revoke_token(meta["revocation_endpoint"], token=new["refresh_token"], token_type_hint="refresh_token")
    gone = service.introspect_token(meta["introspection_endpoint"], token=new["access_token"]).json()
    check(gone["active"] is False, "revoking the refresh token ends its access tokens")
    print("all checks passed")


def sign_in_like_a_browser(authorization_url, login, password):
    """Plays the person's browser: the provider's login form, then its consent page.
    Returns the redirect back to the site (the callback URL with code, state and iss)."""
    browser = requests.Session()
    response = browser.get(authorization_url, allow_redirects=False, timeout=10)
    for _ in range(10):
        if response.is_redirect:
            location = urljoin(response.url, response.headers["location"])
            if location.startswith(REDIRECT_URI):
                return location
            response = browser.get(location, allow_redirects=False, timeout=10)
            continue
        page, path = response.text, urlparse(response.url).path
        form = {"tx": hidden(page, "tx"), "csrf": hidden(page, "csrf")}
        if path == "/login":
            form.update(login=login, password=password)
        elif path == "/consent":
            form.update(decision="allow")
        else:
            raise SystemExit(f"FAILED: unexpected page {response.url} ({response.status_code})")
        response = browser.post(urljoin(response.url, path), data=form, allow_redirects=False, timeout=10)
    raise SystemExit("FAILED: the login did not come back to the site")


def hidden(html, name):
    match = re.search(r'name="%s" value="([^"]*)"' % re.escape(name), html)
    if not match:
        raise SystemExit(f"FAILED: no field {name} on the page")
    return match.group(1)


if __name__ == "__main__":
    sys.exit(main())

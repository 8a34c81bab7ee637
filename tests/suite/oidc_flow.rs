//! The whole flow as an independent relying party sees it, with the `openidconnect` crate:
//! discovery, code + PKCE + nonce, ID token verification against JWKS, userinfo, refresh
//! with rotation, revocation, RP-initiated logout.

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreProviderMetadata,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EmptyAdditionalClaims,
    IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
    UserInfoClaims,
};
use tests::browser::param;
use tests::{Backend, PASSWORD, TestApp, oidc};

use idp::protocol::acr::Level;

on_both_backends! {
    async fn full_flow_with_openidconnect_crate(app: TestApp) {
        let (id, secret) = app.client("tax", "openid profile fullname snils inn email mobile").await;
        let sub = app.user("+79001112232", Level::Standard).await;
        let http = oidc::http_client();
        let metadata = CoreProviderMetadata::discover_async(IssuerUrl::new(app.base.clone()).unwrap(), &http).await.expect("discovery");
        let client = CoreClient::from_provider_metadata(metadata, ClientId::new(id.clone()), Some(ClientSecret::new(secret.clone())))
            .set_redirect_uri(RedirectUrl::new("https://rp.example/cb".into()).unwrap());
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (auth_url, csrf, nonce) = client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .add_scope(Scope::new("fullname".into()))
            .add_scope(Scope::new("snils".into()))
            .add_scope(Scope::new("inn".into()))
            .set_pkce_challenge(challenge)
            .url();

        let browser = app.browser();
        let first = browser.visit(auth_url.as_str()).await;
        let back = browser.complete(first, "8 (900) 111-22-32", PASSWORD).await;
        assert_eq!(param(&back, "state").as_deref(), Some(csrf.secret().as_str()));
        assert_eq!(param(&back, "iss").as_deref(), Some(app.base.as_str()), "RFC 9207 iss");
        let code = param(&back, "code").expect("code");

        let tokens = client
            .exchange_code(AuthorizationCode::new(code)).unwrap()
            .set_pkce_verifier(verifier)
            .request_async(&http)
            .await
            .expect("token exchange");
        let id_token = tokens.id_token().expect("id_token");
        let claims = id_token.claims(&client.id_token_verifier(), &nonce).expect("ID token verifies against JWKS");
        assert_eq!(claims.subject().as_str(), sub);
        assert!(claims.auth_time().is_some());
        assert_eq!(claims.auth_context_ref().map(|a| a.as_str()), Some(Level::Standard.acr()));
        let expected_hash = AccessTokenHash::from_token(tokens.access_token(), id_token.signing_alg().unwrap(), id_token.signing_key(&client.id_token_verifier()).unwrap()).unwrap();
        assert_eq!(claims.access_token_hash(), Some(&expected_hash));

        let info: UserInfoClaims<EmptyAdditionalClaims, CoreGenderClaim> =
            client.user_info(tokens.access_token().clone(), None).unwrap().request_async(&http).await.expect("userinfo");
        assert_eq!(info.subject().as_str(), sub);
        assert_eq!(info.family_name().and_then(|n| n.get(None)).map(|n| n.as_str()), Some("Иванов"));

        // Refresh rotates: the new token works, the old one is spent.
        let refresh = tokens.refresh_token().expect("refresh token").clone();
        let refreshed = client.exchange_refresh_token(&refresh).unwrap().request_async(&http).await.expect("refresh");
        let rotated = refreshed.refresh_token().expect("rotated refresh token").clone();
        assert_ne!(rotated.secret(), refresh.secret());
        let again = client.exchange_refresh_token(&rotated).unwrap().request_async(&http).await.expect("second refresh");

        // Revocation of the refresh token ends the grant: its access tokens stop working.
        let latest_rt = again.refresh_token().unwrap().clone();
        // (openidconnect refuses revocation over plain http, which the test issuer uses.)
        let revoked = reqwest::Client::new().post(app.url("/revoke")).basic_auth(&id, Some(&secret)).form(&[("token", latest_rt.secret().as_str())]).send().await.unwrap();
        assert_eq!(revoked.status(), 200);
        let after = reqwest::Client::new().get(app.url("/userinfo")).bearer_auth(again.access_token().secret()).send().await.unwrap();
        assert_eq!(after.status(), 401);

        // RP-initiated logout with id_token_hint and a registered post_logout_redirect_uri.
        let logout = url::Url::parse_with_params(&app.url("/logout"), &[
            ("id_token_hint", id_token.to_string().as_str()),
            ("post_logout_redirect_uri", "https://rp.example/bye"),
            ("state", "bye-state"),
        ]).unwrap();
        let out = browser.visit(logout.as_str()).await.left();
        assert_eq!(out.as_str(), "https://rp.example/bye?state=bye-state");
        // The session is gone: prompt=none now says login_required.
        let silent = browser.authorize(&[("client_id", &id), ("response_type", "code"), ("scope", "openid"), ("redirect_uri", "https://rp.example/cb"), ("prompt", "none"), ("state", "s")]).await.left();
        assert_eq!(param(&silent, "error").as_deref(), Some("login_required"));
    }
}

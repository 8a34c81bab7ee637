//! End to end: `idp dev` and the example site as separate processes, driven over real HTTP by
//! a cookie-jar browser through the provider's own login and consent forms.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use common::{
    Browser, CONFIRMED, ClientReg, Page, Provider, STANDARD, Site, eventually, free_port, param,
};

/// The tax service: login at the standard level, claims, refresh, userinfo, step-up refused,
/// RP-initiated logout, then back-channel logout when the provider session ends elsewhere.
#[tokio::test(flavor = "multi_thread")]
async fn tax_site_whole_flow_with_both_logouts() {
    common::init();
    let port = free_port();
    let provider = Provider::start(&[ClientReg {
        id: "e2e-fns",
        secret: "e2e-fns-secret",
        scopes: "openid fullname inn",
        site_port: port,
        backchannel: true,
    }])
    .await;
    let site = Site::start(&provider.issuer, port, "fns", "e2e-fns", "e2e-fns-secret").await;
    let browser = Browser::default();

    let home = browser.get(&site.url("/")).await;
    assert!(home.is("landing"), "{home}");
    assert!(home.html.contains("Войти через ЕСИА") && home.html.contains("href=\"/login\""));

    // The button: the provider's login form, with PKCE, nonce, state and the level asked.
    let authorize = browser.location(&site.url("/login")).await;
    assert!(
        authorize.as_str().starts_with(&provider.url("/authorize?")),
        "{authorize}"
    );
    for (name, value) in [
        ("client_id", "e2e-fns"),
        ("response_type", "code"),
        ("code_challenge_method", "S256"),
        ("acr_values", "urn:esia:loa:standard"),
        ("redirect_uri", &site.url("/callback")),
    ] {
        assert_eq!(param(&authorize, name).as_deref(), Some(value), "{name}");
    }
    for name in ["state", "nonce", "code_challenge"] {
        assert!(
            param(&authorize, name).is_some_and(|v| v.len() >= 22),
            "{name}"
        );
    }
    let form = browser.get(authorize.as_str()).await;
    let consent = browser.log_in(&form, STANDARD).await;
    assert!(
        consent.html.contains("ИНН"),
        "the consent page names the data: {consent}"
    );
    let profile = browser.consent(&consent, "allow").await;
    assert_signed_in_as_petrov(&profile, &site);

    // Silent refresh: new tokens without the browser visiting the provider.
    let refreshed = browser
        .post(&site.url("/refresh"), &[("csrf", &profile.hidden("csrf"))])
        .await;
    assert!(refreshed.is("profile"), "{refreshed}");
    assert!(
        refreshed
            .html
            .contains("Токены обновлены без повторного входа. Новый access token действует до 20"),
        "{}",
        refreshed.html
    );
    // The site's forms are CSRF-protected.
    let forged = browser
        .post(&site.url("/refresh"), &[("csrf", "forged")])
        .await;
    assert!(forged.is("forbidden") && forged.status == 403, "{forged}");

    let info = browser.get(&site.url("/userinfo")).await;
    assert!(info.is("userinfo"), "{info}");
    assert_eq!(info.claim("inn").as_deref(), Some("500100732259"));
    assert_eq!(info.claim("name").as_deref(), Some("Петров Пётр Петрович"));

    // Step-up: the tax certificate needs a confirmed account; Петров's is standard.
    let section = browser.get(&site.url("/protected")).await;
    assert!(section.is("step-up"), "{section}");
    let explained = browser.get(&site.url("/login?level=confirmed")).await;
    let raise = browser.leave_level_page(&explained).await;
    assert!(raise.is("level-too-low") && raise.status == 403, "{raise}");
    assert!(raise.html.contains("Недостаточный уровень учётной записи"));
    assert!(
        raise
            .html
            .contains(&format!("href=\"{}/\"", provider.issuer)),
        "links to the provider"
    );
    let still = browser.get(&site.url("/")).await;
    assert!(
        still.is("profile"),
        "a refused step-up keeps the session: {still}"
    );

    // RP-initiated logout: through the provider's end_session_endpoint and back.
    let out = browser
        .post(&site.url("/logout"), &[("csrf", &still.hidden("csrf"))])
        .await;
    assert_eq!(
        out.url.origin(),
        url::Url::parse(&site.base).unwrap().origin(),
        "{out}"
    );
    assert!(
        param(&out.url, "state").is_some(),
        "the provider echoes state: {out}"
    );
    assert!(out.is("landing"), "{out}");
    assert!(out.html.contains("Вы вышли из ЕСИА и с этого сайта."));
    // The provider session is gone too: a silent login now reports login_required.
    let silent = browser.get(&site.url("/login?silent=1")).await;
    assert!(silent.is("login-required"), "{silent}");
    assert!(silent.html.contains("login_required"));

    // Back-channel logout: log in again, then log out at the provider without the site.
    let form = browser.get(&site.url("/login")).await;
    let profile = browser.log_in(&form, STANDARD).await;
    assert_signed_in_as_petrov(&profile, &site);
    let at_provider = browser.log_out_at_provider(&provider).await;
    assert_eq!(
        at_provider.url.origin(),
        url::Url::parse(&provider.issuer).unwrap().origin()
    );
    eventually("the site ends its session on the logout token", || async {
        browser.get(&site.url("/")).await.is("landing")
    })
    .await;
    let userinfo = browser.get(&site.url("/userinfo")).await;
    assert!(userinfo.is("not-signed-in"), "{userinfo}");

    // Step-up that succeeds: a confirmed account logged in at the standard level reaches the
    // section by a second authorization request, without typing the password again.
    let ivanov = Browser::default();
    let form = ivanov.get(&site.url("/login")).await;
    let consent = ivanov.log_in(&form, CONFIRMED).await;
    let profile = ivanov.consent(&consent, "allow").await;
    assert_eq!(
        profile.claim("acr").as_deref(),
        Some("Стандартная учётная запись (urn:esia:loa:standard)"),
        "acr is the level asked for, not the account's highest"
    );
    assert!(ivanov.get(&site.url("/protected")).await.is("step-up"));
    let raised = ivanov.get(&site.url("/login?level=confirmed")).await;
    assert!(raised.is("protected"), "{raised}");
    assert!(raised.html.contains("Справка о доходах"));
    let profile = ivanov.get(&site.url("/")).await;
    assert_eq!(
        profile.claim("acr").as_deref(),
        Some("Подтверждённая учётная запись (urn:esia:loa:confirmed)")
    );
}

/// The pension fund: a confirmed account is required (step-up refused for a standard one),
/// the ESIA `permissions` request, denied consent, a session the provider ended without
/// telling the site, `prompt=none`, a forged callback and a forged logout token.
#[tokio::test(flavor = "multi_thread")]
async fn pension_site_levels_and_every_error_page() {
    common::init();
    let port = free_port();
    let provider = Provider::start(&[ClientReg {
        id: "e2e-sfr",
        secret: "e2e-sfr-secret",
        scopes: "openid fullname snils birthdate",
        site_port: port,
        backchannel: false,
    }])
    .await;
    let site = Site::start(&provider.issuer, port, "sfr", "e2e-sfr", "e2e-sfr-secret").await;

    let landing = Browser::default().get(&site.url("/")).await;
    assert!(landing.is("landing"));
    assert_eq!(landing.claim("validity").as_deref(), Some("30 дней"));
    assert!(landing.html.contains("IDENTIFICATION"));

    // A standard account cannot enter: the level-too-low page.
    let standard = Browser::default();
    let authorize = standard.location(&site.url("/login")).await;
    assert_eq!(
        param(&authorize, "acr_values").as_deref(),
        Some("urn:esia:loa:confirmed")
    );
    let permissions = param(&authorize, "permissions").expect("permissions parameter");
    assert!(
        landing.html.contains(&permissions),
        "the site shows what it sends"
    );
    let form = standard.get(authorize.as_str()).await;
    let explained = standard.log_in(&form, STANDARD).await;
    let refused = standard.leave_level_page(&explained).await;
    assert!(
        refused.is("level-too-low") && refused.status == 403,
        "{refused}"
    );
    assert!(refused.html.contains("подтверждённая учётная запись"));

    // Denied consent.
    let confirmed = Browser::default();
    let form = confirmed.get(&site.url("/login")).await;
    let consent = confirmed.log_in(&form, CONFIRMED).await;
    assert!(consent.html.contains("СНИЛС"), "{consent}");
    let denied = confirmed.consent(&consent, "deny").await;
    assert!(
        denied.is("consent-denied") && denied.status == 403,
        "{denied}"
    );
    assert!(denied.html.contains("Вы отказали в доступе к данным"));

    // Allowed the second time (the provider session is still there: no password again).
    let consent = confirmed.get(&site.url("/login")).await;
    let profile = confirmed.consent(&consent, "allow").await;
    assert!(profile.is("profile"), "{profile}");
    assert_eq!(
        profile.claim("name").as_deref(),
        Some("Иванов Иван Иванович")
    );
    assert_eq!(profile.claim("snils").as_deref(), Some("165-432-198 67"));
    assert_eq!(profile.claim("birthdate").as_deref(), Some("1985-04-12"));
    assert_eq!(
        profile.claim("acr").as_deref(),
        Some("Подтверждённая учётная запись (urn:esia:loa:confirmed)")
    );

    // This client has no back-channel URI: the provider session ends, the site does not
    // hear of it, and its next refresh meets invalid_grant.
    confirmed.log_out_at_provider(&provider).await;
    let expired = confirmed
        .post(&site.url("/refresh"), &[("csrf", &profile.hidden("csrf"))])
        .await;
    assert!(
        expired.is("session-expired") && expired.status == 401,
        "{expired}"
    );
    assert!(confirmed.get(&site.url("/")).await.is("landing"));

    // prompt=none without a provider session.
    let silent = Browser::default().get(&site.url("/login?silent=1")).await;
    assert!(silent.is("login-required"), "{silent}");

    // A callback this browser did not start, and one with a forged state.
    let stranger = Browser::default();
    let forged = stranger
        .get(&site.url("/callback?code=abc&state=forged"))
        .await;
    assert!(
        forged.is("state-mismatch") && forged.status == 400,
        "{forged}"
    );
    let authorize = stranger.location(&site.url("/login")).await;
    let wrong_state = stranger
        .get(&site.url(&format!(
            "/callback?code=abc&state=not-{}",
            param(&authorize, "state").unwrap()
        )))
        .await;
    assert!(wrong_state.is("state-mismatch"), "{wrong_state}");
    // The right state but another issuer (mix-up).
    let state = param(&authorize, "state").unwrap();
    let mixed = stranger
        .get(&site.url(&format!(
            "/callback?code=abc&state={state}&iss=https%3A%2F%2Fevil.example"
        )))
        .await;
    assert!(mixed.is("issuer-mismatch"), "{mixed}");

    // The back-channel endpoint refuses what is not a valid logout token.
    let http = reqwest::Client::new();
    for body in [vec![], vec![("logout_token", "not.a.jwt")]] {
        let r = http
            .post(site.url("/backchannel-logout"))
            .form(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        assert_eq!(r.headers()["cache-control"], "no-store");
        let json: serde_json::Value = r.json().await.unwrap();
        assert_eq!(json["error"], "invalid_request");
    }
}

fn assert_signed_in_as_petrov(page: &Page, site: &Site) {
    assert!(page.url.as_str().starts_with(&site.base), "{page}");
    assert!(page.is("profile"), "{page}: {}", page.html);
    assert!(page.html.contains("Здравствуйте, Петров Пётр Петрович!"));
    assert_eq!(page.claim("inn").as_deref(), Some("500100732259"));
    assert_eq!(
        page.claim("acr").as_deref(),
        Some("Стандартная учётная запись (urn:esia:loa:standard)")
    );
    assert_eq!(page.claim("amr").as_deref(), Some("пароль (pwd)"));
    assert!(page.claim("sid").is_some_and(|s| !s.is_empty()));
}

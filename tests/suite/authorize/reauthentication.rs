//! prompt=login/none, max_age, id_token_hint and acr_values: when the provider asks again and what the ID token then says.

use super::*;

on_both_backends! {
    async fn prompt_login_reauthenticates_with_a_later_auth_time(app: TestApp) {
        let client = app.client("rp", "openid").await;
        app.user(STD_PHONE, Level::Standard).await;
        let b = app.browser();
        let first = exchange(&app, &client, &code_for(&b, &request(&client.0, &[]), STD_PHONE).await).await;
        app.clock.advance(30);
        let html = login_page(b.authorize(&request(&client.0, &[("prompt", "login")])).await);
        let back = b.submit_login(&html, STD_PHONE, PASSWORD, false).await.left();
        let second = exchange(&app, &client, &code_of(&back)).await;
        assert_eq!(second.id["sub"], first.id["sub"]);
        assert!(
            int(&second.id, "auth_time") >= int(&first.id, "auth_time") + 30,
            "auth_time must move forward"
        );
    }

    async fn prompt_none_without_session_is_login_required(app: TestApp) {
        let (id, _) = app.client("rp", "openid").await;
        let back = silent(&app.browser(), &id, &[]).await;
        assert_error(&app, &back, "login_required", Some(STATE));
    }

    async fn prompt_none_with_session_is_silent_with_the_same_sub(app: TestApp) {
        let client = app.client("rp", "openid").await;
        let sub = app.user(STD_PHONE, Level::Standard).await;
        let b = app.browser();
        let first = exchange(&app, &client, &code_for(&b, &request(&client.0, &[]), STD_PHONE).await).await;
        let back = silent(&b, &client.0, &[]).await;
        let again = exchange(&app, &client, &code_of(&back)).await;
        assert_eq!(again.id["sub"], sub.as_str());
        assert_eq!(again.id["auth_time"], first.id["auth_time"]);
    }

    async fn max_age_forces_or_skips_reauthentication(app: TestApp) {
        let client = app.client("rp", "openid").await;
        app.user(STD_PHONE, Level::Standard).await;
        let b = app.browser();
        let first = exchange(&app, &client, &code_for(&b, &request(&client.0, &[]), STD_PHONE).await).await;
        let t1 = int(&first.id, "auth_time");
        app.clock.advance(5);

        let long = b.authorize(&request(&client.0, &[("max_age", "10000")])).await.left();
        let kept = exchange(&app, &client, &code_of(&long)).await;
        assert_eq!(int(&kept.id, "auth_time"), t1, "max_age=10000: no new login");

        let html = login_page(b.authorize(&request(&client.0, &[("max_age", "1")])).await);
        let back = b.submit_login(&html, STD_PHONE, PASSWORD, false).await.left();
        let fresh = exchange(&app, &client, &code_of(&back)).await;
        assert!(int(&fresh.id, "auth_time") >= t1 + 5, "max_age=1: a new login");

        // max_age=0 is prompt=login, even right after a login (same second).
        let html = login_page(b.authorize(&request(&client.0, &[("max_age", "0")])).await);
        code_of(&b.submit_login(&html, STD_PHONE, PASSWORD, false).await.left());
    }

    async fn id_token_hint_with_prompt_none(app: TestApp) {
        let client = app.client("rp", "openid").await;
        let alice = app.user(STD_PHONE, Level::Standard).await;
        app.user("+79003334401", Level::Simplified).await;
        let a = app.browser();
        let alice_token = exchange(&app, &client, &code_for(&a, &request(&client.0, &[]), STD_PHONE).await).await;
        let b = app.browser();
        let bob_token = exchange(&app, &client, &code_for(&b, &request(&client.0, &[]), "+79003334401").await).await;

        let back = silent(&a, &client.0, &[("id_token_hint", &alice_token.id_token)]).await;
        let t = exchange(&app, &client, &code_of(&back)).await;
        assert_eq!(t.id["sub"], alice.as_str());

        let back = silent(&a, &client.0, &[("id_token_hint", &bob_token.id_token)]).await;
        assert_error(&app, &back, "login_required", Some(STATE));
    }

    async fn acr_values_met_and_unmet(app: TestApp) {
        let client = app.client("rp", "openid").await;
        app.user("+79007778801", Level::Confirmed).await;
        app.user(STD_PHONE, Level::Standard).await;

        let b = app.browser();
        let wanted = [("acr_values", "urn:esia:loa:standard")];
        let t = exchange(&app, &client, &code_for(&b, &request(&client.0, &wanted), "+79007778801").await).await;
        assert_eq!(t.id["acr"], "urn:esia:loa:standard");

        let b = app.browser();
        let wanted = [("acr_values", "urn:esia:loa:confirmed")];
        let back = b.sign_in(&request(&client.0, &wanted), STD_PHONE, PASSWORD).await;
        assert_error(&app, &back, "unmet_authentication_requirements", Some(STATE));
    }
}

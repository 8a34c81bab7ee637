//! `idp dev`: the embedded default, with demo data and a printed guide.

use super::Target;
use crate::App;
use crate::clock::Clock;
use crate::domain::demo;

pub async fn run(target: &Target) -> Result<(), String> {
    let config = target.load()?;
    let listen = config.server.listen;
    let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| {
        format!("cannot listen on {listen}: {e} (is another `idp dev` running? try --port)")
    })?;
    let app = App::build(config, Clock::default()).await?;
    demo::seed(&app.state).await?;
    print_banner(&app.state.issuer, target);
    app.serve(listener, super::shutdown_signal())
        .await
        .map_err(|e| e.to_string())
}

fn print_banner(issuer: &str, target: &Target) {
    let data = target.data_dir.display();
    println!("\nИдентификационный провайдер (dev) запущен / Identity provider (dev) is running\n");
    println!("  Issuer:     {issuer}");
    println!("  Discovery:  {issuer}/.well-known/openid-configuration");
    println!("  Data:       {data} (SQLite {data}/idp.db; delete the folder to start over)\n");
    println!("Demo citizens (password {}):", demo::DEMO_PASSWORD);
    for c in demo::CITIZENS {
        let snils = c.snils.map(|s| format!("  SNILS {s}")).unwrap_or_default();
        println!(
            "  {:<11} {:<22} {}  {}{}",
            c.level.as_str(),
            c.name,
            c.phone,
            c.email,
            snils
        );
    }
    println!(
        "\nExample relying party clients (redirect {}/callback):",
        demo::EXAMPLE_RP_ORIGINS[0]
    );
    for c in demo::CLIENTS {
        println!("  {:<12} secret {:<16} {}", c.id, c.secret, c.name);
    }
    let first = &demo::CLIENTS[0];
    println!("\nLog in from a browser:");
    println!(
        "  {issuer}/authorize?client_id={}&response_type=code&scope=openid%20fullname&redirect_uri={}/callback&state=demo",
        first.id,
        demo::EXAMPLE_RP_ORIGINS[0]
    );
    println!(
        "  or run the example site: cargo run -p relying-party-example, then open {}\n",
        demo::EXAMPLE_RP_ORIGINS[0]
    );
    println!("Register a new account: {issuer}/register");
    println!(
        "Outgoing SMS and e-mail (codes, links): {issuer}/dev/outbox or `idp outbox --data-dir {data}`\n"
    );
}

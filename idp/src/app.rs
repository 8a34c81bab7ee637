//! The application state shared by every handler, and how a server is built and run.

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use crate::cache::Cache;
use crate::clock::Clock;
use crate::config::Config;
use crate::crypto::ServerSecrets;
use crate::crypto::password::Passwords;
use crate::domain::keyring::KeyRing;
use crate::store::Db;
use crate::store::clients::ClientCache;

/// Everything a request may need; cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub config: Config,
    pub issuer: String,
    pub db: Db,
    pub cache: Cache,
    pub keys: KeyRing,
    pub clock: Clock,
    pub clients: ClientCache,
    pub passwords: Passwords,
    pub secrets: ServerSecrets,
    /// Outbound HTTP (back-channel logout, client JWKS).
    pub http: reqwest::Client,
    /// Access tokens whose signatures were already checked (hot path of userinfo, introspection).
    pub verified_tokens: crate::domain::tokens::VerifiedTokens,
    /// Recent RS256 client-credentials tokens, reused briefly (see `http/token/client_credentials.rs`).
    pub client_tokens: crate::domain::tokens::ClientTokens,
    /// Counters and histograms for `/metrics`.
    pub metrics: crate::metrics::Metrics,
    /// The parsed `server.trusted_proxies`.
    pub proxies: crate::http::client_ip::TrustedProxies,
    /// Cross-node cache invalidation (Redis pub/sub; a no-op on one node).
    pub bus: crate::cache::invalidation::Bus,
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// A handle for background tasks that must not keep the server alive.
    pub fn downgrade(&self) -> std::sync::Weak<Inner> {
        Arc::downgrade(&self.0)
    }

    pub fn upgrade(weak: &std::sync::Weak<Inner>) -> Option<AppState> {
        weak.upgrade().map(AppState)
    }
}

impl Inner {
    /// An absolute URL under the issuer, e.g. `url("/token")`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.issuer, path)
    }
}

/// A built server: state plus router, ready to serve on a listener.
pub struct App {
    pub state: AppState,
}

impl App {
    /// Connects storage, applies migrations, loads (or creates) keys, starts background upkeep.
    pub async fn build(config: Config, clock: Clock) -> Result<App, String> {
        install_crypto_provider();
        let master = config.master_key()?;
        let secrets = ServerSecrets::from_master(&master);
        let db = Db::connect(&config.database).await?;
        db.migrate()
            .await
            .map_err(|e| format!("migrations failed: {e}"))?;
        let cache = Cache::connect(&config.cache).await?;
        let keys = KeyRing::load(&db, &secrets, clock.now()).await?;
        let bus = crate::cache::invalidation::Bus::connect(&config.cache).await?;
        let proxies = crate::http::client_ip::TrustedProxies::new(&config.server.trusted_proxies);
        let passwords = Passwords::new(config.login.argon2)?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let issuer = config.server.issuer.clone();
        let state = AppState(Arc::new(Inner {
            config,
            issuer,
            db,
            cache,
            keys,
            clock,
            clients: ClientCache::new(bus.clone()),
            passwords,
            secrets,
            http,
            verified_tokens: Default::default(),
            client_tokens: Default::default(),
            metrics: Default::default(),
            proxies,
            bus,
        }));
        state.bus.listen(&state).await;
        crate::domain::messages::spawn_worker(&state);
        crate::domain::jobs::spawn_worker(&state);
        spawn_upkeep(state.clone());
        Ok(App { state })
    }

    pub fn router(&self) -> axum::Router {
        crate::http::router(self.state.clone())
    }

    /// Serves until `shutdown` resolves.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let router = self.router();
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
    }
}

/// rustls needs one process-wide crypto provider; we use ring everywhere.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn spawn_upkeep(state: AppState) {
    let weak = Arc::downgrade(&state.0);
    drop(state);
    tokio::spawn(async move {
        let mut tick: u64 = 0;
        loop {
            let Some(inner) = weak.upgrade() else { return };
            let reload = Duration::from_secs(inner.config.keys.reload_secs.max(1));
            drop(inner);
            tokio::time::sleep(reload).await;
            let Some(inner) = weak.upgrade() else { return };
            let now = inner.clock.now();
            if let Err(e) = inner.keys.reload(&inner.db, now).await {
                tracing::warn!(error = %e, "key reload failed; keeping the previous key set");
            }
            tick += 1;
            if tick.is_multiple_of(20)
                && let Err(e) = crate::store::grants::purge_expired(&inner.db, now).await
            {
                tracing::warn!(error = %e, "purging expired rows failed");
            }
            if tick.is_multiple_of(20)
                && let Some(state) = AppState::upgrade(&weak)
                && let Err(e) = crate::domain::login_history::purge(&state).await
            {
                tracing::warn!(error = %e, "purging old login history failed");
            }
        }
    });
}

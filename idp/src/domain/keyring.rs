//! The signing keys in memory: which key signs for each algorithm now, which keys verify, and
//! the JWKS document. Reloaded from the database periodically so every node converges on a
//! rotation within `keys.reload_secs`.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::crypto::ServerSecrets;
use crate::jose::{Alg, SigningKey, VerifyingKey};
use crate::store::keys::{self, StoredKey};
use crate::store::{Db, StoreError};

/// One consistent view of the keys.
pub struct KeySet {
    signing: HashMap<Alg, Arc<SigningKey>>,
    pub verifying: Vec<VerifyingKey>,
    /// The JWKS document, serialised once per reload.
    pub jwks_json: String,
}

impl KeySet {
    /// The key that signs for `alg` now.
    pub fn signer(&self, alg: Alg) -> Option<&SigningKey> {
        self.signing.get(&alg).map(|k| k.as_ref())
    }

    /// Builds the set from stored keys at time `now`.
    fn build(stored: &[StoredKey], secrets: &ServerSecrets, now: i64) -> Result<KeySet, String> {
        let mut signing: HashMap<Alg, Arc<SigningKey>> = HashMap::new();
        let mut verifying = Vec::new();
        let mut jwks = Vec::new();
        // `stored` is newest first, so the first signing-eligible key per algorithm wins.
        for k in stored {
            let alg = Alg::parse(&k.alg)
                .ok_or_else(|| format!("key {} has unknown algorithm {}", k.kid, k.alg))?;
            let jwk: serde_json::Value =
                serde_json::from_str(&k.public_jwk).map_err(|e| format!("key {}: {e}", k.kid))?;
            verifying
                .push(VerifyingKey::from_jwk(&jwk).map_err(|e| format!("key {}: {e}", k.kid))?);
            jwks.push(jwk);
            let signs_now = k.activates_at <= now && k.retires_at.is_none_or(|r| r > now);
            if signs_now && !signing.contains_key(&alg) {
                let der = secrets.open(&k.sealed_private).ok_or_else(|| {
                    format!("key {} cannot be unsealed: wrong master key?", k.kid)
                })?;
                let key = SigningKey::from_pkcs8(k.kid.clone(), alg, &der)
                    .map_err(|e| format!("key {}: {e}", k.kid))?;
                signing.insert(alg, Arc::new(key));
            }
        }
        let jwks_json = serde_json::json!({ "keys": jwks }).to_string();
        Ok(KeySet {
            signing,
            verifying,
            jwks_json,
        })
    }
}

#[derive(Clone)]
pub struct KeyRing {
    current: Arc<RwLock<Arc<KeySet>>>,
    secrets: ServerSecrets,
}

impl KeyRing {
    /// Loads keys, generating an RS256 and an ES256 key first if none can sign.
    pub async fn load(db: &Db, secrets: &ServerSecrets, now: i64) -> Result<KeyRing, String> {
        let mut stored = keys::published(db, now).await.map_err(|e| e.to_string())?;
        let missing: Vec<Alg> = [Alg::RS256, Alg::ES256]
            .into_iter()
            .filter(|a| {
                !stored.iter().any(|k| {
                    k.alg == a.as_str()
                        && k.activates_at <= now
                        && k.retires_at.is_none_or(|r| r > now)
                })
            })
            .collect();
        if !missing.is_empty() {
            let new = generate(&missing, secrets, now, now)?;
            keys::rotate_in(db, &new, 0)
                .await
                .map_err(|e| e.to_string())?;
            stored = keys::published(db, now).await.map_err(|e| e.to_string())?;
        }
        let set = KeySet::build(&stored, secrets, now)?;
        Ok(KeyRing {
            current: Arc::new(RwLock::new(Arc::new(set))),
            secrets: secrets.clone(),
        })
    }

    pub fn current(&self) -> Arc<KeySet> {
        self.current
            .read()
            .map(|g| g.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// Re-reads the keys from the database.
    pub async fn reload(&self, db: &Db, now: i64) -> Result<(), String> {
        let stored = keys::published(db, now).await.map_err(|e| e.to_string())?;
        let set = Arc::new(KeySet::build(&stored, &self.secrets, now)?);
        if let Ok(mut g) = self.current.write() {
            *g = set;
        }
        Ok(())
    }
}

/// Creates new keys for both algorithms, active from `activates_at`; the current ones retire
/// then and stay published `overlap` seconds more, so tokens they signed still verify.
pub async fn rotate(
    db: &Db,
    secrets: &ServerSecrets,
    now: i64,
    activates_at: i64,
    overlap: i64,
) -> Result<Vec<String>, String> {
    let new = generate(&[Alg::RS256, Alg::ES256], secrets, now, activates_at)?;
    keys::rotate_in(db, &new, overlap)
        .await
        .map_err(|e: StoreError| e.to_string())?;
    Ok(new.into_iter().map(|k| k.kid).collect())
}

fn generate(
    algs: &[Alg],
    secrets: &ServerSecrets,
    now: i64,
    activates_at: i64,
) -> Result<Vec<StoredKey>, String> {
    algs.iter()
        .map(|alg| {
            let der = SigningKey::generate_pkcs8(*alg).map_err(|e| e.to_string())?;
            let kid = format!(
                "{}-{}",
                alg.as_str().to_lowercase(),
                &crate::crypto::random_token(9)
            );
            let key = SigningKey::from_pkcs8(kid.clone(), *alg, &der).map_err(|e| e.to_string())?;
            Ok(StoredKey {
                kid,
                alg: alg.as_str().into(),
                sealed_private: secrets.seal(&der),
                public_jwk: key.public_jwk().to_string(),
                created_at: now,
                activates_at,
                retires_at: None,
                expires_at: None,
            })
        })
        .collect()
}

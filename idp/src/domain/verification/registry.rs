//! The "state registries" behind the standard level, as a plain enum: the built-in
//! simulated registry (deterministic outcomes for demos and tests) or an HTTP adapter.
//!
//! Simulated outcomes, in this order (docs/verification.md):
//! - document series `9998`: the registry never answers (the check is retried, then given up);
//! - document series `9999`: no answer on the first two attempts, then as below;
//! - surname `Несоответствие` (any case): rejected, the name does not match;
//! - document number of zeros only (`000000`): rejected, no such valid document;
//! - INN `000000000000`: rejected, unknown to the tax service;
//! - anything else: verified.

use serde::{Deserialize, Serialize};

use crate::config::VerificationConfig;
use crate::domain::documents::Document;

/// Which registry answers the checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verifier {
    Simulated,
    Http { url: String, token: Option<String> },
}

/// The person data a check is about (normalised; dates `YYYY-MM-DD`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonData {
    pub surname: String,
    pub given_name: String,
    pub middle_name: Option<String>,
    pub birthdate: String,
    pub birthplace: String,
    /// `M` or `F`.
    pub gender: String,
    /// ISO 3166 alpha-3, `RUS` for Russian citizens.
    pub citizenship: String,
    /// 11 digits.
    pub snils: String,
    pub inn: Option<String>,
}

/// The registries' answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Verified,
    /// Rejected, with the reason in Russian.
    Rejected(String),
}

impl Verifier {
    pub fn from_config(cfg: &VerificationConfig) -> Verifier {
        match (cfg.registry.as_str(), &cfg.registry_url) {
            ("http", Some(url)) => Verifier::Http {
                url: url.clone(),
                token: cfg.registry_token.clone(),
            },
            _ => Verifier::Simulated,
        }
    }

    /// Asks the registry about `person` (absent for a check of a single document) and
    /// `document`. `attempt` counts from 1. An `Err` means no answer: retry later.
    pub async fn check(
        &self,
        http: &reqwest::Client,
        request_id: &str,
        person: Option<&PersonData>,
        document: &Document,
        attempt: i64,
    ) -> Result<Verdict, String> {
        match self {
            Verifier::Simulated => simulated(person, document, attempt),
            Verifier::Http { url, token } => {
                let body = serde_json::json!({
                    "request_id": request_id,
                    "kind": if person.is_some() { "identity" } else { "document" },
                    "person": person,
                    "document": document_json(document),
                });
                let mut req = http.post(url).json(&body);
                if let Some(t) = token {
                    req = req.bearer_auth(t);
                }
                let resp = req.send().await.map_err(|e| format!("registry: {e}"))?;
                if !resp.status().is_success() {
                    return Err(format!("registry answered {}", resp.status()));
                }
                let answer: Answer = resp
                    .json()
                    .await
                    .map_err(|e| format!("registry answer unreadable: {e}"))?;
                answer.verdict()
            }
        }
    }
}

/// What the HTTP registry answers.
#[derive(Deserialize)]
struct Answer {
    status: String,
    reason: Option<String>,
}

impl Answer {
    fn verdict(self) -> Result<Verdict, String> {
        match self.status.as_str() {
            "verified" => Ok(Verdict::Verified),
            "rejected" => Ok(Verdict::Rejected(
                self.reason
                    .filter(|r| crate::domain::documents::plain_text(r) && !r.trim().is_empty())
                    .unwrap_or_else(|| {
                        "данные не совпадают с данными государственных реестров".into()
                    }),
            )),
            other => Err(format!("registry answered an unknown status {other:?}")),
        }
    }
}

/// The document as sent to the HTTP registry.
pub fn document_json(d: &Document) -> serde_json::Value {
    serde_json::json!({
        "type": d.kind.as_str(),
        "series": d.series,
        "number": d.number,
        "issue_date": d.issue_date.map(|x| x.iso()),
        "issued_by": d.issued_by,
        "issuer_code": d.issuer_code,
        "expiry_date": d.expiry_date.map(|x| x.iso()),
    })
}

/// The built-in registry; see the module documentation for its rules.
pub fn simulated(
    person: Option<&PersonData>,
    document: &Document,
    attempt: i64,
) -> Result<Verdict, String> {
    match document.series.as_deref() {
        Some("9998") => return Err("simulated registry: no answer (series 9998)".into()),
        Some("9999") if attempt <= 2 => {
            return Err(format!(
                "simulated registry: timeout on attempt {attempt} (series 9999)"
            ));
        }
        _ => {}
    }
    if person.is_some_and(|p| p.surname.to_lowercase() == "несоответствие") {
        return Ok(Verdict::Rejected(
            "фамилия, имя или отчество не совпадают с данными МВД России".into(),
        ));
    }
    if document.number.bytes().all(|b| b == b'0') {
        return Ok(Verdict::Rejected(format!(
            "{} не найден среди действительных документов",
            document.kind.ru()
        )));
    }
    if person.is_some_and(|p| p.inn.as_deref() == Some("000000000000")) {
        return Ok(Verdict::Rejected("ИНН не найден в ФНС России".into()));
    }
    Ok(Verdict::Verified)
}

impl VerificationConfig {
    /// Adds this section's problems to the start-up report.
    pub fn check(&self, problems: &mut Vec<String>) {
        match self.registry.as_str() {
            "simulated" => {}
            "http" => match self.registry_url.as_deref().map(url::Url::parse) {
                Some(Ok(u)) if u.scheme() == "https" || u.scheme() == "http" => {}
                _ => problems.push(
                    "verification.registry_url must be an http(s) URL when verification.registry = \"http\"".into(),
                ),
            },
            _ => problems.push("verification.registry must be \"simulated\" or \"http\"".into()),
        }
        for (name, v) in [
            ("verification.lease_secs", self.lease_secs),
            ("verification.max_attempts", self.max_attempts),
            ("verification.retry_base_secs", self.retry_base_secs),
            ("verification.letter_ttl_secs", self.letter_ttl_secs),
        ] {
            if v <= 0 {
                problems.push(format!("{name} must be positive"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::documents::DocumentKind;

    fn doc(series: &str, number: &str) -> Document {
        Document {
            kind: DocumentKind::RfPassport,
            series: Some(series.into()),
            number: number.into(),
            issue_date: None,
            issued_by: None,
            issuer_code: None,
            expiry_date: None,
        }
    }

    fn person(surname: &str) -> PersonData {
        PersonData {
            surname: surname.into(),
            given_name: "Иван".into(),
            snils: "11223344595".into(),
            ..PersonData::default()
        }
    }

    #[test]
    fn simulated_outcomes_are_deterministic() {
        let p = person("Иванов");
        assert_eq!(
            simulated(Some(&p), &doc("4508", "123456"), 1),
            Ok(Verdict::Verified)
        );
        assert!(matches!(
            simulated(Some(&person("НЕСООТВЕТСТВИЕ")), &doc("4508", "123456"), 1),
            Ok(Verdict::Rejected(_))
        ));
        assert!(matches!(
            simulated(Some(&p), &doc("4508", "000000"), 1),
            Ok(Verdict::Rejected(_))
        ));
        assert!(simulated(Some(&p), &doc("9999", "123456"), 1).is_err());
        assert!(simulated(Some(&p), &doc("9999", "123456"), 2).is_err());
        assert_eq!(
            simulated(Some(&p), &doc("9999", "123456"), 3),
            Ok(Verdict::Verified)
        );
        assert!(simulated(Some(&p), &doc("9998", "123456"), 50).is_err());
        let bad_inn = PersonData {
            inn: Some("000000000000".into()),
            ..p
        };
        assert!(matches!(
            simulated(Some(&bad_inn), &doc("4508", "123456"), 1),
            Ok(Verdict::Rejected(_))
        ));
    }

    #[test]
    fn http_answers_are_read_strictly() {
        let a = |s: &str, r: Option<&str>| Answer {
            status: s.into(),
            reason: r.map(str::to_string),
        };
        assert_eq!(a("verified", None).verdict(), Ok(Verdict::Verified));
        assert_eq!(
            a("rejected", Some("паспорт недействителен")).verdict(),
            Ok(Verdict::Rejected("паспорт недействителен".into()))
        );
        assert!(matches!(a("rejected", None).verdict(), Ok(Verdict::Rejected(r)) if !r.is_empty()));
        assert!(a("maybe", None).verdict().is_err());
    }

    #[test]
    fn config_is_checked() {
        let mut problems = Vec::new();
        VerificationConfig::default().check(&mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        let http = VerificationConfig {
            registry: "http".into(),
            ..VerificationConfig::default()
        };
        http.check(&mut problems);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(Verifier::from_config(&http), Verifier::Simulated);
        let http = VerificationConfig {
            registry_url: Some("https://registry.example/check".into()),
            ..http
        };
        assert!(matches!(
            Verifier::from_config(&http),
            Verifier::Http { .. }
        ));
    }
}

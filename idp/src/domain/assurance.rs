//! Assurance, as a pure decision (no I/O): how strong a login a request needs (from
//! `acr_values`, the client's `auth_policy` and a re-authentication that must match the
//! session it replaces), whether a session's `amr` meets it, whether a second step is asked
//! after a first factor (account settings, remembered device), and which `acr` the ID token
//! reports.
//!
//! Two dimensions, both enforced: the account level (`urn:esia:loa:*`, see
//! [`crate::protocol::acr`]) and the strength of the login (`urn:esia:acr:mfa`). A session
//! has a multi-factor login when its `amr` holds `mfa`, or `ds` (an electronic signature: a
//! key on a token unlocked by a PIN) or `hwk` (a hardware passkey with user verification):
//! each of those two is a multi-factor cryptographic authenticator on its own (NIST SP
//! 800-63B §5.1.9).

use crate::protocol::acr::Level;

/// The `acr` value that asks for a login with two factors.
pub const ACR_MFA: &str = "urn:esia:acr:mfa";

/// Every `amr` value the provider issues (RFC 8176 plus `ds`, the electronic signature).
pub const AMR_VALUES: [&str; 8] = ["pwd", "otp", "sms", "hwk", "swk", "mfa", "user", "ds"];

/// How strong a login must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Strength {
    /// Any login the account allows.
    #[default]
    Any,
    /// Two factors (or one multi-factor cryptographic device).
    Mfa,
}

/// A client's standing requirements (`auth_policy`): a strength and a minimum level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Policy {
    pub strength: Strength,
    pub min_level: Option<Level>,
}

impl Policy {
    /// Parses `auth_policy`: words separated by spaces or commas, each one of `any`, `mfa`,
    /// `simplified`, `standard`, `confirmed`. Empty means `any`.
    pub fn parse(s: &str) -> Result<Policy, String> {
        let mut p = Policy::default();
        for word in s
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|w| !w.is_empty())
        {
            match word {
                "any" => {}
                "mfa" => p.strength = Strength::Mfa,
                other => match Level::parse(other) {
                    Some(l) => p.min_level = Some(p.min_level.map_or(l, |m| m.max(l))),
                    None => {
                        return Err(format!(
                            "unknown auth_policy value {other} (any, mfa, simplified, standard, confirmed)"
                        ));
                    }
                },
            }
        }
        Ok(p)
    }

    /// The canonical text (what is stored): `any`, or the words in a fixed order.
    pub fn as_string(&self) -> String {
        let mut words = Vec::new();
        if self.strength == Strength::Mfa {
            words.push("mfa");
        }
        if let Some(l) = self.min_level {
            words.push(l.as_str());
        }
        if words.is_empty() {
            "any".into()
        } else {
            words.join(" ")
        }
    }
}

/// Whether these `amr` values make a multi-factor login.
pub fn has_mfa(amr: &[String]) -> bool {
    amr.iter().any(|m| m == "mfa" || m == "ds" || m == "hwk")
}

/// Whether a session with `amr` meets `strength`.
pub fn meets(strength: Strength, amr: &[String]) -> bool {
    match strength {
        Strength::Any => true,
        Strength::Mfa => has_mfa(amr),
    }
}

/// The strength a request needs: the most of what `acr_values` asks, the client's policy,
/// and (`reauth_mfa`) a re-authentication of a session that was itself multi-factor.
pub fn required(acr_values: &[String], policy: &Policy, reauth_mfa: bool) -> Strength {
    let mut s = policy.strength;
    if acr_values.iter().any(|v| v == ACR_MFA) || reauth_mfa {
        s = Strength::Mfa;
    }
    s
}

/// The strongest method a session used, which a forced re-authentication (`prompt=login`,
/// `max_age`) asks for again: `ds` (signature), `hwk` (passkey), `mfa` (two steps), or none.
pub fn reauth_method(amr: &[String]) -> Option<&'static str> {
    let has = |m: &str| amr.iter().any(|a| a == m);
    if has("ds") {
        Some("ds")
    } else if has("hwk") {
        Some("hwk")
    } else if has("mfa") {
        Some("mfa")
    } else {
        None
    }
}

/// Whether the second step is asked after a first factor (`first_amr`).
///
/// - Required (acr_values, client policy, re-authentication) and not yet met: always.
/// - Else, when the person has two-step login on (`two_step_on`): on every login if
///   `always`, else only on a browser that is not a remembered device of theirs.
pub fn second_step_needed(
    required: Strength,
    first_amr: &[String],
    two_step_on: bool,
    always: bool,
    remembered_device: bool,
) -> bool {
    if !meets(required, first_amr) {
        return true;
    }
    if has_mfa(first_amr) {
        return false;
    }
    two_step_on && (always || !remembered_device)
}

/// The second factors a person can use, in the order offered (the preferred one first).
/// `first_amr` removes the factor already used (an SMS code login is not confirmed by SMS).
pub fn second_factor_order(
    totp: bool,
    sms: bool,
    passkey: bool,
    signature: bool,
    preferred: Option<&str>,
    first_amr: &[String],
) -> Vec<&'static str> {
    let used = |m: &str| first_amr.iter().any(|a| a == m);
    let mut all: Vec<&'static str> = [
        ("totp", totp),
        ("sms", sms && !used("sms")),
        ("passkey", passkey && !used("hwk")),
        ("signature", signature && !used("ds")),
    ]
    .into_iter()
    .filter(|(_, on)| *on)
    .map(|(m, _)| m)
    .collect();
    if let Some(p) = preferred
        && let Some(at) = all.iter().position(|m| *m == p)
    {
        let m = all.remove(at);
        all.insert(0, m);
    }
    all
}

/// The `acr` of the ID token: the requested value met, in the client's order of preference
/// (OIDC Core §3.1.2.1), where among level values the highest one met counts; with nothing
/// known requested, the account's level. `best_level` is what
/// [`crate::protocol::acr::evaluate`] found (None: no level value was requested or met).
pub fn choose_acr(
    acr_values: &[String],
    best_level: Option<&'static str>,
    account_level: Level,
    session_mfa: bool,
) -> &'static str {
    for v in acr_values {
        if v == ACR_MFA && session_mfa {
            return ACR_MFA;
        }
        if Level::from_acr(v).is_some()
            && let Some(l) = best_level
        {
            return l;
        }
    }
    best_level.unwrap_or(account_level.acr())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn policy_parses_and_prints() {
        assert_eq!(Policy::parse("").unwrap(), Policy::default());
        assert_eq!(Policy::parse("any").unwrap().as_string(), "any");
        let p = Policy::parse("confirmed, mfa").unwrap();
        assert_eq!(p.strength, Strength::Mfa);
        assert_eq!(p.min_level, Some(Level::Confirmed));
        assert_eq!(p.as_string(), "mfa confirmed");
        assert_eq!(Policy::parse(&p.as_string()).unwrap(), p);
        assert!(Policy::parse("strong").is_err());
    }

    #[test]
    fn mfa_is_two_factors_or_a_cryptographic_device() {
        assert!(!has_mfa(&v(&["pwd"])));
        assert!(!has_mfa(&v(&["sms"])));
        assert!(has_mfa(&v(&["pwd", "otp", "mfa"])));
        assert!(has_mfa(&v(&["ds"])));
        assert!(has_mfa(&v(&["hwk", "user"])));
        assert!(meets(Strength::Any, &v(&["pwd"])));
        assert!(!meets(Strength::Mfa, &v(&["pwd"])));
    }

    #[test]
    fn requirement_is_the_most_of_request_policy_and_reauth() {
        let any = Policy::default();
        let mfa = Policy::parse("mfa").unwrap();
        assert_eq!(required(&v(&[]), &any, false), Strength::Any);
        assert_eq!(
            required(&v(&["urn:esia:loa:standard"]), &any, false),
            Strength::Any
        );
        assert_eq!(required(&v(&[ACR_MFA]), &any, false), Strength::Mfa);
        assert_eq!(required(&v(&[]), &mfa, false), Strength::Mfa);
        assert_eq!(required(&v(&[]), &any, true), Strength::Mfa);
    }

    #[test]
    fn second_step_decision() {
        let pwd = v(&["pwd"]);
        // Required and not met: asked whatever the settings.
        assert!(second_step_needed(Strength::Mfa, &pwd, false, false, true));
        // A signature is already multi-factor.
        assert!(!second_step_needed(
            Strength::Mfa,
            &v(&["ds"]),
            true,
            true,
            false
        ));
        // Not required, two-step off: not asked.
        assert!(!second_step_needed(Strength::Any, &pwd, false, true, false));
        // Two-step on, always: asked even on a remembered device.
        assert!(second_step_needed(Strength::Any, &pwd, true, true, true));
        // Two-step on, not always: skipped on a remembered device only.
        assert!(!second_step_needed(Strength::Any, &pwd, true, false, true));
        assert!(second_step_needed(Strength::Any, &pwd, true, false, false));
    }

    #[test]
    fn factors_are_offered_preferred_first_without_the_one_used() {
        assert_eq!(
            second_factor_order(true, true, true, true, None, &v(&["pwd"])),
            ["totp", "sms", "passkey", "signature"]
        );
        assert_eq!(
            second_factor_order(true, true, false, true, Some("signature"), &v(&["pwd"])),
            ["signature", "totp", "sms"]
        );
        assert_eq!(
            second_factor_order(false, true, false, false, Some("totp"), &v(&["sms"])),
            Vec::<&str>::new()
        );
    }

    #[test]
    fn acr_is_the_first_preferred_value_met() {
        let std = Some("urn:esia:loa:standard");
        assert_eq!(
            choose_acr(&v(&[ACR_MFA]), None, Level::Standard, true),
            ACR_MFA
        );
        assert_eq!(
            choose_acr(&v(&[ACR_MFA]), None, Level::Standard, false),
            "urn:esia:loa:standard"
        );
        assert_eq!(
            choose_acr(
                &v(&["urn:esia:loa:standard", ACR_MFA]),
                std,
                Level::Confirmed,
                true
            ),
            "urn:esia:loa:standard"
        );
        assert_eq!(
            choose_acr(
                &v(&[ACR_MFA, "urn:esia:loa:standard"]),
                std,
                Level::Confirmed,
                true
            ),
            ACR_MFA
        );
        assert_eq!(
            choose_acr(&v(&["urn:other"]), None, Level::Simplified, true),
            "urn:esia:loa:simplified"
        );
    }
}

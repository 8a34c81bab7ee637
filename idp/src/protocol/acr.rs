//! Account levels (simplified, standard, confirmed) and their `acr` values.

/// The ESIA account level. Ordered: a higher level satisfies a request for a lower one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Simplified,
    Standard,
    Confirmed,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::Simplified, Level::Standard, Level::Confirmed];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Simplified => "simplified",
            Level::Standard => "standard",
            Level::Confirmed => "confirmed",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// The `acr` value that names this level.
    pub fn acr(self) -> &'static str {
        match self {
            Level::Simplified => "urn:esia:loa:simplified",
            Level::Standard => "urn:esia:loa:standard",
            Level::Confirmed => "urn:esia:loa:confirmed",
        }
    }

    pub fn from_acr(acr: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.acr() == acr)
    }
}

/// What `acr_values` asks of an account at `level`.
#[derive(Debug, PartialEq, Eq)]
pub enum AcrOutcome {
    /// No known value was requested: report the account's own level.
    Unconstrained,
    /// Report this requested value (the highest requested one the account meets).
    Satisfied(&'static str),
    /// Every known requested value is above the account's level.
    TooLow { wanted: Level },
}

/// Decides the `acr` for an account at `level`. Unknown values are ignored, as OIDC allows.
pub fn evaluate(requested: &[String], level: Level) -> AcrOutcome {
    let known: Vec<Level> = requested
        .iter()
        .filter_map(|v| Level::from_acr(v))
        .collect();
    if known.is_empty() {
        return AcrOutcome::Unconstrained;
    }
    match known.iter().filter(|l| **l <= level).max() {
        Some(best) => AcrOutcome::Satisfied(best.acr()),
        None => AcrOutcome::TooLow {
            wanted: known.into_iter().min().unwrap_or(Level::Confirmed),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn levels_are_ordered_and_round_trip() {
        assert!(Level::Confirmed > Level::Standard && Level::Standard > Level::Simplified);
        for l in Level::ALL {
            assert_eq!(Level::parse(l.as_str()), Some(l));
            assert_eq!(Level::from_acr(l.acr()), Some(l));
        }
    }

    #[test]
    fn acr_values_are_evaluated() {
        assert_eq!(
            evaluate(&req(&["1", "urn:foo"]), Level::Simplified),
            AcrOutcome::Unconstrained
        );
        assert_eq!(
            evaluate(&req(&["urn:esia:loa:standard"]), Level::Confirmed),
            AcrOutcome::Satisfied("urn:esia:loa:standard")
        );
        assert_eq!(
            evaluate(
                &req(&["urn:esia:loa:confirmed", "urn:esia:loa:standard"]),
                Level::Confirmed
            ),
            AcrOutcome::Satisfied("urn:esia:loa:confirmed")
        );
        assert_eq!(
            evaluate(&req(&["urn:esia:loa:confirmed"]), Level::Standard),
            AcrOutcome::TooLow {
                wanted: Level::Confirmed
            }
        );
    }
}

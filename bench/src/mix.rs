//! Operation kinds and the weighted mix of the `mixed` scenario. No I/O: what one operation
//! is called, how `--mix login=1,code=3,...` is read, and the order in which a worker cycles
//! through the mix.

use std::fmt;
use std::str::FromStr;

/// The kind of one measured operation; the report keeps throughput and latency per kind.
/// The order is the order of the per-kind rows in the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Op {
    /// A whole password login (authorize, login page, password POST, redirect with a code).
    Login,
    /// GET /authorize with an SSO session (straight back with a code) + POST /token with PKCE.
    Code,
    /// POST /token grant_type=refresh_token.
    Refresh,
    /// GET /userinfo.
    Userinfo,
    /// POST /introspect.
    Introspection,
    /// POST /token grant_type=client_credentials.
    ClientCredentials,
    /// ESIA's POST /aas/oauth2/v3/te refresh.
    EsiaRefresh,
    /// One raw Argon2id hash (no HTTP).
    Argon2,
}

impl Op {
    /// The kinds a mix may hold, by their names.
    const MIXABLE: [Op; 6] = [
        Op::Login,
        Op::Code,
        Op::Refresh,
        Op::Userinfo,
        Op::Introspection,
        Op::ClientCredentials,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Op::Login => "login",
            Op::Code => "code",
            Op::Refresh => "refresh",
            Op::Userinfo => "userinfo",
            Op::Introspection => "introspection",
            Op::ClientCredentials => "client-credentials",
            Op::EsiaRefresh => "esia-refresh-v3",
            Op::Argon2 => "argon2",
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The default mix, per 20 operations: a citizen logs in rarely, a site exchanges a few codes,
/// and most traffic is tokens being used (userinfo, introspection) and renewed (refresh).
pub const DEFAULT_MIX: &str = "login=1,code=3,refresh=4,userinfo=8,introspection=4";

/// Most operations one cycle may hold (keeps the schedule small and the weights readable).
const MAX_TOTAL: u32 = 1000;

/// Weights per operation kind, in the order given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mix {
    weights: Vec<(Op, u32)>,
}

impl Mix {
    /// The weight of `op` (0 when absent).
    #[cfg(test)]
    pub fn weight(&self, op: Op) -> u32 {
        self.weights
            .iter()
            .find(|(o, _)| *o == op)
            .map_or(0, |(_, w)| *w)
    }

    /// Operations in one cycle.
    pub fn total(&self) -> u32 {
        self.weights.iter().map(|(_, w)| w).sum()
    }

    /// One cycle of the mix: each kind `weight` times, spread as evenly as possible (smooth
    /// weighted round-robin), so a worker never does all its logins back to back.
    pub fn schedule(&self) -> Vec<Op> {
        let total = i64::from(self.total());
        let mut current = vec![0i64; self.weights.len()];
        let mut out = Vec::with_capacity(self.total() as usize);
        for _ in 0..total {
            for (c, (_, w)) in current.iter_mut().zip(&self.weights) {
                *c += i64::from(*w);
            }
            // The first of the largest: ties go to the kind listed first.
            let mut best = 0;
            for (i, c) in current.iter().enumerate() {
                if *c > current[best] {
                    best = i;
                }
            }
            current[best] -= total;
            out.push(self.weights[best].0);
        }
        out
    }
}

impl Default for Mix {
    fn default() -> Self {
        Self {
            weights: vec![
                (Op::Login, 1),
                (Op::Code, 3),
                (Op::Refresh, 4),
                (Op::Userinfo, 8),
                (Op::Introspection, 4),
            ],
        }
    }
}

impl FromStr for Mix {
    type Err = String;

    /// `kind=weight,...` with kinds among login, code, refresh, userinfo, introspection,
    /// client-credentials; each at most once; weights are whole numbers, not all zero.
    fn from_str(s: &str) -> Result<Self, String> {
        let mut weights: Vec<(Op, u32)> = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, weight) = part
                .split_once('=')
                .ok_or_else(|| format!("mix entry {part:?} is not kind=weight"))?;
            let op = Op::MIXABLE
                .into_iter()
                .find(|o| o.name() == name.trim())
                .ok_or_else(|| {
                    let known: Vec<_> = Op::MIXABLE.iter().map(|o| o.name()).collect();
                    format!(
                        "unknown operation {name:?} in the mix (known: {})",
                        known.join(", ")
                    )
                })?;
            let weight: u32 = weight
                .trim()
                .parse()
                .map_err(|_| format!("weight of {name} is not a whole number: {weight:?}"))?;
            if weights.iter().any(|(o, _)| *o == op) {
                return Err(format!("{name} appears twice in the mix"));
            }
            weights.push((op, weight));
        }
        let total: u64 = weights.iter().map(|(_, w)| u64::from(*w)).sum();
        if total == 0 {
            return Err("the mix has no operations (all weights are zero)".into());
        }
        if total > u64::from(MAX_TOTAL) {
            return Err(format!(
                "the mix's weights add up to {total}; at most {MAX_TOTAL}"
            ));
        }
        Ok(Self { weights })
    }
}

impl fmt::Display for Mix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .weights
            .iter()
            .map(|(o, w)| format!("{}={w}", o.name()))
            .collect();
        f.write_str(&parts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_mix_parses_to_itself() {
        let parsed: Result<Mix, _> = DEFAULT_MIX.parse();
        assert_eq!(parsed, Ok(Mix::default()));
        assert_eq!(Mix::default().to_string(), DEFAULT_MIX);
        assert_eq!(Mix::default().total(), 20);
        assert_eq!(Mix::default().weight(Op::Userinfo), 8);
        assert_eq!(Mix::default().weight(Op::ClientCredentials), 0);
    }

    #[test]
    fn spaces_and_zero_weights_are_accepted() {
        let m: Mix = " userinfo = 3 , login=0, client-credentials=1 "
            .parse()
            .unwrap();
        assert_eq!(m.total(), 4);
        assert_eq!(m.to_string(), "userinfo=3,login=0,client-credentials=1");
        assert!(!m.schedule().contains(&Op::Login));
    }

    #[test]
    fn bad_mixes_are_refused_with_a_reason() {
        for (text, reason) in [
            ("", "no operations"),
            ("login=0", "no operations"),
            ("login", "not kind=weight"),
            ("logon=1", "unknown operation"),
            ("esia-refresh-v3=1", "unknown operation"),
            ("userinfo=x", "not a whole number"),
            ("userinfo=-1", "not a whole number"),
            ("userinfo=1,userinfo=2", "twice"),
            ("userinfo=1001", "at most 1000"),
        ] {
            let err = text.parse::<Mix>().err().unwrap_or_default();
            assert!(err.contains(reason), "{text:?}: {err:?}");
        }
    }

    #[test]
    fn the_schedule_holds_each_kind_by_weight_and_spreads_them() {
        let m = Mix::default();
        let s = m.schedule();
        assert_eq!(s.len(), 20);
        for op in [
            Op::Login,
            Op::Code,
            Op::Refresh,
            Op::Userinfo,
            Op::Introspection,
        ] {
            let n = s.iter().filter(|o| **o == op).count();
            assert_eq!(n as u32, m.weight(op), "{op}");
        }
        // Userinfo (8 of 20) never comes three times in a row, even across the cycle's end.
        let twice: Vec<Op> = s.iter().chain(s.iter()).copied().collect();
        assert!(
            twice
                .windows(3)
                .all(|w| !w.iter().all(|o| *o == Op::Userinfo)),
            "{s:?}"
        );
        // The three code exchanges are not adjacent.
        let at: Vec<usize> = (0..s.len()).filter(|i| s[*i] == Op::Code).collect();
        assert!(at.windows(2).all(|w| w[1] - w[0] > 1), "{s:?}");
    }
}

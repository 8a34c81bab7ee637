//! The password rules of ESIA (esia.md §1) and the standards (conformance.md): 8 to 128
//! characters; lower- and upper-case Latin letters, digits and punctuation all present; no
//! keyboard runs (zxc, qaz, asd…); not a common or breached password. Also a strength score
//! for the meter and a generator of compliant passwords.

use std::collections::HashSet;
use std::sync::OnceLock;

/// Why a password is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    TooShort,
    TooLong,
    NotLatin,
    NoLower,
    NoUpper,
    NoDigit,
    NoPunctuation,
    KeyboardRun(String),
    Common,
    ContainsPersonalData,
    Mismatch,
}

impl Problem {
    pub fn ru(&self) -> String {
        match self {
            Problem::TooShort => "Пароль должен быть не короче 8 символов".into(),
            Problem::TooLong => "Пароль должен быть не длиннее 128 символов".into(),
            Problem::NotLatin => {
                "Используйте только латинские буквы, цифры и знаки препинания".into()
            }
            Problem::NoLower => "Добавьте строчную латинскую букву".into(),
            Problem::NoUpper => "Добавьте заглавную латинскую букву".into(),
            Problem::NoDigit => "Добавьте цифру".into(),
            Problem::NoPunctuation => {
                "Добавьте знак препинания или символ (например, ! ? - _)".into()
            }
            Problem::KeyboardRun(run) => {
                format!("Уберите простую последовательность клавиш «{run}»")
            }
            Problem::Common => "Этот пароль слишком распространён или был в утечках".into(),
            Problem::ContainsPersonalData => {
                "Пароль не должен содержать ваше имя, телефон или почту".into()
            }
            Problem::Mismatch => "Пароли не совпадают".into(),
        }
    }

    pub fn en(&self) -> String {
        match self {
            Problem::TooShort => "The password must be at least 8 characters".into(),
            Problem::TooLong => "The password must be at most 128 characters".into(),
            Problem::NotLatin => "Use Latin letters, digits and punctuation only".into(),
            Problem::NoLower => "Add a lower-case Latin letter".into(),
            Problem::NoUpper => "Add an upper-case Latin letter".into(),
            Problem::NoDigit => "Add a digit".into(),
            Problem::NoPunctuation => "Add a punctuation mark or symbol (e.g. ! ? - _)".into(),
            Problem::KeyboardRun(run) => format!("Remove the simple key sequence \"{run}\""),
            Problem::Common => "This password is too common or has appeared in breaches".into(),
            Problem::ContainsPersonalData => {
                "The password must not contain your name, phone or e-mail".into()
            }
            Problem::Mismatch => "The passwords do not match".into(),
        }
    }
}

const ROWS: &[&str] = &[
    "1234567890",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "qaz",
    "wsx",
    "edc",
    "rfv",
    "tgb",
    "yhn",
    "ujm",
    "ik,",
    "ol.",
];

/// Checks `password` (and its repetition `again`) against every rule; `personal` holds the
/// person's own data (names, phone digits, e-mail local part) that must not appear in it.
pub fn check(password: &str, again: &str, personal: &[&str]) -> Vec<Problem> {
    let mut problems = Vec::new();
    let len = password.chars().count();
    if len < 8 {
        problems.push(Problem::TooShort);
    }
    if len > 128 {
        problems.push(Problem::TooLong);
    }
    if !password.chars().all(|c| c.is_ascii_graphic()) {
        problems.push(Problem::NotLatin);
    }
    if !password.chars().any(|c| c.is_ascii_lowercase()) {
        problems.push(Problem::NoLower);
    }
    if !password.chars().any(|c| c.is_ascii_uppercase()) {
        problems.push(Problem::NoUpper);
    }
    if !password.chars().any(|c| c.is_ascii_digit()) {
        problems.push(Problem::NoDigit);
    }
    if !password.chars().any(|c| c.is_ascii_punctuation()) {
        problems.push(Problem::NoPunctuation);
    }
    if let Some(run) = keyboard_run(password) {
        problems.push(Problem::KeyboardRun(run));
    }
    if is_common(password) {
        problems.push(Problem::Common);
    }
    let lower = password.to_lowercase();
    if personal
        .iter()
        .map(|p| p.trim().to_lowercase())
        .any(|p| p.chars().count() >= 4 && lower.contains(&p))
    {
        problems.push(Problem::ContainsPersonalData);
    }
    if password != again {
        problems.push(Problem::Mismatch);
    }
    problems
}

/// The first run of three keys next to each other on a keyboard row or column, either way.
pub fn keyboard_run(password: &str) -> Option<String> {
    let lower: Vec<char> = password.to_lowercase().chars().collect();
    for w in lower.windows(3) {
        let s: String = w.iter().collect();
        let rev: String = w.iter().rev().collect();
        if ROWS
            .iter()
            .any(|row| row.contains(&s) || row.contains(&rev))
        {
            return Some(
                password
                    .chars()
                    .skip(lower.iter().position(|c| *c == w[0]).unwrap_or(0))
                    .take(3)
                    .collect(),
            );
        }
    }
    None
}

fn common() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        include_str!("common_passwords.txt")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .collect()
    })
}

/// Common or breached: the password itself, or its letters once the usual decorations
/// (trailing digits and symbols, leetspeak) are taken away, is on the bundled list.
pub fn is_common(password: &str) -> bool {
    let lower = password.to_lowercase();
    let set = common();
    if set.contains(lower.as_str()) {
        return true;
    }
    let core = lower
        .trim_end_matches(|c: char| c.is_ascii_digit() || c.is_ascii_punctuation())
        .trim_start_matches(|c: char| c.is_ascii_punctuation());
    let unleet: String = core
        .chars()
        .map(|c| match c {
            '0' => 'o',
            '1' | '!' => 'i',
            '3' => 'e',
            '4' | '@' => 'a',
            '5' | '$' => 's',
            '7' => 't',
            other => other,
        })
        .collect();
    (core.len() >= 4 && set.contains(core)) || (unleet.len() >= 4 && set.contains(unleet.as_str()))
}

/// 0 (weak) to 4 (strong), for the meter; 4 is shown as "Высокая".
pub fn strength(password: &str) -> u8 {
    if !check(password, password, &[]).is_empty() {
        return u8::from(password.chars().count() >= 8);
    }
    let classes = [
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| c.is_ascii_punctuation()),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    match (password.chars().count(), classes) {
        (n, 4) if n >= 12 => 4,
        (n, 4) if n >= 10 => 3,
        _ => 2,
    }
}

/// A random password that satisfies every rule (16 characters).
pub fn generate() -> String {
    const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const DIGITS: &[u8] = b"23456789";
    const PUNCT: &[u8] = b"!?-_.#%+=";
    loop {
        let bytes = crate::crypto::random_bytes(32);
        let sets = [LOWER, UPPER, DIGITS, PUNCT];
        let p: String = bytes
            .iter()
            .take(16)
            .enumerate()
            .map(|(i, b)| {
                let set = if i < 4 {
                    sets[i]
                } else {
                    sets[(*b as usize / 64) % 4]
                };
                set[*b as usize % set.len()] as char
            })
            .collect();
        // Shuffle deterministically by the remaining random bytes so classes are not in front.
        let mut chars: Vec<char> = p.chars().collect();
        let n = chars.len();
        for (i, b) in bytes[16..].iter().enumerate() {
            chars.swap(i % n, *b as usize % n);
        }
        let p: String = chars.into_iter().collect();
        if check(&p, &p, &[]).is_empty() {
            return p;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn esia_rules() {
        assert!(check("Gosuslugi-2026!", "Gosuslugi-2026!", &[]).is_empty());
        assert_eq!(check("Ab1!", "Ab1!", &[]), vec![Problem::TooShort]);
        assert!(check("abcdefgh1!", "abcdefgh1!", &[]).contains(&Problem::NoUpper));
        assert!(check("ABCDEFGH1!", "ABCDEFGH1!", &[]).contains(&Problem::NoLower));
        assert!(check("Abcdefgh!!", "Abcdefgh!!", &[]).contains(&Problem::NoDigit));
        assert!(check("Abcdefgh11", "Abcdefgh11", &[]).contains(&Problem::NoPunctuation));
        assert!(check("Пароль-2026Ab", "Пароль-2026Ab", &[]).contains(&Problem::NotLatin));
        assert!(check("Gosuslugi-2026!", "Gosuslugi-2026?", &[]).contains(&Problem::Mismatch));
        let long = format!("Aa1!{}", "x".repeat(125));
        assert!(check(&long, &long, &[]).contains(&Problem::TooLong));
    }

    #[test]
    fn keyboard_runs_are_refused() {
        for p in [
            "Mzxc-2026!",
            "Tqaz-2026!",
            "Masd-2026!",
            "Mcxz-2026!",
            "Mewq-2026!",
            "Mrt1-1239!",
        ] {
            assert!(
                check(p, p, &[])
                    .iter()
                    .find(|x| matches!(x, Problem::KeyboardRun(_)))
                    .is_some(),
                "{p}"
            );
        }
        assert_eq!(keyboard_run("Gosuslugi-2026!"), None);
    }

    #[test]
    fn common_and_breached_are_refused() {
        for p in [
            "Password1!",
            "P@ssw0rd!",
            "Qwerty123!",
            "Dragon2024!",
            "Monkey-1",
            "Esia123!",
        ] {
            assert!(is_common(p), "{p}");
        }
        assert!(!is_common("Gosuslugi-2026!x7"));
    }

    #[test]
    fn personal_data_is_refused() {
        assert!(
            check("Ivanov-2026!", "Ivanov-2026!", &["ivanov"])
                .contains(&Problem::ContainsPersonalData)
        );
    }

    #[test]
    fn generated_passwords_pass_and_are_strong() {
        for _ in 0..50 {
            let p = generate();
            assert!(check(&p, &p, &[]).is_empty(), "{p}");
            assert_eq!(strength(&p), 4, "{p}");
        }
        assert_eq!(strength("short"), 0);
    }
}

//! Russian login identifiers: mobile phone, e-mail, SNILS (with its checksum), INN.

/// A login as typed, normalised to how it is stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Login {
    /// `+7XXXXXXXXXX`
    Phone(String),
    /// Lower-case.
    Email(String),
    /// 11 digits.
    Snils(String),
}

impl Login {
    /// Recognises an e-mail (has `@`), a SNILS (11 digits in `XXX-XXX-XXX YY` or bare form,
    /// checksum valid) or a Russian mobile number (`8 (900) 123-45-67`, `+7 900 1234567`).
    pub fn parse(text: &str) -> Option<Login> {
        let t = text.trim();
        if t.contains('@') {
            return normalize_email(t).map(Login::Email);
        }
        // Eleven bare digits starting with 7 or 8 read as a phone number; SNILS is then typed
        // with its usual punctuation (`XXX-XXX-XXX YY`).
        let bare_phone_like = t.len() == 11
            && t.chars().all(|c| c.is_ascii_digit())
            && (t.starts_with('7') || t.starts_with('8'));
        if !bare_phone_like && let Some(s) = parse_snils(t) {
            return Some(Login::Snils(s));
        }
        normalize_phone(t).map(Login::Phone)
    }

    /// A short stable key for rate limiting, without the identifier in clear.
    pub fn throttle_key(&self) -> String {
        let raw = match self {
            Login::Phone(v) | Login::Email(v) | Login::Snils(v) => v,
        };
        crate::crypto::sha256_hex(raw.as_bytes())[..32].to_string()
    }
}

/// `8 (900) 123-45-67`, `+7 900 1234567`, `79001234567` → `+79001234567`.
pub fn normalize_phone(text: &str) -> Option<String> {
    let t = text.trim();
    if !t.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c)) {
        return None;
    }
    let digits: String = t.chars().filter(char::is_ascii_digit).collect();
    let national = match (digits.len(), digits.chars().next()) {
        (11, Some('7')) | (11, Some('8')) => &digits[1..],
        (10, Some('9')) if !t.starts_with('+') => &digits[..],
        _ => return None,
    };
    if t.starts_with('+') && !digits.starts_with('7') {
        return None;
    }
    Some(format!("+7{national}"))
}

pub fn normalize_email(text: &str) -> Option<String> {
    let t = text.trim().to_lowercase();
    let (local, domain) = t.split_once('@')?;
    let ok = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !t
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>' || c == '"')
        && t.len() <= 254;
    ok.then_some(t)
}

/// A SNILS in `XXX-XXX-XXX YY` or bare 11-digit form whose checksum holds → 11 digits.
pub fn parse_snils(text: &str) -> Option<String> {
    let t = text.trim();
    if !t
        .chars()
        .all(|c| c.is_ascii_digit() || c == '-' || c == ' ')
    {
        return None;
    }
    let digits: String = t.chars().filter(char::is_ascii_digit).collect();
    if digits.len() != 11 || (t.len() != 11 && t.len() != 14) {
        return None;
    }
    snils_checksum_ok(&digits).then_some(digits)
}

/// esia.md §5: S = Σ dᵢ·(10−i) over the first nine digits; check = S if S < 100, 00 if
/// S ∈ {100, 101}, else S mod 101 (100 → 00). Numbers up to 001-001-998 are not checked.
pub fn snils_checksum_ok(digits: &str) -> bool {
    let d: Vec<u32> = digits.chars().filter_map(|c| c.to_digit(10)).collect();
    if d.len() != 11 {
        return false;
    }
    let number: u32 = d[..9].iter().fold(0, |acc, x| acc * 10 + x);
    if number <= 1_001_998 {
        return true;
    }
    let s: u32 = d[..9]
        .iter()
        .enumerate()
        .map(|(i, x)| x * (9 - i as u32))
        .sum();
    let check = match s {
        s if s < 100 => s,
        100 | 101 => 0,
        s => (s % 101) % 100,
    };
    check == d[9] * 10 + d[10]
}

/// INN: 10 digits (organisations) or 12 (persons), with their check digits (esia.md §5).
pub fn inn_checksum_ok(inn: &str) -> bool {
    let d: Vec<u32> = inn.chars().filter_map(|c| c.to_digit(10)).collect();
    if d.len() != inn.len() {
        return false;
    }
    let check = |digits: &[u32], weights: &[u32]| {
        digits.iter().zip(weights).map(|(a, b)| a * b).sum::<u32>() % 11 % 10
    };
    match d.len() {
        10 => check(&d[..9], &[2, 4, 10, 3, 5, 9, 4, 6, 8]) == d[9],
        12 => {
            check(&d[..10], &[7, 2, 4, 10, 3, 5, 9, 4, 6, 8]) == d[10]
                && check(&d[..11], &[3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8]) == d[11]
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snils_examples_from_esia_md() {
        assert_eq!(
            parse_snils("112-233-445 95").as_deref(),
            Some("11223344595")
        );
        assert_eq!(
            parse_snils("123-456-789 64").as_deref(),
            Some("12345678964")
        );
        assert_eq!(parse_snils("12345678964").as_deref(), Some("12345678964"));
        assert_eq!(parse_snils("123-456-789 65"), None);
        assert_eq!(
            parse_snils("000-000-600 06").as_deref(),
            Some("00000060006"),
            "test range is not checked"
        );
        assert_eq!(parse_snils("123-456-78964"), None);
    }

    #[test]
    fn inn_examples_from_esia_md() {
        assert!(inn_checksum_ok("7707083893"));
        assert!(inn_checksum_ok("500100732259"));
        assert!(!inn_checksum_ok("500100732258"));
        assert!(!inn_checksum_ok("7707083894"));
        assert!(!inn_checksum_ok("77070838"));
    }

    #[test]
    fn phones_normalise() {
        for p in [
            "8 (900) 123-45-67",
            "+7 900 1234567",
            "79001234567",
            "+7(900)123-45-67",
            "9001234567",
        ] {
            assert_eq!(normalize_phone(p).as_deref(), Some("+79001234567"), "{p}");
        }
        for p in [
            "+1 900 1234567",
            "12345",
            "8-900-123-45-6",
            "abc",
            "+9001234567",
        ] {
            assert_eq!(normalize_phone(p), None, "{p}");
        }
    }

    #[test]
    fn logins_are_classified() {
        assert_eq!(
            Login::parse(" Ivan@Example.RU "),
            Some(Login::Email("ivan@example.ru".into()))
        );
        assert_eq!(
            Login::parse("112-233-445 95"),
            Some(Login::Snils("11223344595".into()))
        );
        assert_eq!(
            Login::parse("8 (900) 123-45-67"),
            Some(Login::Phone("+79001234567".into()))
        );
        assert_eq!(Login::parse("nobody"), None);
        assert_eq!(
            Login::parse("a\u{0}@example.ru"),
            None,
            "control characters"
        );
    }
}

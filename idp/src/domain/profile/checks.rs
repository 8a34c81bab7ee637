//! Pure checks of what a person types into the profile: Russian number plates and vehicle
//! registration certificates, OGRN, postal codes, FIAS codes, names and dates. Each parser
//! returns the canonical form or `None`.

/// Letters allowed on Russian plates (those that look alike in Cyrillic and Latin).
const PLATE_LETTERS: &str = "АВЕКМНОРСТУХ";
const LATIN_TWINS: &str = "ABEKMHOPCTYX";

/// Upper-case, Latin look-alikes mapped to Cyrillic, spaces and dashes dropped.
fn canonical_letters(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .map(|c| match LATIN_TWINS.chars().position(|l| l == c) {
            Some(i) => PLATE_LETTERS.chars().nth(i).unwrap_or(c),
            None => c,
        })
        .collect()
}

/// A Russian private-car plate: letter, three digits (not 000), two letters, region code of
/// two digits or three digits starting 1–9 (`А123ВС77`, `а 123 вс 777`, `A123BC177`).
/// Returns the canonical form with Cyrillic letters and no spaces.
pub fn parse_plate(text: &str) -> Option<String> {
    let p = canonical_letters(text);
    let c: Vec<char> = p.chars().collect();
    if !(8..=9).contains(&c.len()) {
        return None;
    }
    let letter = |x: char| PLATE_LETTERS.contains(x);
    let digit = |x: char| x.is_ascii_digit();
    let shape = letter(c[0])
        && c[1..4].iter().all(|x| digit(*x))
        && letter(c[4])
        && letter(c[5])
        && c[6..].iter().all(|x| digit(*x));
    if !shape || c[1..4] == ['0', '0', '0'] {
        return None;
    }
    let region: String = c[6..].iter().collect();
    let region_ok = match region.len() {
        2 => region != "00",
        _ => matches!(c[6], '1'..='9'),
    };
    region_ok.then_some(p)
}

/// The series of a vehicle registration certificate (СТС): two digits and two Cyrillic
/// letters (`77 УВ`) or four digits. Canonical: no spaces, upper case.
pub fn parse_reg_series(text: &str) -> Option<String> {
    let s = canonical_letters(text);
    let c: Vec<char> = s.chars().collect();
    let ok = c.len() == 4
        && c[..2].iter().all(char::is_ascii_digit)
        && (c[2..].iter().all(char::is_ascii_digit)
            || c[2..].iter().all(|x| ('А'..='Я').contains(x) || *x == 'Ё'));
    ok.then_some(s)
}

/// The number of a registration certificate: six digits.
pub fn parse_reg_number(text: &str) -> Option<String> {
    let n: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    (n.len() == 6 && n.chars().all(|c| c.is_ascii_digit())).then_some(n)
}

/// OGRN (13 digits): the last digit is the remainder of the first twelve, read as a number,
/// modulo 11, taken modulo 10.
pub fn ogrn_checksum_ok(ogrn: &str) -> bool {
    if ogrn.len() != 13 || !ogrn.chars().all(|c| c.is_ascii_digit()) {
        return false;
    }
    let (head, last) = ogrn.split_at(12);
    head.parse::<u64>()
        .is_ok_and(|n| (n % 11 % 10).to_string() == last)
}

/// A Russian postal code: six digits.
pub fn parse_zip(text: &str) -> Option<String> {
    let z = text.trim();
    (z.len() == 6 && z.chars().all(|c| c.is_ascii_digit())).then(|| z.to_string())
}

/// A FIAS/GAR object code: a UUID (`8-4-4-4-12` hex digits), lower-cased.
pub fn parse_fias(text: &str) -> Option<String> {
    let f = text.trim().to_ascii_lowercase();
    let groups: Vec<&str> = f.split('-').collect();
    let lens = [8, 4, 4, 4, 12];
    let ok = groups.len() == 5
        && groups
            .iter()
            .zip(lens)
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()));
    ok.then_some(f)
}

/// A free-text field: trimmed, inner whitespace collapsed, 1..=`max` characters, no control
/// characters. `None` for empty or bad input.
pub fn text(value: &str, max: usize) -> Option<String> {
    let t = value.split_whitespace().collect::<Vec<_>>().join(" ");
    let ok = !t.is_empty() && t.chars().count() <= max && !t.chars().any(char::is_control);
    ok.then_some(t)
}

/// A person's name part: letters (any script), spaces, hyphens and apostrophes, up to 100.
pub fn name(value: &str) -> Option<String> {
    let t = text(value, 100)?;
    t.chars()
        .all(|c| c.is_alphabetic() || c == ' ' || c == '-' || c == '\'' || c == '’')
        .then_some(t)
}

/// A calendar date, checked without a date library.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Date {
    /// `YYYY-MM-DD` with a day that exists in that month.
    pub fn parse(text: &str) -> Option<Date> {
        let t = text.trim();
        let b = t.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let num = |s: &str| {
            s.parse::<u32>()
                .ok()
                .filter(|_| s.bytes().all(|c| c.is_ascii_digit()))
        };
        let (year, month, day) = (num(&t[..4])?, num(&t[5..7])?, num(&t[8..])?);
        let d = Date {
            year: i32::try_from(year).ok()?,
            month,
            day,
        };
        ((1..=12).contains(&month) && (1..=days_in_month(d.year, month)).contains(&day))
            .then_some(d)
    }

    /// The UTC date of a Unix time.
    pub fn from_unix(secs: i64) -> Date {
        // Howard Hinnant's civil_from_days.
        let z = secs.div_euclid(86_400) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }

    pub fn iso(self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// Full years from `self` to `later`.
    pub fn years_until(self, later: Date) -> i32 {
        let mut years = later.year - self.year;
        if (later.month, later.day) < (self.month, self.day) {
            years -= 1;
        }
        years
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plates() {
        for (typed, canonical) in [
            ("А123ВС77", "А123ВС77"),
            ("а 123 вс 777", "А123ВС777"),
            ("A123BC177", "А123ВС177"),
            ("x001xx99", "Х001ХХ99"),
        ] {
            assert_eq!(parse_plate(typed).as_deref(), Some(canonical), "{typed}");
        }
        for bad in [
            "А000ВС77",
            "Б123ВС77",
            "А123ВС7",
            "А123ВС0777",
            "А123ВС00",
            "А123ВС077",
            "123АВС77",
            "",
            "А12ВС777",
        ] {
            assert_eq!(parse_plate(bad), None, "{bad}");
        }
    }

    #[test]
    fn registration_certificates() {
        assert_eq!(parse_reg_series("77 ув").as_deref(), Some("77УВ"));
        assert_eq!(parse_reg_series("9900").as_deref(), Some("9900"));
        assert_eq!(parse_reg_series("77У"), None);
        assert_eq!(parse_reg_series("AB77"), None);
        assert_eq!(parse_reg_number("123 456").as_deref(), Some("123456"));
        assert_eq!(parse_reg_number("12345"), None);
    }

    #[test]
    fn ogrn_examples() {
        for good in ["1027700132195", "1027739609391", "1037739877295"] {
            assert!(ogrn_checksum_ok(good), "{good}");
        }
        for bad in [
            "1027700132194",
            "102770013219",
            "10277001321950",
            "10277001321a5",
        ] {
            assert!(!ogrn_checksum_ok(bad), "{bad}");
        }
    }

    /// Property: for any twelve leading digits exactly one thirteenth digit is valid.
    #[test]
    fn ogrn_has_exactly_one_check_digit() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..2_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let head = format!("{:012}", x % 1_000_000_000_000);
            let valid = (0..10)
                .filter(|d| ogrn_checksum_ok(&format!("{head}{d}")))
                .count();
            assert_eq!(valid, 1, "{head}");
        }
    }

    #[test]
    fn zip_fias_text_names() {
        assert_eq!(parse_zip(" 101000 ").as_deref(), Some("101000"));
        assert_eq!(parse_zip("10100"), None);
        assert!(parse_fias("0C5B2444-70A0-4932-980C-B4DC0D3F02B5").is_some());
        assert!(parse_fias("0c5b2444-70a0-4932-980c").is_none());
        assert_eq!(text("  ул.   Ленина ", 50).as_deref(), Some("ул. Ленина"));
        assert_eq!(text("a\u{0}b", 50), None);
        assert_eq!(text("   ", 50), None);
        assert_eq!(name("Анна-Мария").as_deref(), Some("Анна-Мария"));
        assert_eq!(name("R2D2"), None);
    }

    #[test]
    fn dates() {
        assert_eq!(
            Date::parse("2016-02-29").map(Date::iso).as_deref(),
            Some("2016-02-29")
        );
        assert_eq!(Date::parse("2015-02-29"), None);
        assert_eq!(Date::parse("2015-13-01"), None);
        assert_eq!(Date::parse("15-01-2015"), None);
        assert_eq!(Date::from_unix(0).iso(), "1970-01-01");
        assert_eq!(Date::from_unix(1_767_225_600).iso(), "2026-01-01");
        let born = Date::parse("2010-06-15").unwrap();
        assert_eq!(born.years_until(Date::parse("2028-06-14").unwrap()), 17);
        assert_eq!(born.years_until(Date::parse("2028-06-15").unwrap()), 18);
    }
}

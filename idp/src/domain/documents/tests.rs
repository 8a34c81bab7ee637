//! Unit and property-style tests of the document rules (a small deterministic generator
//! stands in for proptest, which the workspace does not carry).

use super::*;

const TODAY: CivilDate = CivilDate {
    year: 2026,
    month: 3,
    day: 15,
};

fn passport(series: &str, number: &str, date: &str, code: &str) -> UnverifiedDocument {
    UnverifiedDocument {
        kind: None,
        series: Some(series.into()),
        number: Some(number.into()),
        issue_date: Some(date.into()),
        issued_by: Some("ГУ МВД России по г. Москве".into()),
        issuer_code: Some(code.into()),
        expiry_date: None,
    }
}

fn fields(r: Result<Document, Vec<Problem>>) -> Vec<&'static str> {
    r.err()
        .unwrap_or_default()
        .iter()
        .map(|p| p.field)
        .collect()
}

/// xorshift64*: deterministic, good enough to explore input shapes.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn digits(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
    fn noise(&mut self, len: usize) -> String {
        const ALPHABET: &[char] = &['0', '5', '9', 'a', 'Я', '-', ' ', '.', '/', '\u{0}', 'Z'];
        (0..len)
            .map(|_| ALPHABET[self.below(ALPHABET.len() as u64) as usize])
            .collect()
    }
}

#[test]
fn a_well_formed_passport_is_normalised() {
    let d = passport("45 08", "123456", "2010-05-01", "770001")
        .validate(DocumentKind::RfPassport, TODAY)
        .expect("valid");
    assert_eq!(d.kind, DocumentKind::RfPassport);
    assert_eq!(d.series.as_deref(), Some("4508"));
    assert_eq!(d.number, "123456");
    assert_eq!(d.issuer_code.as_deref(), Some("770-001"));
    assert_eq!(
        d.issue_date.map(CivilDate::iso).as_deref(),
        Some("2010-05-01")
    );
    let esia_date = passport("4508", "123456", "01.05.2010", "770-001")
        .validate(DocumentKind::RfPassport, TODAY)
        .expect("ESIA date format");
    assert_eq!(esia_date, d);
}

#[test]
fn passport_fields_are_checked_each_with_a_russian_message() {
    let cases = [
        (passport("450", "123456", "2010-05-01", "770-001"), "series"),
        (
            passport("45O8", "123456", "2010-05-01", "770-001"),
            "series",
        ),
        (passport("4508", "12345", "2010-05-01", "770-001"), "number"),
        (
            passport("4508", "1234567", "2010-05-01", "770-001"),
            "number",
        ),
        (
            passport("4508", "123456", "2027-01-01", "770-001"),
            "issue_date",
        ),
        (
            passport("4508", "123456", "2010-02-30", "770-001"),
            "issue_date",
        ),
        (
            passport("4508", "123456", "2010-05-01", "77-0001"),
            "issuer_code",
        ),
        (
            passport("4508", "123456", "2010-05-01", "77000"),
            "issuer_code",
        ),
    ];
    for (doc, field) in cases {
        let problems = doc
            .validate(DocumentKind::RfPassport, TODAY)
            .expect_err(field);
        assert!(
            problems.iter().any(|p| p.field == field),
            "{field}: {problems:?}"
        );
        assert!(
            problems
                .iter()
                .all(|p| p.ru.chars().any(|c| ('а'..='я').contains(&c))),
            "messages are in Russian: {problems:?}"
        );
    }
}

#[test]
fn other_kinds_have_their_own_rules() {
    let licence = UnverifiedDocument {
        kind: Some("RF_DRIVING_LICENSE".into()),
        series: Some("77 ав".into()),
        number: Some("123456".into()),
        issue_date: Some("2020-01-10".into()),
        expiry_date: Some("2030-01-10".into()),
        ..Default::default()
    };
    let d = licence
        .validate(DocumentKind::RfPassport, TODAY)
        .expect("licence");
    assert_eq!(d.series.as_deref(), Some("77АВ"));
    let expired = UnverifiedDocument {
        expiry_date: Some("2025-01-10".into()),
        ..licence.clone()
    };
    assert_eq!(
        fields(expired.validate(DocumentKind::RfPassport, TODAY)),
        ["expiry_date"]
    );
    let policy = UnverifiedDocument {
        kind: Some("MDCL_PLCY".into()),
        number: Some("1234 5678 9012 3456".into()),
        ..Default::default()
    };
    assert!(policy.validate(DocumentKind::RfPassport, TODAY).is_ok());
    let policy_with_series = UnverifiedDocument {
        series: Some("12".into()),
        ..policy
    };
    assert_eq!(
        fields(policy_with_series.validate(DocumentKind::RfPassport, TODAY)),
        ["series"]
    );
    let birth = UnverifiedDocument {
        kind: Some("RF_BRTH_CERT".into()),
        series: Some("IV-МЮ".into()),
        number: Some("654321".into()),
        issue_date: Some("2015-06-01".into()),
        ..Default::default()
    };
    assert!(birth.validate(DocumentKind::RfPassport, TODAY).is_ok());
    let unknown = UnverifiedDocument {
        kind: Some("PASSPORT".into()),
        ..Default::default()
    };
    assert_eq!(
        fields(unknown.validate(DocumentKind::RfPassport, TODAY)),
        ["kind"]
    );
}

#[test]
fn dates_parse_in_both_forms_and_round_trip() {
    assert_eq!(
        CivilDate::parse("2024-02-29"),
        Some(CivilDate {
            year: 2024,
            month: 2,
            day: 29
        })
    );
    assert_eq!(CivilDate::parse("2023-02-29"), None);
    assert_eq!(
        CivilDate::parse("29.02.2024")
            .map(CivilDate::iso)
            .as_deref(),
        Some("2024-02-29")
    );
    for bad in [
        "2024-2-29",
        "24-02-29",
        "2024/02/29",
        "",
        "2024-13-01",
        "1899-12-31",
        "01.01.2024.1",
    ] {
        assert_eq!(CivilDate::parse(bad), None, "{bad}");
    }
    assert_eq!(CivilDate::from_unix(0).iso(), "1970-01-01");
    assert_eq!(CivilDate::from_unix(951_782_400).iso(), "2000-02-29");
    assert_eq!(CivilDate::from_unix(1_773_532_800).iso(), "2026-03-15");
    assert_eq!(
        CivilDate::parse("2024-02-29")
            .map(|d| d.plus_years(1).iso())
            .as_deref(),
        Some("2025-02-28")
    );
}

#[test]
fn property_unix_days_map_to_consecutive_valid_dates() {
    let mut previous = CivilDate::from_unix(-2_208_988_800); // 1900-01-01
    assert_eq!(previous.iso(), "1900-01-01");
    for day in 1..(300 * 365) {
        let d = CivilDate::from_unix(-2_208_988_800 + day * 86_400);
        assert!(d > previous, "{d:?} after {previous:?}");
        assert_eq!(CivilDate::parse(&d.iso()), Some(d), "ISO round trip");
        assert_eq!(CivilDate::parse(&d.esia()), Some(d), "ESIA round trip");
        previous = d;
    }
}

#[test]
fn property_generated_valid_passports_pass_and_keep_their_digits() {
    let mut g = Gen(0x9E37_79B9_7F4A_7C15);
    for _ in 0..2000 {
        let series = g.digits(4);
        let number = g.digits(6);
        let code = g.digits(6);
        let date = CivilDate::from_unix(g.below(1_700_000_000) as i64);
        let spaced = format!("{} {}", &series[..2], &series[2..]);
        let d = passport(&spaced, &number, &date.iso(), &code)
            .validate(DocumentKind::RfPassport, TODAY)
            .unwrap_or_else(|p| panic!("{spaced} {number} {code}: {p:?}"));
        assert_eq!(d.series.as_deref(), Some(series.as_str()));
        assert_eq!(d.number, number);
        assert_eq!(
            d.issuer_code,
            Some(format!("{}-{}", &code[..3], &code[3..]))
        );
    }
}

#[test]
fn property_noise_never_panics_and_accepted_output_is_well_formed() {
    let mut g = Gen(42);
    for _ in 0..5000 {
        let (a, b, c, e) = (
            g.below(9) as usize,
            g.below(9) as usize,
            g.below(12) as usize,
            g.below(9) as usize,
        );
        let doc = passport(&g.noise(a), &g.noise(b), &g.noise(c), &g.noise(e));
        if let Ok(d) = doc.validate(DocumentKind::RfPassport, TODAY) {
            assert!(d.series.as_deref().is_some_and(|s| digits(s, 4)));
            assert!(digits(&d.number, 6));
            let code = d.issuer_code.unwrap_or_default();
            assert!(code.len() == 7 && code.as_bytes()[3] == b'-');
        }
        assert!(division_code(&g.noise(e)).is_none_or(|c| c.len() == 7));
    }
}

//! The identity submission's checks and the level rule.

use super::*;

const TODAY: CivilDate = CivilDate {
    year: 2026,
    month: 3,
    day: 15,
};

const NAMES: CurrentNames<'static> = CurrentNames {
    surname: "Иванов",
    given_name: "Иван",
    middle_name: Some("Иванович"),
};

pub fn valid() -> UnverifiedIdentity {
    UnverifiedIdentity {
        birthdate: Some("1980-01-02".into()),
        birthplace: Some("г. Тверь".into()),
        gender: Some("M".into()),
        citizenship: Some("RUS".into()),
        snils: Some("112-233-445 95".into()),
        inn: Some("500100732259".into()),
        passport: Some(UnverifiedDocument {
            series: Some("45 08".into()),
            number: Some("123456".into()),
            issue_date: Some("2010-05-01".into()),
            issued_by: Some("ОВД Тверского района".into()),
            issuer_code: Some("690-001".into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn problem_fields(u: &UnverifiedIdentity) -> Vec<&'static str> {
    u.validate(&NAMES, TODAY)
        .err()
        .unwrap_or_default()
        .iter()
        .map(|p| p.field)
        .collect()
}

#[test]
fn a_valid_submission_is_normalised() {
    let id = valid().validate(&NAMES, TODAY).expect("valid");
    assert_eq!(id.person.surname, "Иванов");
    assert_eq!(id.person.middle_name.as_deref(), Some("Иванович"));
    assert_eq!(id.person.snils, "11223344595");
    assert_eq!(id.person.gender, "M");
    assert_eq!(id.document.kind, DocumentKind::RfPassport);
    assert_eq!(id.document.series.as_deref(), Some("4508"));
}

#[test]
fn each_bad_field_is_named() {
    let cases: Vec<(UnverifiedIdentity, &str)> = vec![
        (
            UnverifiedIdentity {
                snils: Some("123-456-789 65".into()),
                ..valid()
            },
            "snils",
        ),
        (
            UnverifiedIdentity {
                snils: None,
                ..valid()
            },
            "snils",
        ),
        (
            UnverifiedIdentity {
                inn: Some("500100732258".into()),
                ..valid()
            },
            "inn",
        ),
        (
            UnverifiedIdentity {
                inn: Some("7707083893".into()),
                ..valid()
            },
            "inn",
        ),
        (
            UnverifiedIdentity {
                birthdate: Some("2020-01-01".into()),
                ..valid()
            },
            "birthdate",
        ),
        (
            UnverifiedIdentity {
                gender: Some("X".into()),
                ..valid()
            },
            "gender",
        ),
        (
            UnverifiedIdentity {
                citizenship: Some("RU".into()),
                ..valid()
            },
            "citizenship",
        ),
        (
            UnverifiedIdentity {
                surname: Some("Иванов2".into()),
                ..valid()
            },
            "surname",
        ),
        (
            UnverifiedIdentity {
                birthplace: Some(" ".into()),
                ..valid()
            },
            "birthplace",
        ),
        (
            UnverifiedIdentity {
                passport: None,
                ..valid()
            },
            "passport",
        ),
    ];
    for (input, field) in cases {
        let fields = problem_fields(&input);
        assert!(fields.contains(&field), "{field}: {fields:?}");
    }
}

#[test]
fn a_passport_before_fourteen_or_of_the_wrong_kind_is_refused() {
    let mut early = valid();
    early.birthdate = Some("2000-01-01".into());
    if let Some(p) = early.passport.as_mut() {
        p.issue_date = Some("2010-01-01".into());
    }
    assert_eq!(problem_fields(&early), ["issue_date"]);
    let mut foreigner = valid();
    foreigner.citizenship = Some("deu".into());
    if let Some(p) = foreigner.passport.as_mut() {
        p.kind = Some("RF_PASSPORT".into());
    }
    assert_eq!(
        problem_fields(&foreigner),
        ["kind"],
        "a German citizen with an RF passport"
    );
    if let Some(p) = foreigner.passport.as_mut() {
        p.kind = Some("FID_DOC".into());
        p.issuer_code = None;
    }
    let id = foreigner
        .validate(&NAMES, TODAY)
        .expect("foreign identity document");
    assert_eq!(id.person.citizenship, "DEU");
}

#[test]
fn changes_are_classified_and_levels_follow_the_rule() {
    let id = valid().validate(&NAMES, TODAY).expect("valid");
    assert_eq!(classify(None, &id), Change::Person);
    assert_eq!(
        classify(Some((&id.person, Some(&id.document))), &id),
        Change::None
    );
    let mut new_passport = id.clone();
    new_passport.document.number = "654321".into();
    assert_eq!(
        classify(Some((&id.person, Some(&id.document))), &new_passport),
        Change::Documents
    );
    assert_eq!(classify(Some((&id.person, None)), &id), Change::Documents);
    let mut new_snils = id.clone();
    new_snils.person.snils = "12345678964".into();
    assert_eq!(
        classify(Some((&id.person, Some(&id.document))), &new_snils),
        Change::Person
    );

    assert_eq!(
        level_while_verifying(Level::Simplified, Change::Person),
        Level::Simplified
    );
    assert_eq!(
        level_while_verifying(Level::Standard, Change::Documents),
        Level::Simplified
    );
    assert_eq!(
        level_while_verifying(Level::Confirmed, Change::Documents),
        Level::Confirmed
    );
    assert_eq!(
        level_while_verifying(Level::Confirmed, Change::Person),
        Level::Simplified
    );
    assert_eq!(
        level_while_verifying(Level::Standard, Change::None),
        Level::Standard
    );
    assert_eq!(level_after_success(Level::Simplified), Level::Standard);
    assert_eq!(level_after_success(Level::Confirmed), Level::Confirmed);
}

//! Plain-language names of the data items behind ESIA and OIDC scopes.

use crate::Lang;

/// `(scope, Russian, English)`. ESIA scopes first, then the standard OIDC ones.
const LABELS: &[(&str, &str, &str)] = &[
    // ESIA: the person.
    ("fullname", "ФИО", "Full name"),
    ("birthdate", "Дата рождения", "Date of birth"),
    ("gender", "Пол", "Gender"),
    ("birthplace", "Место рождения", "Place of birth"),
    ("citizenship", "Гражданство", "Citizenship"),
    (
        "snils",
        "СНИЛС",
        "SNILS (individual insurance account number)",
    ),
    ("inn", "ИНН", "INN (taxpayer number)"),
    ("usr_avt", "Фотография профиля", "Profile photo"),
    ("email", "Адрес электронной почты", "E-mail address"),
    ("mobile", "Номер мобильного телефона", "Mobile phone number"),
    ("contacts", "Контактные данные", "Contact details"),
    ("addresses", "Адреса", "Addresses"),
    (
        "id_doc",
        "Паспорт (документ, удостоверяющий личность)",
        "Passport (identity document)",
    ),
    (
        "medical_doc",
        "Полис ОМС",
        "Compulsory medical insurance policy (OMS)",
    ),
    ("military_doc", "Военный билет", "Military ID"),
    (
        "foreign_passport_doc",
        "Заграничный паспорт",
        "International passport",
    ),
    (
        "drivers_licence_doc",
        "Водительское удостоверение",
        "Driving licence",
    ),
    (
        "birth_cert_doc",
        "Свидетельство о рождении",
        "Birth certificate",
    ),
    ("residence_doc", "Вид на жительство", "Residence permit"),
    (
        "temporary_residence_doc",
        "Разрешение на временное проживание",
        "Temporary residence permit",
    ),
    ("vehicles", "Транспортные средства", "Vehicles"),
    ("usr_org", "Организации и роли", "Organisations and roles"),
    // ESIA: the person's children.
    ("kid_fullname", "Дети: ФИО", "Children: full name"),
    (
        "kid_birthdate",
        "Дети: дата рождения",
        "Children: date of birth",
    ),
    ("kid_gender", "Дети: пол", "Children: gender"),
    ("kid_snils", "Дети: СНИЛС", "Children: SNILS"),
    ("kid_inn", "Дети: ИНН", "Children: INN"),
    (
        "kid_birth_cert_doc",
        "Дети: свидетельство о рождении",
        "Children: birth certificate",
    ),
    (
        "kid_medical_doc",
        "Дети: полис ОМС",
        "Children: medical insurance policy (OMS)",
    ),
    // ESIA: the organisation the person acts for.
    (
        "org_shortname",
        "Организация: краткое наименование",
        "Organisation: short name",
    ),
    (
        "org_fullname",
        "Организация: полное наименование",
        "Organisation: full name",
    ),
    ("org_type", "Организация: тип", "Organisation: type"),
    (
        "org_ogrn",
        "Организация: ОГРН",
        "Organisation: OGRN (state registration number)",
    ),
    (
        "org_inn",
        "Организация: ИНН",
        "Organisation: INN (taxpayer number)",
    ),
    (
        "org_kpp",
        "Организация: КПП",
        "Organisation: KPP (tax registration reason code)",
    ),
    (
        "org_leg",
        "Организация: организационно-правовая форма",
        "Organisation: legal form",
    ),
    (
        "org_agencytype",
        "Организация: тип органа власти",
        "Organisation: agency type",
    ),
    (
        "org_oktmo",
        "Организация: ОКТМО",
        "Organisation: OKTMO (municipal territory code)",
    ),
    (
        "org_ctts",
        "Организация: контактные данные",
        "Organisation: contact details",
    ),
    (
        "org_addrs",
        "Организация: адреса",
        "Organisation: addresses",
    ),
    (
        "org_vhls",
        "Организация: транспортные средства",
        "Organisation: vehicles",
    ),
    (
        "org_emps",
        "Организация: сотрудники",
        "Organisation: employees",
    ),
    ("org_brhs", "Организация: филиалы", "Organisation: branches"),
    (
        "org_grps",
        "Организация: группы доступа",
        "Organisation: access groups",
    ),
    // OpenID Connect.
    (
        "profile",
        "Основные сведения профиля (ФИО, дата рождения, пол)",
        "Basic profile (full name, date of birth, gender)",
    ),
    ("phone", "Номер телефона", "Phone number"),
    ("address", "Адрес", "Address"),
    (
        "offline_access",
        "Доступ к данным, когда вы не в сети (долгосрочный доступ)",
        "Access to your data while you are offline (long-term access)",
    ),
];

/// A data item in plain words for a scope name (ESIA and OIDC scopes), e.g. "fullname" -> "ФИО" / "Full name".
///
/// "openid" (and an empty scope) returns None: it is not shown as a data item.
/// Unknown scopes: Some(the scope name itself).
pub fn scope_label(scope: &str, lang: Lang) -> Option<String> {
    if scope == "openid" || scope.trim().is_empty() {
        return None;
    }
    let label = LABELS
        .iter()
        .find(|(name, _, _)| *name == scope)
        .map_or(scope, |(_, ru, en)| match lang {
            Lang::Ru => ru,
            Lang::En => en,
        });
    Some(label.to_owned())
}

#[cfg(test)]
mod tests {
    use super::{LABELS, scope_label};
    use crate::Lang;

    #[test]
    fn known_scopes() {
        let ru = |s| scope_label(s, Lang::Ru);
        assert_eq!(ru("fullname").as_deref(), Some("ФИО"));
        assert_eq!(ru("snils").as_deref(), Some("СНИЛС"));
        assert_eq!(ru("inn").as_deref(), Some("ИНН"));
        assert_eq!(ru("birthdate").as_deref(), Some("Дата рождения"));
        assert_eq!(ru("gender").as_deref(), Some("Пол"));
        assert_eq!(ru("email").as_deref(), Some("Адрес электронной почты"));
        assert_eq!(ru("mobile").as_deref(), Some("Номер мобильного телефона"));
        assert_eq!(
            ru("id_doc").as_deref(),
            Some("Паспорт (документ, удостоверяющий личность)")
        );
        assert_eq!(ru("medical_doc").as_deref(), Some("Полис ОМС"));
        assert_eq!(ru("usr_org").as_deref(), Some("Организации и роли"));
        assert_eq!(ru("kid_fullname").as_deref(), Some("Дети: ФИО"));
        assert_eq!(ru("phone").as_deref(), Some("Номер телефона"));
        assert_eq!(
            ru("profile").as_deref(),
            Some("Основные сведения профиля (ФИО, дата рождения, пол)")
        );
        assert_eq!(
            ru("offline_access").as_deref(),
            Some("Доступ к данным, когда вы не в сети (долгосрочный доступ)")
        );
        assert_eq!(
            scope_label("fullname", Lang::En).as_deref(),
            Some("Full name")
        );
        assert_eq!(scope_label("address", Lang::En).as_deref(), Some("Address"));
    }

    #[test]
    fn openid_is_hidden_and_unknown_is_itself() {
        assert_eq!(scope_label("openid", Lang::Ru), None);
        assert_eq!(scope_label("openid", Lang::En), None);
        assert_eq!(scope_label("", Lang::Ru), None);
        assert_eq!(
            scope_label("custom_thing", Lang::Ru).as_deref(),
            Some("custom_thing")
        );
        // Scope names are case-sensitive.
        assert_eq!(
            scope_label("FULLNAME", Lang::En).as_deref(),
            Some("FULLNAME")
        );
    }

    fn is_cyrillic(c: char) -> bool {
        matches!(c, 'А'..='я' | 'Ё' | 'ё')
    }

    #[test]
    fn table_is_consistent() {
        for (i, (name, ru, en)) in LABELS.iter().enumerate() {
            assert!(!ru.is_empty() && !en.is_empty(), "{name}");
            assert!(!en.chars().any(is_cyrillic), "English label of {name}");
            assert!(
                LABELS[i + 1..].iter().all(|(other, _, _)| other != name),
                "duplicate {name}"
            );
        }
    }
}

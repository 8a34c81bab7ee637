//! The identity pages of the personal account: `/profile/identity` (the account level, the
//! state of the checks, the documents, and the form that sends passport and person data to
//! the state registries) and `/profile/identity/letter` (order a registered letter with a
//! confirmation code and type the code). Russian first, English on request; the forms work
//! without JavaScript.
//!
//! Form field names are a contract with the server. Every form posts `csrf` and `lang`. The
//! identity form posts `series`, `number`, `issue_date`, `issued_by`, `issuer_code`,
//! `birthdate`, `birthplace`, `gender`, `citizenship`, `snils`, `inn`; the letter page posts
//! `action` = `order` (with `address`) or `confirm` (with `code`).

use askama::Template;

use crate::Lang;
use crate::profile_texts::ProfileTexts;
use crate::texts::Texts;

/// A document as the identity page lists it.
pub struct IdentityDocumentRow {
    /// ESIA type code (`RF_PASSPORT`, …).
    pub kind: String,
    /// "4508 123456"
    pub number: String,
    /// The issue date (`YYYY-MM-DD`) or empty.
    pub issued: String,
    /// `NOT_VERIFIED`, `VERIFYING`, `VERIFIED`, `REJECTED`.
    pub state: String,
}

/// A letter as the letter page lists it.
pub struct LetterRow {
    pub address: String,
    /// pending | sent | used | superseded
    pub status: String,
    /// Already formatted (UTC).
    pub expires: String,
}

/// What the identity form shows (what the person typed, kept after a refusal).
#[derive(Clone, Debug, Default)]
pub struct IdentityFormValues {
    pub series: String,
    pub number: String,
    pub issue_date: String,
    pub issued_by: String,
    pub issuer_code: String,
    pub birthdate: String,
    pub birthplace: String,
    pub gender: String,
    pub citizenship: String,
    pub snils: String,
    pub inn: String,
}

/// One of the two identity pages.
pub struct IdentityPage<'a> {
    pub lang: Lang,
    /// The letter page rather than the identity page.
    pub letter: bool,
    pub csrf: &'a str,
    pub user_display_name: &'a str,
    /// `simplified`, `standard`, `confirmed`
    pub level: &'a str,
    /// `verifying`, `verified`, `rejected`, `failed` or empty.
    pub verification_status: &'a str,
    pub documents: &'a [IdentityDocumentRow],
    pub letters: &'a [LetterRow],
    pub form: &'a IdentityFormValues,
    /// Messages already in the page's language (the domain's are Russian).
    pub errors: &'a [String],
    pub notice: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "profile_identity.html")]
struct IdentityView<'a> {
    lang: &'static str,
    t: &'static Texts,
    pt: &'static ProfileTexts,
    title: &'static str,
    other_lang_url: String,
    p: &'a IdentityPage<'a>,
    ru: bool,
    nav: Vec<(&'static str, &'static str, bool)>,
}

impl IdentityView<'_> {
    fn tr(&self, ru: &'static str, en: &'static str) -> &'static str {
        if self.ru { ru } else { en }
    }

    fn status_name(&self, status: &str) -> &'static str {
        match status {
            "verifying" | "VERIFYING" => self.tr("на проверке", "verifying"),
            "verified" | "VERIFIED" => self.tr("проверено", "verified"),
            "rejected" | "REJECTED" => self.tr("не прошло проверку", "rejected"),
            "failed" => self.tr("проверка не состоялась", "the check failed"),
            "" => self.tr("данные не отправлялись", "not submitted"),
            _ => self.tr("не проверено", "not verified"),
        }
    }

    fn kind_name(&self, kind: &str) -> &'static str {
        match kind {
            "RF_PASSPORT" => self.tr("Паспорт гражданина РФ", "Russian passport"),
            "FID_DOC" => self.tr(
                "Документ иностранного гражданина",
                "Foreign citizen's identity document",
            ),
            "FRGN_PASS" => self.tr("Заграничный паспорт", "International passport"),
            "RF_DRIVING_LICENSE" => self.tr("Водительское удостоверение", "Driving licence"),
            "MLTR_ID" => self.tr("Военный билет", "Military ID"),
            "MDCL_PLCY" => self.tr("Полис ОМС", "Medical insurance policy"),
            "RF_BRTH_CERT" => self.tr("Свидетельство о рождении", "Birth certificate"),
            _ => self.tr("Документ", "Document"),
        }
    }

    fn letter_status(&self, status: &str) -> &'static str {
        match status {
            "pending" => self.tr("готовится к отправке", "being prepared"),
            "sent" => self.tr("отправлено", "sent"),
            "used" => self.tr("код использован", "code used"),
            _ => self.tr("заменено новым", "superseded"),
        }
    }
}

/// Renders `/profile/identity` or `/profile/identity/letter`.
pub fn render_identity_page(page: &IdentityPage) -> String {
    let ru = page.lang == Lang::Ru;
    let path = if page.letter {
        "/profile/identity/letter"
    } else {
        "/profile/identity"
    };
    let title = match (page.letter, ru) {
        (false, true) => "Личные данные и документы",
        (false, false) => "Personal data and documents",
        (true, true) => "Подтверждение личности письмом",
        (true, false) => "Confirmation by registered letter",
    };
    let view = IdentityView {
        lang: page.lang.code(),
        t: Texts::get(page.lang),
        pt: ProfileTexts::get(page.lang),
        title,
        other_lang_url: format!("{path}?lang={}", page.lang.other().code()),
        p: page,
        ru,
        nav: crate::cabinet::cabinet_nav(page.lang, path),
    };
    crate::pages::finish(view)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page<'a>(
        lang: Lang,
        letter: bool,
        docs: &'a [IdentityDocumentRow],
        form: &'a IdentityFormValues,
        errors: &'a [String],
    ) -> IdentityPage<'a> {
        IdentityPage {
            lang,
            letter,
            csrf: "CSRF1",
            user_display_name: "Иванов <Иван>",
            level: "standard",
            verification_status: "verifying",
            documents: docs,
            letters: &[],
            form,
            errors,
            notice: None,
        }
    }

    #[test]
    fn identity_form_contract_in_both_languages() {
        let docs = [IdentityDocumentRow {
            kind: "RF_PASSPORT".into(),
            number: "4508 123456".into(),
            issued: "2010-05-01".into(),
            state: "VERIFYING".into(),
        }];
        let form = IdentityFormValues {
            snils: "123".into(),
            ..IdentityFormValues::default()
        };
        let errors = ["СНИЛС указан с ошибкой".to_string()];
        let html = render_identity_page(&page(Lang::Ru, false, &docs, &form, &errors));
        for field in [
            "csrf",
            "lang",
            "series",
            "number",
            "issue_date",
            "issued_by",
            "issuer_code",
            "birthdate",
            "birthplace",
            "gender",
            "citizenship",
            "snils",
            "inn",
        ] {
            assert!(html.contains(&format!("name=\"{field}\"")), "{field}");
        }
        assert!(html.contains("name=\"csrf\" value=\"CSRF1\""));
        assert!(html.contains("на проверке") && html.contains("стандартная"));
        assert!(html.contains("4508 123456") && html.contains("СНИЛС указан с ошибкой"));
        assert!(!html.contains("<Иван>"), "escaped");
        assert!(!html.contains("<script>") && !html.contains("style=\""));
        let en = render_identity_page(&page(Lang::En, false, &docs, &form, &[]));
        assert!(en.contains("lang=\"en\"") && en.contains("verifying"));
    }

    #[test]
    fn letter_page_has_both_forms() {
        let form = IdentityFormValues::default();
        for lang in [Lang::Ru, Lang::En] {
            let html = render_identity_page(&page(lang, true, &[], &form, &[]));
            assert!(html.contains("action=\"/profile/identity/letter\""));
            assert!(html.contains("value=\"order\"") && html.contains("value=\"confirm\""));
            assert!(html.contains("name=\"address\"") && html.contains("name=\"code\""));
            assert!(!html.contains("Внутренняя ошибка"));
        }
    }
}

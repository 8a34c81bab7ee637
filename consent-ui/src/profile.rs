//! The profile pages of the personal account: an overview and one page per section
//! (contacts, addresses, vehicles, children, organisations, history) plus account deletion
//! and the e-mail link confirmation. Russian first, English on request; every form works
//! without JavaScript. Texts are in [`profile_texts`](crate::profile_texts).
//!
//! Form field names are a contract with the server. Every form posts `csrf`, `lang` and an
//! `action`: on `/profile/contacts` `mobile` (`value`), `mobile_confirm` (`code`), `email`
//! (`value`, `method` = code | link), `email_confirm` (`code`), `add` (`type`, `value`),
//! `remove` (`id`); on `/profile/addresses` `save` (`type`, `zip_code`, `region`, `city`,
//! `street`, `house`, `flat`, `fias_code`) and `remove` (`type`); on `/profile/vehicles`
//! `add` (`name`, `number_plate`, `reg_series`, `reg_number`) and `remove` (`id`); on
//! `/profile/kids` `record` (`surname`, `given_name`, `middle_name`, `birthdate`, `gender`,
//! `snils`, `inn`), `remove` (`id`), `link_code`, `link` (`code`); on `/profile/orgs`
//! `register` (`ogrn`, `inn`, `full_name`, `short_name`, `role`) and `leave` (`oid`);
//! `/profile/delete` takes `password`; `/profile/contacts/email-link` takes `u`, `token`.

use askama::Template;

use crate::Lang;
use crate::profile_texts::ProfileTexts;
use crate::texts::Texts;

/// The sections, in the order of the navigation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProfileSection {
    Overview,
    Contacts,
    Addresses,
    Vehicles,
    Kids,
    Orgs,
    History,
    Delete,
}

impl ProfileSection {
    /// The page's path.
    pub fn path(self) -> &'static str {
        match self {
            ProfileSection::Overview => "/profile",
            ProfileSection::Contacts => "/profile/contacts",
            ProfileSection::Addresses => "/profile/addresses",
            ProfileSection::Vehicles => "/profile/vehicles",
            ProfileSection::Kids => "/profile/kids",
            ProfileSection::Orgs => "/profile/orgs",
            ProfileSection::History => "/profile/history",
            ProfileSection::Delete => "/profile/delete",
        }
    }
}

/// What every profile page shows around its section.
pub struct ProfileFrame<'a> {
    pub lang: Lang,
    pub section: ProfileSection,
    pub csrf: &'a str,
    pub user_display_name: &'a str,
    /// Messages already in the page's language.
    pub errors: &'a [String],
    /// A neutral notice ("saved", "a code was sent").
    pub notice: Option<&'a str>,
}

pub struct ContactRow {
    pub id: String,
    /// `MBT`, `EML`, `PHN`, `CEM`
    pub kind: String,
    pub value: String,
    pub verified: bool,
}

pub struct AddressRow {
    /// `PRG` or `PLV`
    pub kind: String,
    pub text: String,
}

pub struct VehicleRow {
    pub id: String,
    pub name: String,
    pub plate: String,
    /// "77УВ 123456" or empty.
    pub certificate: String,
}

pub struct KidRow {
    pub id: String,
    pub name: String,
    pub birthdate: String,
    pub has_account: bool,
}

pub struct OrgRow {
    pub oid: String,
    pub name: String,
    pub ogrn: String,
    pub inn: String,
    /// `chief`, `admin`, `employee`
    pub role: String,
}

pub struct HistoryRow {
    /// Already formatted (UTC).
    pub time: String,
    pub summary: String,
    pub change: String,
}

/// A contact change waiting for its confirmation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PendingContact<'a> {
    Mobile(&'a str),
    EmailCode(&'a str),
    EmailLink(&'a str),
}

/// One section's content.
pub enum ProfileBody<'a> {
    Overview {
        level: &'a str,
        counts: [usize; 5],
    },
    Contacts {
        rows: &'a [ContactRow],
        pending: Option<PendingContact<'a>>,
    },
    Addresses {
        rows: &'a [AddressRow],
    },
    Vehicles {
        rows: &'a [VehicleRow],
    },
    Kids {
        rows: &'a [KidRow],
        /// A fresh link code, shown once.
        link_code: Option<&'a str>,
    },
    Orgs {
        rows: &'a [OrgRow],
        can_register: bool,
    },
    History {
        rows: &'a [HistoryRow],
    },
    Delete,
}

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfileView<'a> {
    lang: &'static str,
    t: &'static Texts,
    pt: &'static ProfileTexts,
    title: &'static str,
    other_lang_url: String,
    f: &'a ProfileFrame<'a>,
    nav: Vec<(&'static str, &'static str, bool)>,
    section: &'static str,
    contact_rows: &'a [ContactRow],
    pending_mobile: &'a str,
    pending_email: &'a str,
    pending_link: &'a str,
    level: &'a str,
    counts: [usize; 5],
    addresses: Vec<(&'static str, &'static str, String)>,
    vehicle_rows: &'a [VehicleRow],
    kid_rows: &'a [KidRow],
    link_code: &'a str,
    org_rows: &'a [OrgRow],
    can_register: bool,
    history_rows: &'a [HistoryRow],
    /// On the overview: what raises the level (a lead and, for a standard account, the ways).
    raise_lead: &'static str,
    raise_ways: Vec<&'static str>,
}

/// Renders a profile page.
pub fn render_profile(frame: &ProfileFrame, body: &ProfileBody) -> String {
    let pt = ProfileTexts::get(frame.lang);
    let nav = crate::cabinet::cabinet_nav(frame.lang, frame.section.path());
    let mut v = ProfileView {
        lang: frame.lang.code(),
        t: Texts::get(frame.lang),
        pt,
        title: pt.section_title(frame.section),
        other_lang_url: format!(
            "{}?lang={}",
            frame.section.path(),
            frame.lang.other().code()
        ),
        f: frame,
        nav,
        section: section_key(frame.section),
        contact_rows: &[],
        pending_mobile: "",
        pending_email: "",
        pending_link: "",
        level: "",
        counts: [0; 5],
        addresses: Vec::new(),
        vehicle_rows: &[],
        kid_rows: &[],
        link_code: "",
        org_rows: &[],
        can_register: false,
        history_rows: &[],
        raise_lead: "",
        raise_ways: Vec::new(),
    };
    match body {
        ProfileBody::Overview { level, counts } => {
            v.level = level;
            v.counts = *counts;
            (v.raise_lead, v.raise_ways) = match *level {
                "simplified" => (crate::levels::how_standard(frame.lang), Vec::new()),
                "standard" => (
                    crate::levels::how_confirmed(frame.lang),
                    crate::levels::ways(frame.lang).to_vec(),
                ),
                _ => (crate::levels::confirmed_note(frame.lang), Vec::new()),
            };
        }
        ProfileBody::Contacts { rows, pending } => {
            v.contact_rows = rows;
            match pending {
                Some(PendingContact::Mobile(p)) => v.pending_mobile = p,
                Some(PendingContact::EmailCode(e)) => v.pending_email = e,
                Some(PendingContact::EmailLink(e)) => v.pending_link = e,
                None => {}
            }
        }
        ProfileBody::Addresses { rows } => {
            v.addresses = [("PRG", pt.address_prg), ("PLV", pt.address_plv)]
                .into_iter()
                .map(|(k, label)| {
                    let text = rows.iter().find(|r| r.kind == k).map(|r| r.text.clone());
                    (k, label, text.unwrap_or_default())
                })
                .collect();
        }
        ProfileBody::Vehicles { rows } => v.vehicle_rows = rows,
        ProfileBody::Kids { rows, link_code } => {
            v.kid_rows = rows;
            v.link_code = link_code.unwrap_or("");
        }
        ProfileBody::Orgs { rows, can_register } => {
            v.org_rows = rows;
            v.can_register = *can_register;
        }
        ProfileBody::History { rows } => v.history_rows = rows,
        ProfileBody::Delete => {}
    }
    finish(v)
}

fn section_key(s: ProfileSection) -> &'static str {
    match s {
        ProfileSection::Overview => "overview",
        ProfileSection::Contacts => "contacts",
        ProfileSection::Addresses => "addresses",
        ProfileSection::Vehicles => "vehicles",
        ProfileSection::Kids => "kids",
        ProfileSection::Orgs => "orgs",
        ProfileSection::History => "history",
        ProfileSection::Delete => "delete",
    }
}

/// The e-mail confirmation link, opened: a button confirms; afterwards, the outcome.
pub struct EmailLinkPage<'a> {
    pub lang: Lang,
    pub csrf: &'a str,
    pub user: &'a str,
    pub token: &'a str,
    pub errors: &'a [String],
    /// The confirmed address, once done.
    pub done: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "profile_email_link.html")]
struct EmailLinkView<'a> {
    lang: &'static str,
    t: &'static Texts,
    pt: &'static ProfileTexts,
    title: &'static str,
    other_lang_url: &'a str,
    p: &'a EmailLinkPage<'a>,
}

pub fn render_profile_email_link(page: &EmailLinkPage) -> String {
    let pt = ProfileTexts::get(page.lang);
    finish(EmailLinkView {
        lang: page.lang.code(),
        t: Texts::get(page.lang),
        pt,
        title: pt.email_link_title,
        other_lang_url: "",
        p: page,
    })
}

/// A short notice page: "log in to see your profile" (the cabinet has no login of its own:
/// sign in at a website or register), or "the account was deleted".
#[derive(Template)]
#[template(path = "profile_notice.html")]
struct NoticeView {
    lang: &'static str,
    t: &'static Texts,
    pt: &'static ProfileTexts,
    title: &'static str,
    text: &'static str,
    other_lang_url: String,
}

pub fn render_profile_login_required(lang: Lang) -> String {
    let pt = ProfileTexts::get(lang);
    finish(NoticeView {
        lang: lang.code(),
        t: Texts::get(lang),
        pt,
        title: pt.login_required_title,
        text: pt.login_required_text,
        other_lang_url: format!("/profile?lang={}", lang.other().code()),
    })
}

pub fn render_profile_deleted(lang: Lang) -> String {
    let pt = ProfileTexts::get(lang);
    finish(NoticeView {
        lang: lang.code(),
        t: Texts::get(lang),
        pt,
        title: pt.deleted_title,
        text: pt.deleted_text,
        other_lang_url: String::new(),
    })
}

fn finish(view: impl Template) -> String {
    view.render().unwrap_or_else(|_| {
        String::from(
            "<!DOCTYPE html><html lang=\"ru\"><head><meta charset=\"utf-8\"><title>Ошибка</title></head>\
             <body><p>Внутренняя ошибка. Попробуйте позже.</p></body></html>",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame<'a>(lang: Lang, section: ProfileSection, errors: &'a [String]) -> ProfileFrame<'a> {
        ProfileFrame {
            lang,
            section,
            csrf: "CSRF1",
            user_display_name: "Иванов Иван",
            errors,
            notice: Some("Сохранено"),
        }
    }

    #[test]
    fn contacts_page_contract() {
        let rows = [
            ContactRow {
                id: "MBT".into(),
                kind: "MBT".into(),
                value: "+79001234567".into(),
                verified: true,
            },
            ContactRow {
                id: "c1".into(),
                kind: "PHN".into(),
                value: "<b>".into(),
                verified: false,
            },
        ];
        let errors = ["Неверный код. Осталось попыток: 2.".to_string()];
        let html = render_profile(
            &frame(Lang::Ru, ProfileSection::Contacts, &errors),
            &ProfileBody::Contacts {
                rows: &rows,
                pending: Some(PendingContact::Mobile("+79007654321")),
            },
        );
        for field in [
            "csrf", "lang", "action", "value", "code", "type", "id", "method",
        ] {
            assert!(html.contains(&format!("name=\"{field}\"")), "{field}");
        }
        assert!(html.contains("value=\"mobile_confirm\"") && html.contains("+79007654321"));
        assert!(html.contains("Осталось попыток: 2") && html.contains("Сохранено"));
        assert!(!html.contains("<b>"), "escaped");
        assert!(html.contains("aria-current=\"page\""));
        assert!(!html.contains("<script>") && !html.contains("style=\""));
    }

    #[test]
    fn the_overview_says_what_raises_the_level() {
        let errors: Vec<String> = Vec::new();
        let frame = |lang| ProfileFrame {
            lang,
            section: ProfileSection::Overview,
            csrf: "c",
            user_display_name: "Иванов Иван",
            errors: &errors,
            notice: None,
        };
        let page = |lang, level| {
            render_profile(
                &frame(lang),
                &ProfileBody::Overview {
                    level,
                    counts: [0; 5],
                },
            )
        };
        assert!(page(Lang::Ru, "simplified").contains("укажите СНИЛС и данные паспорта"));
        let standard = page(Lang::Ru, "standard");
        assert!(standard.contains("заказным письмом") && standard.contains("через банк"));
        assert!(page(Lang::En, "confirmed").contains("Your identity is confirmed"));
    }

    #[test]
    fn every_section_renders_in_both_languages() {
        let bodies = [
            ProfileBody::Overview {
                level: "confirmed",
                counts: [1, 2, 3, 4, 5],
            },
            ProfileBody::Addresses {
                rows: &[AddressRow {
                    kind: "PRG".into(),
                    text: "Москва".into(),
                }],
            },
            ProfileBody::Vehicles {
                rows: &[VehicleRow {
                    id: "v1".into(),
                    name: "Лада".into(),
                    plate: "А123ВС77".into(),
                    certificate: String::new(),
                }],
            },
            ProfileBody::Kids {
                rows: &[],
                link_code: Some("1000000001-123456"),
            },
            ProfileBody::Orgs {
                rows: &[],
                can_register: false,
            },
            ProfileBody::History {
                rows: &[HistoryRow {
                    time: "2026-01-01 10:00".into(),
                    summary: "Изменён адрес".into(),
                    change: "— → Москва".into(),
                }],
            },
            ProfileBody::Delete,
        ];
        let sections = [
            ProfileSection::Overview,
            ProfileSection::Addresses,
            ProfileSection::Vehicles,
            ProfileSection::Kids,
            ProfileSection::Orgs,
            ProfileSection::History,
            ProfileSection::Delete,
        ];
        for (body, section) in bodies.iter().zip(sections) {
            for lang in [Lang::Ru, Lang::En] {
                let html = render_profile(&frame(lang, section, &[]), body);
                assert!(
                    html.contains(&format!("lang=\"{}\"", lang.code())),
                    "{section:?}"
                );
                assert!(!html.contains("Внутренняя ошибка"), "{section:?} renders");
            }
        }
        let kids = render_profile(&frame(Lang::Ru, ProfileSection::Kids, &[]), &bodies[3]);
        assert!(kids.contains("1000000001-123456"));
        let orgs = render_profile(&frame(Lang::Ru, ProfileSection::Orgs, &[]), &bodies[4]);
        assert!(orgs.contains("подтверждённ") && !orgs.contains("value=\"register\""));
        let delete = render_profile(&frame(Lang::Ru, ProfileSection::Delete, &[]), &bodies[6]);
        assert!(
            delete.contains("type=\"password\"") && delete.contains("action=\"/profile/delete\"")
        );
    }

    #[test]
    fn email_link_and_login_pages() {
        let html = render_profile_email_link(&EmailLinkPage {
            lang: Lang::Ru,
            csrf: "C",
            user: "1000000001",
            token: "TOK",
            errors: &[],
            done: None,
        });
        assert!(html.contains("name=\"token\" value=\"TOK\"") && html.contains("name=\"u\""));
        let done = render_profile_email_link(&EmailLinkPage {
            lang: Lang::En,
            csrf: "C",
            user: "1",
            token: "T",
            errors: &[],
            done: Some("new@example.ru"),
        });
        assert!(done.contains("new@example.ru") && !done.contains("name=\"token\""));
        assert!(render_profile_login_required(Lang::Ru).contains("/register"));
        assert!(render_profile_deleted(Lang::Ru).contains("удалена"));
    }
}

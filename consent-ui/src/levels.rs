//! What raises an account's level, in the person's words: shown on the cabinet overview and
//! on the "your account level is too low" page.

use crate::Lang;

/// How to get a standard account (from simplified).
pub(crate) fn how_standard(lang: Lang) -> &'static str {
    match lang {
        Lang::Ru => {
            "Чтобы получить стандартную учётную запись, укажите СНИЛС и данные паспорта — их проверят автоматически."
        }
        Lang::En => {
            "To get a standard account, enter your SNILS and passport details: they are checked automatically."
        }
    }
}

/// The lead-in of the ways to confirm one's identity (standard to confirmed).
pub(crate) fn how_confirmed(lang: Lang) -> &'static str {
    match lang {
        Lang::Ru => "Подтвердить личность можно одним из способов:",
        Lang::En => "You can confirm your identity in one of these ways:",
    }
}

/// The ways to confirm one's identity.
pub(crate) fn ways(lang: Lang) -> [&'static str; 4] {
    match lang {
        Lang::Ru => [
            "в центре обслуживания — с паспортом и СНИЛС;",
            "заказным письмом с кодом подтверждения по почте;",
            "электронной подписью (вход по электронной подписи повышает уровень сам);",
            "через банк, где вы уже подтвердили личность.",
        ],
        Lang::En => [
            "at a service centre, with your passport and SNILS;",
            "by a registered letter with a confirmation code;",
            "with an electronic signature (a signature login raises the level itself);",
            "through a bank that has already confirmed your identity.",
        ],
    }
}

/// What a confirmed account has.
pub(crate) fn confirmed_note(lang: Lang) -> &'static str {
    match lang {
        Lang::Ru => "Ваша личность подтверждена: доступны все электронные услуги.",
        Lang::En => "Your identity is confirmed: every online service is available.",
    }
}

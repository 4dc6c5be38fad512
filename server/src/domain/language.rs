//! The language a staff member reads the pages in: one at a time, Chinese unless they chose
//! English, remembered with their account.

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

/// A language of the pages.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    /// Simplified Chinese, the default.
    #[default]
    Zh,
    /// English.
    En,
}

impl Lang {
    /// The name stored in the database and sent in JSON.
    pub const fn as_str(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// Parses a stored or submitted name; anything else is `None`.
    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The page's `lang` attribute.
    pub const fn html_tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// The text for this language out of a pair.
    pub const fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    /// The other language (what the switch offers).
    pub const fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }
}

/// The language staff member `staff_id` chose (Chinese when unknown).
pub fn of_staff(conn: &Connection, staff_id: i64) -> rusqlite::Result<Lang> {
    let stored: Option<String> = conn
        .query_row(
            "SELECT language FROM staff WHERE id = ?1",
            params![staff_id],
            |r| r.get(0),
        )
        .optional()?;
    Ok(stored.as_deref().and_then(Lang::parse).unwrap_or_default())
}

/// Remembers `lang` for staff member `staff_id`.
pub fn set_for_staff(conn: &Connection, staff_id: i64, lang: Lang) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE staff SET language = ?2 WHERE id = ?1",
        params![staff_id, lang.as_str()],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for l in [Lang::Zh, Lang::En] {
            assert_eq!(Lang::parse(l.as_str()), Some(l));
        }
        assert_eq!(Lang::parse("fr"), None);
        assert_eq!(Lang::default(), Lang::Zh);
    }
}

//! Visitor self-registration: the form as typed, checked into the server's request.

use super::{Invalid, clean_text, invalid};
use gatehouse_credential::api::kiosk::VisitorRequest;
use serde::Deserialize;

/// The visitor form as the page sends it.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct VisitorForm {
    /// Name, as typed.
    #[serde(default)]
    pub name: String,
    /// The unit picked.
    #[serde(default)]
    pub unit_id: Option<i64>,
    /// Whom they visit, optional.
    #[serde(default)]
    pub host_name: Option<String>,
    /// Purpose, picked or typed.
    #[serde(default)]
    pub purpose: String,
    /// Party size.
    #[serde(default)]
    pub party_size: Option<u8>,
    /// Phone, optional.
    #[serde(default)]
    pub phone: Option<String>,
}

/// The largest party one pass admits.
pub const MAX_PARTY: u8 = 20;

impl VisitorForm {
    /// The server request, or the first field that is wrong.
    pub fn validate(&self) -> Result<VisitorRequest, Invalid> {
        let name = clean_text("name", &self.name, 40)?;
        let unit_id = match self.unit_id {
            Some(id) if id > 0 => id,
            _ => return Err(invalid("unit_id", "pick the unit you visit")),
        };
        let host_name = match self.host_name.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(h) => Some(clean_text("host_name", h, 40)?),
        };
        let purpose = clean_text("purpose", &self.purpose, 60)?;
        let party_size = match self.party_size {
            Some(n) if (1..=MAX_PARTY).contains(&n) => n,
            _ => return Err(invalid("party_size", "must be 1 to 20")),
        };
        let phone = match self.phone.as_deref() {
            None => None,
            Some(p) => phone(p)?,
        };
        Ok(VisitorRequest {
            name,
            unit_id,
            host_name,
            purpose,
            party_size,
            phone,
        })
    }
}

/// Digits only (spaces and dashes dropped, one leading `+` kept), 5–20 digits; empty is none.
fn phone(raw: &str) -> Result<Option<String>, Invalid> {
    let kept: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if kept.is_empty() {
        return Ok(None);
    }
    let digits = kept.strip_prefix('+').unwrap_or(&kept);
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(invalid("phone", "digits only"));
    }
    if !(5..=20).contains(&digits.len()) {
        return Err(invalid("phone", "must have 5 to 20 digits"));
    }
    Ok(Some(kept))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> VisitorForm {
        VisitorForm {
            name: " 张小明 ".into(),
            unit_id: Some(3),
            host_name: Some("".into()),
            purpose: "探亲访友".into(),
            party_size: Some(2),
            phone: Some("138-0013 8000".into()),
        }
    }

    #[test]
    fn a_good_form_becomes_a_clean_request() {
        let r = form().validate().unwrap();
        assert_eq!(r.name, "张小明");
        assert_eq!(r.host_name, None);
        assert_eq!(r.phone.as_deref(), Some("13800138000"));
        assert_eq!(r.party_size, 2);
    }

    #[test]
    fn each_bad_field_is_named() {
        type Spoil = fn(&mut VisitorForm);
        let cases: [(Spoil, &str); 7] = [
            (|f| f.name = "  ".into(), "name"),
            (|f| f.name = "x".repeat(41), "name"),
            (|f| f.unit_id = None, "unit_id"),
            (|f| f.purpose = "".into(), "purpose"),
            (|f| f.party_size = Some(0), "party_size"),
            (|f| f.party_size = Some(21), "party_size"),
            (|f| f.phone = Some("12ab5".into()), "phone"),
        ];
        for (spoil, field) in cases {
            let mut f = form();
            spoil(&mut f);
            assert_eq!(f.validate().unwrap_err().field, field);
        }
    }

    #[test]
    fn an_empty_phone_is_no_phone_and_a_short_one_is_refused() {
        let mut f = form();
        f.phone = Some(" ".into());
        assert_eq!(f.validate().unwrap().phone, None);
        f.phone = Some("123".into());
        assert_eq!(f.validate().unwrap_err().field, "phone");
    }
}

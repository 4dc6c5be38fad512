//! Invite redemption: a pre-registration code typed or scanned.

use super::{Invalid, invalid};
use gatehouse_credential::api::kiosk::InviteRedeem;

/// The code as the server expects it: spaces and dashes dropped, upper case, 4–32 letters
/// and digits.
pub fn parse_code(raw: &str) -> Result<InviteRedeem, Invalid> {
    let code: String = raw
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if code.is_empty() {
        return Err(invalid("code", "is empty"));
    }
    if !code.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(invalid("code", "letters and digits only"));
    }
    if !(4..=32).contains(&code.len()) {
        return Err(invalid("code", "must be 4 to 32 characters"));
    }
    Ok(InviteRedeem { code })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_normalised_or_refused() {
        assert_eq!(parse_code(" ab12-cd34 ").unwrap().code, "AB12CD34");
        assert_eq!(parse_code("").unwrap_err().field, "code");
        assert_eq!(
            parse_code("AB").unwrap_err().problem,
            "must be 4 to 32 characters"
        );
        assert_eq!(
            parse_code("AB12;DROP").unwrap_err().problem,
            "letters and digits only"
        );
    }
}

//! Worker card collection: the renovation's code and the last 4 characters of the ID number.

use super::{Invalid, invalid};
use gatehouse_credential::api::kiosk::WorkerCardRequest;

/// Upper-cases and checks both fields; an ID's last character may be the check letter X.
pub fn parse_request(renovation_code: &str, id_last4: &str) -> Result<WorkerCardRequest, Invalid> {
    let code = renovation_code.trim().to_ascii_uppercase();
    if code.is_empty() {
        return Err(invalid("renovation_code", "is empty"));
    }
    if !(3..=32).contains(&code.len())
        || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(invalid(
            "renovation_code",
            "letters, digits and dashes, 3 to 32",
        ));
    }
    let last4 = id_last4.trim().to_ascii_uppercase();
    let chars: Vec<char> = last4.chars().collect();
    let well_formed = chars.len() == 4
        && chars[..3].iter().all(char::is_ascii_digit)
        && (chars[3].is_ascii_digit() || chars[3] == 'X');
    if !well_formed {
        return Err(invalid(
            "id_last4",
            "4 characters: digits, the last may be X",
        ));
    }
    Ok(WorkerCardRequest {
        renovation_code: code,
        id_last4: last4,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_normalised_or_refused() {
        let r = parse_request(" r-2026-001 ", "123x").unwrap();
        assert_eq!(r.renovation_code, "R-2026-001");
        assert_eq!(r.id_last4, "123X");
        assert_eq!(
            parse_request("", "1234").unwrap_err().field,
            "renovation_code"
        );
        assert_eq!(parse_request("R-1", "12X4").unwrap_err().field, "id_last4");
        assert_eq!(parse_request("R-1", "12345").unwrap_err().field, "id_last4");
    }
}

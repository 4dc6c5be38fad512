//! Worker card collection: the renovation's code, the last 4 characters of the ID number and
//! the one-time collection code the front desk gave the contractor.

use super::{Invalid, invalid};
use gatehouse_credential::api::kiosk::WorkerCardRequest;

/// Upper-cases and checks the fields; an ID's last character may be the check letter X; the
/// collection code is 6 to 12 digits.
pub fn parse_request(
    renovation_code: &str,
    id_last4: &str,
    collection_code: &str,
) -> Result<WorkerCardRequest, Invalid> {
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
    let collection: String = collection_code
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if !(6..=12).contains(&collection.len()) || !collection.chars().all(|c| c.is_ascii_digit()) {
        return Err(invalid("collection_code", "6 to 12 digits"));
    }
    Ok(WorkerCardRequest {
        renovation_code: code,
        id_last4: last4,
        collection_code: Some(collection),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_normalised_or_refused() {
        let r = parse_request(" r-2026-001 ", "123x", " 1234 5678 ").unwrap();
        assert_eq!(r.renovation_code, "R-2026-001");
        assert_eq!(r.id_last4, "123X");
        assert_eq!(r.collection_code.as_deref(), Some("12345678"));
        assert_eq!(
            parse_request("", "1234", "12345678").unwrap_err().field,
            "renovation_code"
        );
        let bad_last4 = |l| parse_request("R-1", l, "12345678").unwrap_err().field;
        assert_eq!(bad_last4("12X4"), "id_last4");
        assert_eq!(bad_last4("12345"), "id_last4");
        for code in ["", "12345", "1234567890123", "12345a78"] {
            assert_eq!(
                parse_request("R-1", "1234", code).unwrap_err().field,
                "collection_code",
                "{code:?}"
            );
        }
    }
}

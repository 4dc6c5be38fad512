//! Sign-out: a scanned pass (the credential text) or a typed short id.

use super::{Invalid, invalid};
use gatehouse_credential::MAX_TEXT_LEN;
use gatehouse_credential::api::kiosk::SignOutRequest;
use gatehouse_credential::codec::BASE45_ALPHABET;

/// Shortest text taken for a scanned credential rather than a typed short id.
const MIN_CREDENTIAL_LEN: usize = 40;

/// A scanned credential goes to the server byte for byte (base45 may end in a space, so only
/// the scanner's line ending is removed); a typed short id is trimmed and upper-cased.
pub fn parse_pass(raw: &str) -> Result<SignOutRequest, Invalid> {
    let line = raw.trim_end_matches(['\r', '\n']);
    let is_credential = (MIN_CREDENTIAL_LEN..=MAX_TEXT_LEN).contains(&line.len())
        && line.chars().all(|c| BASE45_ALPHABET.contains(c));
    if is_credential {
        return Ok(SignOutRequest {
            pass: line.to_owned(),
        });
    }
    let short = line.trim().to_ascii_uppercase();
    if short.is_empty() {
        return Err(invalid("pass", "is empty"));
    }
    if !(3..=16).contains(&short.len()) || !short.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(invalid("pass", "not a pass or a short id"));
    }
    Ok(SignOutRequest { pass: short })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scanned_credential_is_kept_exactly_and_a_short_id_is_normalised() {
        let cred = "NCFK0:8A$9K6Q3-B.LFGO+12 %*/ABCDEFGHIJKLMNOPQRSTU ";
        assert_eq!(parse_pass(&format!("{cred}\r")).unwrap().pass, cred);
        assert_eq!(parse_pass(" v7k2 ").unwrap().pass, "V7K2");
        assert!(parse_pass("").is_err());
        assert!(parse_pass("hello world!").is_err());
    }
}

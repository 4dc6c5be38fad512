//! Staff passwords, hashed with argon2id.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// The shortest password a staff account may have.
pub const MIN_LEN: usize = 10;

/// Passwords that guessing tools try first (only those long enough to pass [`MIN_LEN`]),
/// compared without regard to case.
const COMMON: &[&str] = &[
    "0123456789",
    "1234567890",
    "12345678910",
    "123456789a",
    "1234567890a",
    "a123456789",
    "a1234567890",
    "1234567890q",
    "0987654321",
    "1111122222",
    "1122334455",
    "1234512345",
    "1q2w3e4r5t",
    "1q2w3e4r5t6y",
    "q1w2e3r4t5",
    "1qaz2wsx3edc",
    "zaq12wsx",
    "1qazxsw23edc",
    "qwertyuiop",
    "qwerty1234",
    "qwerty12345",
    "qwerty123456",
    "asdfghjkl;",
    "asdfghjkl1",
    "zxcvbnm123",
    "zxcvbnm,./",
    "abcdefghij",
    "abcd123456",
    "abc1234567",
    "a1b2c3d4e5",
    "password12",
    "password123",
    "password1234",
    "password!!",
    "passw0rd12",
    "p@ssw0rd123",
    "p@ssword123",
    "iloveyou12",
    "iloveyou123",
    "welcome123",
    "welcome1234",
    "letmein123",
    "changeme123",
    "changeme!!",
    "admin12345",
    "admin123456",
    "administrator",
    "admin@1234",
    "root123456",
    "woaini1314",
    "woaini520520",
    "5201314520",
    "1314520520",
    "woaini123456",
    "aa123456789",
    "aa12345678",
    "qq123456789",
    "gatehouse1",
    "gatehouse123",
    "football123",
    "baseball123",
    "sunshine123",
    "princess123",
    "dragon1234",
    "monkey12345",
    "trustno1234",
];

/// Why a password was refused or could not be hashed.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// Too short.
    #[error("a password must be at least {MIN_LEN} characters long")]
    TooShort,
    /// On the list of passwords guessers try first.
    #[error("this password is one of the commonest; choose another")]
    Common,
    /// One character repeated.
    #[error("a password must not be one character repeated")]
    Repeated,
    /// The hasher failed (should not happen with the default parameters).
    #[error("password hashing failed: {0}")]
    Hash(String),
}

/// Checks that `password` is acceptable: long enough, not one character repeated, not one of
/// the commonest.
pub fn check(password: &str) -> Result<(), PasswordError> {
    if password.chars().count() < MIN_LEN {
        return Err(PasswordError::TooShort);
    }
    let mut chars = password.chars();
    if let Some(first) = chars.next() {
        if chars.all(|c| c == first) {
            return Err(PasswordError::Repeated);
        }
    }
    let folded = password.to_lowercase();
    if COMMON.contains(&folded.as_str()) {
        return Err(PasswordError::Common);
    }
    Ok(())
}

/// Hashes `password` with a fresh salt, after [`check`]ing it.
pub fn hash(password: &str) -> Result<String, PasswordError> {
    check(password)?;
    let salt = SaltString::generate(&mut rand_core::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Whether `password` matches the stored `hash`; a malformed hash never matches.
pub fn verify(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash to verify against when the user does not exist, so timing does not reveal names.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash("decoy-password-never-matches").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn right_password_matches_wrong_does_not() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", &h));
        assert!(!verify("correct horse batterY", &h));
        assert!(!verify("anything", "not a hash"));
        assert!(matches!(hash("short"), Err(PasswordError::TooShort)));
    }

    #[test]
    fn common_and_repeated_passwords_are_refused() {
        assert!(matches!(check("Password123"), Err(PasswordError::Common)));
        assert!(matches!(check("1234567890"), Err(PasswordError::Common)));
        assert!(matches!(
            check("aaaaaaaaaaaa"),
            Err(PasswordError::Repeated)
        ));
        assert!(check("lobby-kettle-42").is_ok());
    }
}

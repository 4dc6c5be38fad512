//! Keeping personal data minimal: masks for screens and paper, the keyed hash of an ID
//! number, and the short random codes people type.

use crate::keys::personal::PersonalKey;
use unicode_general_category::{GeneralCategory, get_general_category};
use unicode_normalization::UnicodeNormalization;

/// A name with its middle hidden: "张三明" → "张*明", "李四" → "李*", "Alice" → "A***e".
pub fn mask_name(name: &str) -> String {
    let chars: Vec<char> = name.trim().chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => "*".to_owned(),
        2 => format!("{}*", chars[0]),
        n => format!("{}{}{}", chars[0], "*".repeat(n - 2), chars[n - 1]),
    }
}

/// A phone number showing its first 3 and last 4 digits: "13812345678" → "138****5678".
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.trim().chars().collect();
    let n = chars.len();
    if n <= 7 {
        return "*".repeat(n.saturating_sub(2))
            + &chars[n.saturating_sub(2)..].iter().collect::<String>();
    }
    format!(
        "{}{}{}",
        chars[..3].iter().collect::<String>(),
        "*".repeat(n - 7),
        chars[n - 4..].iter().collect::<String>()
    )
}

/// An ID number as shown: only its last 4 characters.
pub fn mask_id_last4(last4: &str) -> String {
    format!("**************{last4}")
}

/// An ID number normalised for matching: no spaces, upper case (the check digit may be `x`).
pub fn normalise_id(id_number: &str) -> String {
    id_number
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}

/// Checks an ID number's shape: 6–32 letters and digits. The full number is never echoed.
pub fn valid_id_number(normalised: &str) -> bool {
    (6..=32).contains(&normalised.chars().count())
        && normalised.chars().all(|c| c.is_ascii_alphanumeric())
}

/// The last 4 characters of a normalised ID number.
pub fn id_last4(normalised: &str) -> String {
    let chars: Vec<char> = normalised.chars().collect();
    chars[chars.len().saturating_sub(4)..].iter().collect()
}

/// The stored form of an ID number: `hmac:` and HMAC-SHA256 under the personal-data key, kept
/// in a file outside the database, so the same person can be matched on one renovation without
/// the number being kept, and a copy of the database alone cannot be searched for it (an ID
/// number's structure leaves a small space to try).
pub fn id_hash(key: &PersonalKey, normalised: &str) -> String {
    format!("hmac:{}", key.tag("id_number", &[normalised]))
}

/// Letters and digits that cannot be confused when read aloud or typed (no 0/O, 1/I/L).
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// A random code of `len` characters from an unambiguous alphabet.
pub fn random_code(len: usize) -> String {
    let mut bytes = vec![0u8; len];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
    bytes
        .iter()
        .map(|b| CODE_ALPHABET[usize::from(*b) % CODE_ALPHABET.len()] as char)
        .collect()
}

/// A typed code normalised for lookup: trimmed, upper case.
pub fn normalise_code(code: &str) -> String {
    code.trim().to_uppercase()
}

/// Checks a required text field: trimmed, 1–`max` characters; the message names the field.
pub fn required_text(field: &str, value: &str, max: usize) -> Result<String, String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(format!("{field} is required"));
    }
    if v.chars().count() > max {
        return Err(format!("{field} is longer than {max} characters"));
    }
    if v.chars().any(char::is_control) {
        return Err(format!("{field} contains control characters"));
    }
    Ok(v.to_owned())
}

/// Checks a phone number: 5–20 digits, optionally with `+`, spaces or `-`.
pub fn valid_phone(phone: &str) -> Result<String, String> {
    let p = phone.trim();
    let digits = p.chars().filter(char::is_ascii_digit).count();
    if !(5..=20).contains(&digits)
        || !p
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' '))
    {
        return Err("phone must be 5–20 digits (spaces, `-` and a leading `+` allowed)".to_owned());
    }
    Ok(p.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_hide_the_middle() {
        assert_eq!(mask_name("张三明"), "张*明");
        assert_eq!(mask_name("李四"), "李*");
        assert_eq!(mask_name("Alice"), "A***e");
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("12345"), "***45");
        assert_eq!(mask_id_last4("123X"), "**************123X");
    }

    #[test]
    fn id_numbers_are_normalised_hashed_and_cut_to_last4() {
        let n = normalise_id(" 11010519491231002x ");
        assert_eq!(n, "11010519491231002X");
        assert!(valid_id_number(&n));
        assert!(!valid_id_number("12-34"));
        assert_eq!(id_last4(&n), "002X");
        let (key, other) = (PersonalKey::generate(), PersonalKey::generate());
        assert_eq!(
            id_hash(&key, &n),
            id_hash(&key, &normalise_id("11010519491231002x"))
        );
        assert_ne!(id_hash(&key, &n), id_hash(&other, &n), "no key, no match");
        assert!(id_hash(&key, &n).starts_with("hmac:"));
        assert!(!id_hash(&key, &n).contains("1101"));
    }

    #[test]
    fn codes_use_the_unambiguous_alphabet_and_fields_are_checked() {
        let c = random_code(8);
        assert_eq!(c.len(), 8);
        assert!(c.bytes().all(|b| CODE_ALPHABET.contains(&b)));
        assert_eq!(normalise_code(" ab2c "), "AB2C");
        assert!(
            required_text("owner", "  ", 10)
                .unwrap_err()
                .contains("owner is required")
        );
        assert!(required_text("owner", "x".repeat(11).as_str(), 10).is_err());
        assert_eq!(required_text("owner", " 王 ", 10).unwrap(), "王");
        assert!(valid_phone("138 1234 5678").is_ok());
        assert!(valid_phone("call me").is_err());
    }
}

/// Whether `c` is a format character (general category Cf: zero-width space and joiners,
/// direction marks, the byte-order mark…): invisible, so it has no place in a name.
fn is_format(c: char) -> bool {
    get_general_category(c) == GeneralCategory::Format
}

/// Default-ignorable characters outside Cf that render as nothing: variation selectors, the
/// combining grapheme joiner and the Hangul fillers (Unicode's DerivedCoreProperties).
fn is_invisible_other(c: char) -> bool {
    matches!(c, '\u{034F}' | '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}'
        | '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}')
}

/// Checks a person's name (or another person-typed label) like [`required_text`], and also
/// refuses invisible format characters, which would let two names look alike and differ.
pub fn person_text(field: &str, value: &str, max: usize) -> Result<String, String> {
    let v = required_text(field, value, max)?;
    if v.chars().any(|c| is_format(c) || is_invisible_other(c)) {
        return Err(format!("{field} contains invisible formatting characters"));
    }
    Ok(v)
}

/// The form of a name the deny list stores and matches on: Unicode NFKC (full-width and other
/// compatibility forms folded to their plain letters), then without whitespace, control,
/// format or other invisible characters, in lower case. "张 黑名", "张\u{200B}黑名" and "ＺＨＡＮＧ"
/// fold to the same key as "张黑名" and "zhang".
pub fn name_key(name: &str) -> String {
    name.nfkc()
        .filter(|c| {
            !c.is_whitespace() && !c.is_control() && !is_format(*c) && !is_invisible_other(*c)
        })
        .flat_map(char::to_lowercase)
        .collect::<String>()
        .nfkc()
        .collect()
}

#[cfg(test)]
mod name_tests {
    use super::*;

    #[test]
    fn look_alike_names_fold_to_one_key_and_invisible_characters_are_refused() {
        let key = name_key("张黑名");
        for variant in [
            "张\u{200B}黑名",
            "张 黑名",
            "张\u{3000}黑名",
            "\u{FEFF}张黑名\u{FE0F}",
        ] {
            assert_eq!(name_key(variant), key, "{variant:?}");
        }
        assert_eq!(name_key("ＪＯＨＮ　Ｓｍｉｔｈ"), name_key("john smith"));
        assert_eq!(name_key("ﾀﾛｳ"), name_key("タロウ"));
        assert_ne!(name_key("张黑明"), key);
        for bad in ["张\u{200B}黑名", "a\u{202E}b", "x\u{2060}y", "a\u{FE0F}"] {
            assert!(person_text("name", bad, 64).is_err(), "{bad:?}");
        }
        assert!(person_text("name", "a\u{7}b", 64).is_err());
        assert_eq!(person_text("name", " 张黑名 ", 64).unwrap(), "张黑名");
    }
}

//! Email addresses are stored as given and as a normalized key (NFKC,
//! lower-case) that unique indexes enforce; default-ignorable characters
//! (zero-width spaces and the like) are refused outright, since they make two
//! different-looking addresses collide or identical-looking ones differ.

use unicode_normalization::UnicodeNormalization;

use crate::error::FieldViolation;

pub const MAX_EMAIL_CHARS: usize = 254;

/// A valid email address, as given (trimmed) and as its normalized key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    given: String,
    normalized: String,
}

impl Email {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldViolation> {
        let given = raw.trim();
        if given.is_empty() {
            return Err(FieldViolation::new(field, "is required"));
        }
        if given.chars().count() > MAX_EMAIL_CHARS {
            return Err(FieldViolation::new(field, "must be at most 254 characters"));
        }
        if given.chars().any(is_default_ignorable) {
            return Err(FieldViolation::new(field, "must not contain invisible characters"));
        }
        let normalized: String = given.nfkc().collect::<String>().to_lowercase();
        if !email_address::EmailAddress::is_valid(&normalized) || !normalized.contains('.') {
            return Err(FieldViolation::new(field, "must be a valid email address"));
        }
        Ok(Self { given: given.to_owned(), normalized })
    }

    /// As the caller wrote it (trimmed): what mail is sent to.
    pub fn as_str(&self) -> &str {
        &self.given
    }

    /// The unique key: NFKC, lower-case.
    pub fn normalized(&self) -> &str {
        &self.normalized
    }
}

/// Unicode's Default_Ignorable_Code_Point ranges (DerivedCoreProperties.txt).
fn is_default_ignorable(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x034F | 0x061C | 0x115F..=0x1160 | 0x17B4..=0x17B5 | 0x180B..=0x180F
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0x3164 | 0xFE00..=0xFE0F
        | 0xFEFF | 0xFFA0 | 0xFFF0..=0xFFF8 | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A
        | 0xE0000..=0xE0FFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_and_width_variants_share_one_key() {
        let plain = Email::parse("email", "Admin@Example.com").unwrap();
        let wide = Email::parse("email", "ＡＤＭＩＮ@ｅｘａｍｐｌｅ.ｃｏｍ").unwrap();
        assert_eq!(plain.normalized(), "admin@example.com");
        assert_eq!(wide.normalized(), plain.normalized());
        assert_eq!(plain.as_str(), "Admin@Example.com");
    }

    #[test]
    fn invalid_and_invisible_are_refused() {
        for bad in ["", "no-at-sign", "a@b", "a\u{200B}b@example.com", "@example.com"] {
            assert!(Email::parse("email", bad).is_err(), "{bad:?}");
        }
    }
}

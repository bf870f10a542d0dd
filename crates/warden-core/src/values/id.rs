//! Ids are UUIDs; each kind of record has its own type, so a user id cannot
//! be passed where an identity id is expected. Requests carry them as text.

use std::fmt;

use uuid::Uuid;

use crate::error::FieldViolation;

fn uuid(field: &str, raw: &str) -> Result<Uuid, FieldViolation> {
    if raw.is_empty() {
        return Err(FieldViolation::new(field, "is required"));
    }
    Uuid::parse_str(raw).map_err(|_| FieldViolation::new(field, "must be a UUID"))
}

macro_rules! id_types {
    ($($(#[$doc:meta])* $name:ident;)+) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            /// A required id field: empty or not a UUID is a violation.
            pub fn parse(field: &str, raw: &str) -> Result<Self, FieldViolation> {
                uuid(field, raw).map(Self)
            }

            pub fn uuid(self) -> Uuid {
                self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    )+};
}

id_types! {
    /// An end user.
    UserId;
    /// A dashboard admin.
    AdminId;
    /// An API key.
    ApiKeyId;
    /// A social identity linked to a user.
    IdentityId;
    /// A create's optional `request_id`: a retry with the same id answers as
    /// the first call did (see `idempotency`).
    RequestId;
}

impl RequestId {
    /// `request_id` is optional: empty is none.
    pub fn parse_optional(field: &str, raw: &str) -> Result<Option<Self>, FieldViolation> {
        if raw.is_empty() { Ok(None) } else { Self::parse(field, raw).map(Some) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_must_be_uuids() {
        let id = Uuid::now_v7();
        assert_eq!(UserId::parse("id", &id.to_string()).map(UserId::uuid), Ok(id));
        assert_eq!(UserId::parse("id", "").unwrap_err().description, "is required");
        assert_eq!(AdminId::parse("id", "42").unwrap_err().description, "must be a UUID");
        assert_eq!(RequestId::parse_optional("request_id", ""), Ok(None));
        assert!(RequestId::parse_optional("request_id", "nope").is_err());
    }
}

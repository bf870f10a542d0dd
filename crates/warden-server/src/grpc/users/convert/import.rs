//! ImportUsers rows, ImportSocialUser, UnlinkIdentity.

use warden_core::{
    DomainResult, FieldViolation,
    secret::SecretString,
    users::{
        fields::NewUser,
        import::{
            IdentityInput, ImportRow, ImportedPassword, InvalidRow, NewIdentity, OnConflict,
            SocialImport, identities,
        },
    },
    values::{IdentityId, RequestId, UserId, all},
};
use warden_proto::v1 as pb;

use super::{super::to_proto::struct_to_json, Rules};
use crate::grpc::convert::{known, optional_time};

fn identity_input(identity: pb::Identity) -> IdentityInput {
    IdentityInput {
        provider: identity.provider,
        provider_user_id: identity.provider_user_id,
        provider_email: identity.provider_email,
        profile: struct_to_json(identity.social_metadata.as_ref()),
    }
}

/// One message's `on_conflict`: `None` when unset (UNSPECIFIED).
pub fn on_conflict(message: &pb::ImportUsersRequest) -> DomainResult<Option<OnConflict>> {
    Ok(match known("on_conflict", message.on_conflict)? {
        pb::ImportUsersOnConflict::Unspecified => None,
        pb::ImportUsersOnConflict::Skip => Some(OnConflict::Skip),
        pb::ImportUsersOnConflict::Upsert => Some(OnConflict::Upsert),
        pb::ImportUsersOnConflict::Fail => Some(OnConflict::Fail),
    })
}

/// One ImportUsers row. A plain password meets the policy; a hash is kept as
/// given; `created_at` may not lie in the future.
pub fn import_row(
    message: pb::ImportUsersRequest,
    rules: &Rules<'_>,
) -> Result<ImportRow, InvalidRow> {
    let fields = user_fields!(message, email_verified: message.email_verified);
    let created_at = match optional_time("created_at", message.created_at.as_ref()) {
        Ok(Some(at)) if at > rules.now => {
            Err(FieldViolation::new("created_at", "must not be in the future"))
        }
        other => other,
    };
    let links: Vec<IdentityInput> = message.identities.into_iter().map(identity_input).collect();
    let max = rules.max_metadata_bytes();
    let parsed = all((
        NewUser::parse("", &fields, max),
        identities("identities", &links, max),
        ImportedPassword::parse(
            &rules.policy,
            message.password,
            &message.password_hash,
            &fields.hints(),
        ),
        created_at,
    ));
    match parsed {
        Ok((user, identities, password, created_at)) => {
            Ok(ImportRow { user, password, identities, created_at, is_active: message.is_active })
        }
        Err(problems) => Err(InvalidRow { email: fields.email.trim().to_owned(), problems }),
    }
}

pub fn import_social_user(
    req: pb::ImportSocialUserRequest,
    rules: &Rules<'_>,
) -> DomainResult<SocialImport> {
    let fields = user_fields!(req, email_verified: true);
    let identity = IdentityInput {
        provider: req.provider,
        provider_user_id: req.provider_user_id,
        provider_email: req.provider_email,
        profile: struct_to_json(req.social_metadata.as_ref()),
    };
    let max = rules.max_metadata_bytes();
    // None: a social-only account. A password is exactly what was sent, untrimmed.
    let password = match req.password.is_empty() {
        true => Ok(None),
        false => {
            let hints = [fields.email.as_str()];
            rules.policy.parse("password", SecretString::new(req.password), &hints).map(Some)
        }
    };
    let (user, identity, password, request_id) = all((
        NewUser::parse("", &fields, max),
        NewIdentity::parse("", &identity, max),
        password,
        RequestId::parse_optional("request_id", &req.request_id),
    ))?;
    Ok(SocialImport { user, identity, password, request_id })
}

pub fn unlink_identity(req: &pb::UnlinkIdentityRequest) -> DomainResult<(UserId, IdentityId)> {
    Ok(all((
        UserId::parse("user_id", &req.user_id),
        IdentityId::parse("identity_id", &req.identity_id),
    ))?)
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use warden_core::users::UserSettings;

    use super::*;

    #[test]
    fn a_row_names_every_violation_and_its_email() {
        let passwords = warden_core::auth::password::Passwords::new(&Default::default()).unwrap();
        let settings = UserSettings::default();
        let rules = Rules { policy: passwords.policy(8), settings: &settings, now: Utc::now() };
        let message = pb::ImportUsersRequest {
            email: " not-an-email ".into(),
            password: "x".into(),
            password_hash: "$2b$10$abc".into(),
            created_at: Some(prost_types::Timestamp { seconds: i64::MAX, nanos: 0 }),
            ..Default::default()
        };
        let row = import_row(message, &rules).unwrap_err();
        assert_eq!(row.email, "not-an-email");
        let fields: Vec<&str> =
            row.problems.violations().iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["email", "password", "created_at"]);
    }
}

//! Domain -> proto for users and identities, shared by every users handler.

use warden_core::users::{Identity, User};
use warden_proto::v1 as pb;

use crate::grpc::convert::{timestamp, timestamp_opt};

/// A JSON object as a protobuf Struct (metadata, social profiles).
pub fn json_to_struct(value: &serde_json::Value) -> Option<prost_types::Struct> {
    let serde_json::Value::Object(map) = value else { return None };
    Some(prost_types::Struct {
        fields: map.iter().map(|(k, v)| (k.clone(), json_to_value(v))).collect(),
    })
}

fn json_to_value(value: &serde_json::Value) -> prost_types::Value {
    use prost_types::value::Kind;
    let kind = match value {
        serde_json::Value::Null => Kind::NullValue(0),
        serde_json::Value::Bool(b) => Kind::BoolValue(*b),
        serde_json::Value::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or_default()),
        serde_json::Value::String(s) => Kind::StringValue(s.clone()),
        serde_json::Value::Array(items) => Kind::ListValue(prost_types::ListValue {
            values: items.iter().map(json_to_value).collect(),
        }),
        serde_json::Value::Object(_) => {
            Kind::StructValue(json_to_struct(value).unwrap_or_default())
        }
    };
    prost_types::Value { kind: Some(kind) }
}

/// A protobuf Struct as a JSON object (`{}` when absent).
pub fn struct_to_json(value: Option<&prost_types::Struct>) -> serde_json::Value {
    let map = value
        .map(|s| s.fields.iter().map(|(k, v)| (k.clone(), value_to_json(v))).collect())
        .unwrap_or_default();
    serde_json::Value::Object(map)
}

fn value_to_json(value: &prost_types::Value) -> serde_json::Value {
    use prost_types::value::Kind;
    match &value.kind {
        None | Some(Kind::NullValue(_)) => serde_json::Value::Null,
        Some(Kind::BoolValue(b)) => serde_json::Value::Bool(*b),
        Some(Kind::NumberValue(n)) => serde_json::Number::from_f64(*n)
            .map_or(serde_json::Value::Null, serde_json::Value::Number),
        Some(Kind::StringValue(s)) => serde_json::Value::String(s.clone()),
        Some(Kind::ListValue(list)) => {
            serde_json::Value::Array(list.values.iter().map(value_to_json).collect())
        }
        Some(Kind::StructValue(s)) => struct_to_json(Some(s)),
    }
}

pub fn user(user: User) -> pb::User {
    pb::User {
        id: user.id.to_string(),
        email: user.email,
        username: user.username.unwrap_or_default(),
        given_name: user.given_name.unwrap_or_default(),
        family_name: user.family_name.unwrap_or_default(),
        phone: user.phone.unwrap_or_default(),
        email_verified: user.email_verified,
        phone_verified: user.phone_verified,
        is_active: user.is_active,
        is_locked: user.is_locked,
        locked_until: timestamp_opt(user.locked_until),
        disabled_reason: user.disabled_reason.unwrap_or_default(),
        disabled_until: timestamp_opt(user.disabled_until),
        roles: user.roles,
        mfa_enabled: user.mfa_enabled,
        has_social_auth: !user.social_providers.is_empty(),
        social_providers: user.social_providers,
        must_change_password: user.must_change_password,
        metadata: json_to_struct(&user.metadata),
        created_at: Some(timestamp(user.created_at)),
        updated_at: Some(timestamp(user.updated_at)),
        last_login_at: timestamp_opt(user.last_login_at),
        session_count: i32::try_from(user.session_count).unwrap_or(i32::MAX),
        has_password: user.has_password,
    }
}

pub fn identity(identity: Identity) -> pb::Identity {
    pb::Identity {
        id: identity.id.to_string(),
        user_id: identity.user_id.to_string(),
        social_metadata: json_to_struct(&identity.profile),
        provider: identity.provider,
        provider_user_id: identity.provider_user_id,
        provider_email: identity.provider_email.unwrap_or_default(),
        created_at: Some(timestamp(identity.created_at)),
        last_used_at: None,
    }
}

//! Checks an encoded request against its descriptor before prost decodes it:
//! every string must be UTF-8 without NUL characters (PostgreSQL cannot store
//! NUL in text or jsonb), and messages may not nest deeper than
//! [`MAX_DEPTH`]. One pass over the bytes, no allocation unless something is
//! wrong; each problem is reported with the path of its field
//! (`filter.email.value`, `identities[2].provider`, `metadata.fields["plan"]`).
//!
//! Structural damage (a bad varint, a length past the end) is left to prost,
//! whose decode error the codec reports.

use std::sync::LazyLock;

use prost::encoding::{WireType, decode_key, decode_varint};
use prost_reflect::{DescriptorPool, FieldDescriptor, Kind, MessageDescriptor};
use warden_core::FieldViolation;

/// How many messages deep a request may nest, itself included. Deeper
/// nesting only ever comes from `google.protobuf.Struct` metadata, where one
/// JSON level takes three messages (Value, Struct, map entry): this allows
/// about 20 levels of JSON, and stays below prost's own limit of 100, which
/// would otherwise fail without naming the field.
pub const MAX_DEPTH: usize = 64;

/// Every warden message, for looking requests up by name.
static POOL: LazyLock<DescriptorPool> = LazyLock::new(|| {
    DescriptorPool::decode(warden_proto::FILE_DESCRIPTOR_SET)
        .expect("warden-proto embeds a valid descriptor set")
});

/// The descriptor of a warden message, by its full name (`warden.v1.GetUserRequest`).
pub fn descriptor(full_name: &str) -> Option<MessageDescriptor> {
    POOL.get_message_by_name(full_name)
}

/// Every NUL, non-UTF-8 string and over-deep message in `bytes`, an encoded
/// `message`.
pub fn violations(message: &MessageDescriptor, bytes: &[u8]) -> Vec<FieldViolation> {
    let mut walk = Walk { path: String::new(), found: Vec::new() };
    walk.message(message, bytes, 1);
    walk.found
}

struct Walk {
    /// The path of the message being walked, e.g. `user.identities[0]`.
    path: String,
    found: Vec<FieldViolation>,
}

impl Walk {
    fn message(&mut self, message: &MessageDescriptor, mut buf: &[u8], depth: usize) {
        // Occurrences so far of each repeated field, for `name[i]`.
        let mut seen: Vec<(u32, usize)> = Vec::new();
        while let Some((tag, value)) = next_field(&mut buf) {
            // Unknown fields and numbers are skipped; prost refuses what is damaged.
            let (Some(field), Some(value)) = (message.get_field(tag), value) else { continue };
            let index = field.is_list().then(|| next_index(&mut seen, tag));
            self.field(&field, index, value, depth);
        }
    }

    /// One length-delimited field of a message at `depth`.
    fn field(&mut self, field: &FieldDescriptor, index: Option<usize>, value: &[u8], depth: usize) {
        let start = self.path.len();
        if start > 0 {
            self.path.push('.');
        }
        self.path.push_str(field.name());
        if let Some(index) = index {
            self.path.push_str(&format!("[{index}]"));
        }
        match field.kind() {
            Kind::String => self.string(value, ""),
            Kind::Message(entry) if field.is_map() => self.map_entry(&entry, value, depth + 1),
            Kind::Message(inner) => self.nested(&inner, value, depth + 1),
            // bytes, and packed numbers: nothing to check.
            _ => {}
        }
        self.path.truncate(start);
    }

    fn nested(&mut self, message: &MessageDescriptor, value: &[u8], depth: usize) {
        if depth > MAX_DEPTH {
            self.too_deep();
        } else {
            self.message(message, value, depth);
        }
    }

    /// A map entry is named by its key, `fields["plan"]`; its value is
    /// walked as if it were the field itself.
    fn map_entry(&mut self, entry: &MessageDescriptor, mut buf: &[u8], depth: usize) {
        if depth > MAX_DEPTH {
            return self.too_deep();
        }
        let (key_field, value_field) = (entry.map_entry_key_field(), entry.map_entry_value_field());
        let (mut key, mut value) = (None, None);
        while let Some((tag, bytes)) = next_field(&mut buf) {
            if tag == key_field.number() {
                key = bytes;
            } else if tag == value_field.number() {
                value = bytes;
            }
        }
        // Only string keys can hold a NUL; other keys are numbers.
        if key_field.kind() == Kind::String
            && let Some(key) = key
        {
            let shown: String = String::from_utf8_lossy(key).chars().take(32).collect();
            self.path.push_str(&format!("[{shown:?}]"));
            self.string(key, " (in the key)");
        }
        match (value_field.kind(), value) {
            (Kind::String, Some(value)) => self.string(value, ""),
            (Kind::Message(inner), Some(value)) => self.nested(&inner, value, depth + 1),
            _ => {}
        }
    }

    fn string(&mut self, value: &[u8], where_: &str) {
        match std::str::from_utf8(value) {
            Err(_) => self.report(format!("must be valid UTF-8{where_}")),
            Ok(text) if text.contains('\0') => {
                self.report(format!("must not contain NUL characters{where_}"))
            }
            Ok(_) => {}
        }
    }

    fn too_deep(&mut self) {
        self.report(format!("is nested too deeply: at most {MAX_DEPTH} levels of messages"));
    }

    fn report(&mut self, description: String) {
        self.found.push(FieldViolation::new(self.path.clone(), description));
    }
}

/// The next field of an encoded message: its number, and its bytes when it
/// is length-delimited. `None` at the end, or where the encoding is damaged.
fn next_field<'a>(buf: &mut &'a [u8]) -> Option<(u32, Option<&'a [u8]>)> {
    if buf.is_empty() {
        return None;
    }
    let (tag, wire_type) = decode_key(buf).ok()?;
    let skip = match wire_type {
        WireType::LengthDelimited => {
            let len = usize::try_from(decode_varint(buf).ok()?).ok()?;
            let value = buf.get(..len)?;
            *buf = &buf[len..];
            return Some((tag, Some(value)));
        }
        WireType::Varint => {
            decode_varint(buf).ok()?;
            0
        }
        WireType::SixtyFourBit => 8,
        WireType::ThirtyTwoBit => 4,
        // proto3 has no groups: prost refuses them.
        WireType::StartGroup | WireType::EndGroup => return None,
    };
    *buf = buf.get(skip..)?;
    Some((tag, None))
}

fn next_index(seen: &mut Vec<(u32, usize)>, tag: u32) -> usize {
    match seen.iter_mut().find(|(t, _)| *t == tag) {
        Some((_, count)) => {
            *count += 1;
            *count
        }
        None => {
            seen.push((tag, 0));
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use prost::Message;
    use prost_types::{Struct, Value, value::Kind as ValueKind};
    use warden_proto::v1 as pb;

    use super::*;

    fn check<M: Message + prost::Name>(message: &M) -> Vec<FieldViolation> {
        let descriptor = descriptor(&M::full_name()).expect("a warden message");
        violations(&descriptor, &message.encode_to_vec())
    }

    fn nested_struct(levels: usize) -> Struct {
        let mut inner = Struct::default();
        for _ in 0..levels {
            let value = Value { kind: Some(ValueKind::StructValue(inner)) };
            inner = Struct { fields: [("a".to_owned(), value)].into() };
        }
        inner
    }

    #[test]
    fn every_request_type_is_in_the_pool() {
        for method in POOL.services().flat_map(|s| s.methods().collect::<Vec<_>>()) {
            assert!(descriptor(method.input().full_name()).is_some(), "{}", method.full_name());
        }
    }

    #[test]
    fn clean_requests_pass() {
        let request = pb::CreateUserRequest {
            email: "ada@example.com".into(),
            metadata: Some(nested_struct(10)),
            roles: vec!["a".into(), "b".into()],
            ..Default::default()
        };
        assert_eq!(check(&request), []);
    }

    #[test]
    fn nul_characters_are_named_by_their_path() {
        let request = pb::CreateUserRequest {
            email: "ada\0@example.com".into(),
            roles: vec!["ok".into(), "b\0d".into()],
            metadata: Some(Struct {
                fields: [(
                    "plan".to_owned(),
                    Value { kind: Some(ValueKind::StringValue("pro\0".into())) },
                )]
                .into(),
            }),
            ..Default::default()
        };
        let fields: Vec<String> = check(&request).into_iter().map(|v| v.field).collect();
        // In wire order: field numbers 1, 8, 9.
        assert_eq!(fields, ["email", "metadata.fields[\"plan\"].string_value", "roles[1]"]);
    }

    #[test]
    fn nul_in_a_map_key_is_reported() {
        let request = pb::CreateUserRequest {
            metadata: Some(Struct {
                fields: [("k\0".to_owned(), Value { kind: Some(ValueKind::BoolValue(true)) })]
                    .into(),
            }),
            ..Default::default()
        };
        let found = check(&request);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].field, "metadata.fields[\"k\\0\"]");
        assert!(found[0].description.contains("key"));
    }

    #[test]
    fn deep_nesting_is_refused_once_per_branch() {
        let request =
            pb::CreateUserRequest { metadata: Some(nested_struct(40)), ..Default::default() };
        let found = check(&request);
        assert_eq!(found.len(), 1);
        assert!(found[0].field.starts_with("metadata.fields[\"a\"]"), "{}", found[0].field);
        assert!(found[0].description.contains("nested too deeply"));
        // 21 levels of JSON fit.
        let request =
            pb::CreateUserRequest { metadata: Some(nested_struct(20)), ..Default::default() };
        assert_eq!(check(&request), []);
    }

    #[test]
    fn invalid_utf8_is_reported_and_garbage_is_left_to_prost() {
        let descriptor = descriptor("warden.v1.GetUserRequest").expect("known");
        // field 1 (id), length 2, bytes that are not UTF-8
        let found = violations(&descriptor, &[0x0a, 0x02, 0xff, 0xfe]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].field, "id");
        for garbage in [&[0x0a, 0x09, 0x61][..], &[0xff; 12], &[0x0b], &[]] {
            assert!(violations(&descriptor, garbage).is_empty());
        }
    }
}

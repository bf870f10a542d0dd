//! Seeded fuzzing of every RPC in the contract with a valid admin token:
//! random bytes, random well-typed messages (built from the descriptor, with
//! NUL characters, extreme numbers, bad timestamps and ids), the same
//! truncated, and broken gRPC framing. Passes when the server stays up, never
//! answers INTERNAL or UNKNOWN, and every error carries ErrorInfo.
//!
//! The seed is printed; `WARDEN_TEST_FUZZ_SEED=<n>` replays a run.

use std::time::Duration;

use bytes::Bytes;
use prost::Message as _;
use prost_reflect::{DescriptorPool, DynamicMessage, Kind, MapKey, MessageDescriptor, Value};
use rand::{Rng, SeedableRng, rngs::StdRng, seq::IndexedRandom};
use tonic::{Code, Status};
use tonic_types::StatusExt;
use warden_proto::{METHODS, MethodAccess};
use warden_tests::{
    ADMIN_EMAIL, ADMIN_PASSWORD, db_test,
    h2_raw::{RawClient, grpc_frame},
};

const SEED_VAR: &str = "WARDEN_TEST_FUZZ_SEED";
const DEFAULT_SEED: u64 = 0x0715_5eed;
/// Each RPC gets one payload of every kind.
const KINDS: [Payload; 5] =
    [Payload::Bytes, Payload::Message, Payload::Truncated, Payload::Framing, Payload::Message];

#[derive(Debug, Clone, Copy)]
enum Payload {
    /// Random bytes as one well-framed message.
    Bytes,
    /// A random message of the RPC's input type.
    Message,
    /// Such a message cut at a random point.
    Truncated,
    /// A body whose gRPC framing is broken.
    Framing,
}

db_test! {
    async fn random_and_truncated_requests_never_get_internal(app) {
        let seed = std::env::var(SEED_VAR).ok().and_then(|s| s.parse().ok()).unwrap_or(DEFAULT_SEED);
        eprintln!("wire fuzz: seed {seed} ({SEED_VAR}=<n> replays)");
        let mut rng = StdRng::seed_from_u64(seed);
        let pool = DescriptorPool::decode(warden_proto::FILE_DESCRIPTOR_SET).unwrap();
        let mut token = app.setup_admin().await.access_token;
        let mut client = RawClient::connect(app.addr).await;
        let mut calls = 0;
        for method in METHODS {
            let input = input_of(&pool, method);
            for kind in KINDS {
                let count = if method.client_streaming { rng.random_range(1..4) } else { 1 };
                let body: Vec<Bytes> =
                    (0..count).flat_map(|_| payload(&mut rng, &input, kind)).collect();
                let call = client.call(method.path, Some(&token), body);
                // A server stream may legitimately stay open; anything else answers.
                let answer = match tokio::time::timeout(Duration::from_secs(10), call).await {
                    Ok(answer) => answer.unwrap_or_else(|err| {
                        panic!("seed {seed}, {} ({kind:?}): the connection failed: {err}", method.path)
                    }),
                    Err(_) if method.server_streaming => continue,
                    Err(_) => panic!("seed {seed}, {} ({kind:?}): no answer", method.path),
                };
                check(&answer.status, &format!("seed {seed}, {} ({kind:?})", method.path));
                calls += 1;
                // Logout and friends end the admin's session: sign in again.
                if answer.status.code() == Code::Unauthenticated {
                    token = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.unwrap().access_token;
                }
            }
        }
        eprintln!("wire fuzz: {calls} calls");
        assert!(!client.is_closed(), "the server closed the connection");
        // Still serving: a well-formed call works.
        let request = warden_tests::authorized(
            warden_proto::v1::ListAdminsRequest::default(),
            &token,
        );
        warden_proto::v1::admin_auth_service_client::AdminAuthServiceClient::new(app.channel.clone())
            .list_admins(request)
            .await
            .expect("the server still answers");
    }
}

fn check(status: &Status, what: &str) {
    let code = status.code();
    assert!(!matches!(code, Code::Internal | Code::Unknown), "{what}: {status:?}");
    if code != Code::Ok {
        let info = status.get_error_details().error_info().cloned();
        let info = info.unwrap_or_else(|| panic!("{what}: no ErrorInfo in {status:?}"));
        assert_eq!(info.domain, "warden", "{what}");
        assert!(!info.reason.is_empty(), "{what}");
    }
}

fn input_of(pool: &DescriptorPool, method: &MethodAccess) -> MessageDescriptor {
    let (service, name) = method.path.trim_start_matches('/').split_once('/').unwrap();
    let service = pool.get_service_by_name(service).unwrap();
    let method = service.methods().find(|m| m.name() == name).unwrap();
    method.input()
}

/// The frames of one message of `kind` (a broken body for `Framing`).
fn payload(rng: &mut StdRng, input: &MessageDescriptor, kind: Payload) -> Vec<Bytes> {
    match kind {
        Payload::Bytes => {
            let len = rng.random_range(0..64);
            vec![grpc_frame(&(0..len).map(|_| rng.random()).collect::<Vec<u8>>())]
        }
        Payload::Message => vec![grpc_frame(&random_message(rng, input, 0).encode_to_vec())],
        Payload::Truncated => {
            let mut bytes = random_message(rng, input, 0).encode_to_vec();
            if bytes.is_empty() {
                bytes = vec![0x0a, 0x05, b'a'];
            }
            bytes.truncate(rng.random_range(0..bytes.len()));
            vec![grpc_frame(&bytes)]
        }
        Payload::Framing => {
            let whole = grpc_frame(&random_message(rng, input, 0).encode_to_vec());
            match rng.random_range(0..3) {
                // Cut anywhere before the end.
                0 => vec![whole.slice(..rng.random_range(1..whole.len()))],
                // A compressed flag nobody negotiated, or garbage.
                1 => {
                    let mut bytes = whole.to_vec();
                    bytes[0] = rng.random_range(1..=255);
                    vec![Bytes::from(bytes)]
                }
                // Not framed at all.
                _ => {
                    let len = rng.random_range(1..32);
                    vec![Bytes::from((0..len).map(|_| rng.random()).collect::<Vec<u8>>())]
                }
            }
        }
    }
}

/// A message with about half its fields set to random, often hostile, values.
fn random_message(
    rng: &mut StdRng,
    descriptor: &MessageDescriptor,
    depth: usize,
) -> DynamicMessage {
    let mut message = DynamicMessage::new(descriptor.clone());
    if depth > 4 {
        return message;
    }
    for field in descriptor.fields() {
        if !rng.random_bool(0.5) {
            continue;
        }
        let value = if field.is_map() {
            let Kind::Message(entry) = field.kind() else { unreachable!() };
            let (key, value) = (entry.map_entry_key_field(), entry.map_entry_value_field());
            let entries = (0..rng.random_range(0..3))
                .filter_map(|_| {
                    let key = map_key(rng, &key.kind())?;
                    Some((key, random_value(rng, &value.kind(), depth)))
                })
                .collect();
            Value::Map(entries)
        } else if field.is_list() {
            let items =
                (0..rng.random_range(0..4)).map(|_| random_value(rng, &field.kind(), depth));
            Value::List(items.collect())
        } else {
            random_value(rng, &field.kind(), depth)
        };
        message.set_field(&field, value);
    }
    message
}

fn random_value(rng: &mut StdRng, kind: &Kind, depth: usize) -> Value {
    match kind {
        Kind::Double => Value::F64(*[0.0, -1.5, f64::MAX, f64::NAN, 1e300].choose(rng).unwrap()),
        Kind::Float => Value::F32(rng.random()),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
            Value::I32(*[0, 1, -1, 50, 1000, i32::MAX, i32::MIN, rng.random()].choose(rng).unwrap())
        }
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => Value::I64(
            *[0, 1, -1, 1_700_000_000, 253_402_300_800, i64::MAX, i64::MIN, rng.random()]
                .choose(rng)
                .unwrap(),
        ),
        Kind::Uint32 | Kind::Fixed32 => Value::U32(rng.random()),
        Kind::Uint64 | Kind::Fixed64 => Value::U64(rng.random()),
        Kind::Bool => Value::Bool(rng.random()),
        Kind::String => Value::String(random_text(rng)),
        Kind::Bytes => {
            let len = rng.random_range(0..16);
            Value::Bytes((0..len).map(|_| rng.random()).collect::<Vec<u8>>().into())
        }
        Kind::Message(inner) => Value::Message(random_message(rng, inner, depth + 1)),
        Kind::Enum(descriptor) => {
            let known: Vec<i32> = descriptor.values().map(|v| v.number()).collect();
            let number = if rng.random_bool(0.8) {
                *known.choose(rng).unwrap()
            } else {
                *[-1, 99, i32::MAX].choose(rng).unwrap()
            };
            Value::EnumNumber(number)
        }
    }
}

fn map_key(rng: &mut StdRng, kind: &Kind) -> Option<MapKey> {
    Some(match kind {
        Kind::String => MapKey::String(random_text(rng)),
        Kind::Bool => MapKey::Bool(rng.random()),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => MapKey::I32(rng.random()),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => MapKey::I64(rng.random()),
        Kind::Uint32 | Kind::Fixed32 => MapKey::U32(rng.random()),
        Kind::Uint64 | Kind::Fixed64 => MapKey::U64(rng.random()),
        _ => return None,
    })
}

/// Plausible and hostile strings: ids, emails, scopes, tokens, NUL, long text.
fn random_text(rng: &mut StdRng) -> String {
    match rng.random_range(0..10) {
        0 => String::new(),
        1 => uuid::Uuid::now_v7().to_string(),
        2 => format!("user{}@example.com", rng.random_range(0..1000)),
        3 => ["users:read", "admins:write", "dashboard_admin", "nope"]
            .choose(rng)
            .unwrap()
            .to_string(),
        4 => format!("nul\0{}", rng.random_range(0..100)),
        5 => "é€😀\u{200b}".repeat(rng.random_range(1..4)),
        6 => "x".repeat(rng.random_range(200..3000)),
        7 => "eyJhbGciOiJFZERTQSJ9.e30.c2ln".to_owned(),
        _ => (0..rng.random_range(1..16)).map(|_| rng.random_range(' '..='~')).collect(),
    }
}

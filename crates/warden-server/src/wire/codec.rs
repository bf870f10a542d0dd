//! The codec of every warden service (build.rs sets it as the generated
//! servers' `codec_path`). Responses are encoded by prost as usual. Requests
//! are inspected first ([`inspect`]: NUL characters, invalid UTF-8, nesting)
//! and then decoded by prost; anything wrong is the caller's fault and is
//! answered INVALID_ARGUMENT / VALIDATION_FAILED with field violations, never
//! tonic's INTERNAL "failed to decode Protobuf message".

use std::marker::PhantomData;

use prost::{Message, Name};
use prost_reflect::MessageDescriptor;
use tonic::{
    Status,
    codec::{BufferSettings, Codec, DecodeBuf, Decoder},
};
use tonic_prost::ProstEncoder;
use warden_core::{DomainError, FieldViolation};

use super::inspect;
use crate::status::to_status;

/// Encodes `T` (responses), decodes and checks `U` (requests).
#[derive(Debug, Clone)]
pub struct WardenCodec<T, U> {
    _types: PhantomData<(T, U)>,
}

impl<T, U> Default for WardenCodec<T, U> {
    fn default() -> Self {
        Self { _types: PhantomData }
    }
}

impl<T, U> Codec for WardenCodec<T, U>
where
    T: Message + Send + 'static,
    U: Message + Name + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = RequestDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstEncoder::default()
    }

    /// One per call: the request's descriptor is looked up here, once.
    fn decoder(&mut self) -> Self::Decoder {
        let full_name = U::full_name();
        let descriptor = inspect::descriptor(&full_name);
        debug_assert!(descriptor.is_some(), "{full_name} is not in warden's descriptor set");
        RequestDecoder { descriptor, full_name, _type: PhantomData }
    }
}

#[derive(Debug)]
pub struct RequestDecoder<U> {
    descriptor: Option<MessageDescriptor>,
    full_name: String,
    _type: PhantomData<U>,
}

impl<U: Message + Default> Decoder for RequestDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        use prost::bytes::Buf as _;
        // tonic hands over one whole message, contiguous in its buffer.
        debug_assert_eq!(buf.chunk().len(), buf.remaining());
        if let Some(descriptor) = &self.descriptor {
            let found = inspect::violations(descriptor, buf.chunk());
            if !found.is_empty() {
                return Err(to_status(DomainError::Validation(found)));
            }
        }
        U::decode(buf).map(Some).map_err(|err| {
            // The field is unknown here: prost's text names it (innermost first).
            let description = format!("is not a valid {}: {err}", self.full_name);
            to_status(DomainError::Validation(vec![FieldViolation::new("", description)]))
        })
    }

    fn buffer_settings(&self) -> BufferSettings {
        BufferSettings::default()
    }
}

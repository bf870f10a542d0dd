//! Everything between HTTP/2 and the handlers that decides what a client sees
//! when its bytes are wrong or the framework answers by itself:
//!
//! - [`flow_control`]: the HTTP/2 windows, sized so that long client streams of
//!   small messages are never cut off by h2's flood protection;
//! - [`framing`]: a broken gRPC frame is INVALID_ARGUMENT, not INTERNAL;
//! - [`codec`] (with [`inspect`]): a malformed message, a NUL character or
//!   excessive nesting is INVALID_ARGUMENT with field violations;
//! - [`error_info`]: every failed status carries ErrorInfo, tonic's own too.

pub mod codec;
pub mod error_info;
pub mod flow_control;
pub mod framing;
pub mod inspect;
mod layer;

pub use layer::{Wire, WireLayer};

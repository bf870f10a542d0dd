//! What a client sees when its bytes are wrong: NUL characters,
//! deep nesting, undecodable messages, broken framing and oversized input are
//! INVALID_ARGUMENT (or OUT_OF_RANGE) with ErrorInfo and short details, never
//! INTERNAL; every error tonic produces by itself carries ErrorInfo too; a
//! seeded fuzz run over every RPC; and a long client stream of small DATA
//! frames is not cut off.

mod error_info;
mod fuzz;
mod input;
mod long_stream;

use warden_tests::invalid_details;

//! HTTP/2 flow-control windows, sized against h2's flood protection.
//!
//! h2 (0.4.20, `proto/streams/counts.rs`) charges every received DATA frame
//! smaller than 256 bytes `256 - len` against a connection budget, and gives
//! the charge back only when the application reads that frame. The budget is
//! half the connection window (never under 25,600). When it runs out, the
//! whole connection is closed: GOAWAY ENHANCE_YOUR_CALM "too_many_data_frames".
//!
//! gRPC clients such as grpc-python send every message of a client stream in
//! its own DATA frame. An ImportUsers row is ~100 bytes, so each one left
//! unread costs ~156 budget bytes for 100 window bytes. With hyper's defaults
//! (1 MiB stream and connection windows: budget 512 KiB) a client may have
//! ~10,000 rows in flight while the budget lasts for ~3,400: a handler busy
//! writing a batch for a moment got its connection closed.
//!
//! The fix is arithmetic, not luck: flow control stops a client once a
//! stream's window of unread bytes is in flight, so a stream window small
//! next to the connection window bounds the charge. With the windows below,
//! even a stream of empty messages (5-byte frames, the smallest a gRPC message
//! can be) fits the budget twice over. Windows are fixed: hyper's adaptive
//! window (off once a size is set) would move the budget with its estimate.

/// Unread request bytes one stream may have in flight: the HTTP/2 default,
/// and what grpc-go starts with.
pub const STREAM_WINDOW: u32 = 64 * 1024;

/// Unread request bytes one connection may have in flight, over all its
/// streams. Also sets h2's small-frame budget (half of it).
pub const CONNECTION_WINDOW: u32 = 16 * 1024 * 1024;

/// h2's constants, from the source cited above.
const SMALL_FRAME: usize = 256;
const EMPTY_GRPC_MESSAGE: usize = 5;

/// The most budget one stream can spend before flow control stops its sender:
/// a full window of frames `frame_len` bytes long, none read yet.
pub const fn worst_charge_of_one_stream(frame_len: usize) -> usize {
    (STREAM_WINDOW as usize).div_ceil(frame_len) * (SMALL_FRAME - frame_len)
}

/// h2's budget for a connection with our window.
pub const fn small_frame_budget() -> usize {
    CONNECTION_WINDOW as usize / 2
}

// Two streams of empty messages, neither read, still fit.
const _: () = assert!(2 * worst_charge_of_one_stream(EMPTY_GRPC_MESSAGE) <= small_frame_budget());

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_rows_leave_room_for_many_streams() {
        // A typical pre-hashed ImportUsers row: 100 bytes on the wire.
        let streams = small_frame_budget() / worst_charge_of_one_stream(100);
        assert!(streams >= 50, "{streams}");
    }
}

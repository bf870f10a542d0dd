//! Checks the gRPC framing of a request body as it streams in: every message
//! is a 5-byte prefix (compressed flag, big-endian length) and that many
//! bytes. tonic answers a broken frame INTERNAL ("Unexpected EOF decoding
//! stream", "protocol error: … compression flag", "Missing request message");
//! those are the caller's mistakes, so this wrapper ends the body with
//! INVALID_ARGUMENT / VALIDATION_FAILED first, and tonic hands that status
//! back unchanged. Oversized lengths are left to tonic's limit (OUT_OF_RANGE).

use std::{
    pin::Pin,
    task::{Context, Poll, ready},
};

use bytes::Bytes;
use http_body::{Body, Frame};
use tonic::Status;
use warden_core::DomainError;

use crate::status::to_status;

const PREFIX_LEN: usize = 5;

/// A request body whose framing is checked on the way through.
pub struct CheckedFraming<B> {
    inner: B,
    /// A unary request must carry exactly one message: none at all is a
    /// broken request, not an empty one.
    needs_a_message: bool,
    messages: u64,
    prefix: [u8; PREFIX_LEN],
    prefix_len: usize,
    /// Bytes of the current message still to come.
    body_left: u64,
    failed: bool,
}

impl<B> CheckedFraming<B> {
    pub fn new(inner: B, needs_a_message: bool) -> Self {
        Self {
            inner,
            needs_a_message,
            messages: 0,
            prefix: [0; PREFIX_LEN],
            prefix_len: 0,
            body_left: 0,
            failed: false,
        }
    }

    /// Follows the frames through one chunk of data.
    fn track(&mut self, mut data: &[u8]) -> Result<(), Status> {
        while !data.is_empty() {
            if self.body_left > 0 {
                let step = data.len().min(usize::try_from(self.body_left).unwrap_or(usize::MAX));
                self.body_left -= step as u64;
                data = &data[step..];
                if self.body_left == 0 {
                    self.messages += 1;
                }
                continue;
            }
            let step = data.len().min(PREFIX_LEN - self.prefix_len);
            self.prefix[self.prefix_len..self.prefix_len + step].copy_from_slice(&data[..step]);
            self.prefix_len += step;
            data = &data[step..];
            if self.prefix_len < PREFIX_LEN {
                continue;
            }
            self.prefix_len = 0;
            // No service accepts compression (tonic refuses a grpc-encoding
            // header before the body is read), so the flag must be 0.
            if self.prefix[0] != 0 {
                return Err(malformed(format!(
                    "message {} is flagged compressed ({}), but no compression was negotiated",
                    self.messages, self.prefix[0]
                )));
            }
            let len = u32::from_be_bytes([
                self.prefix[1],
                self.prefix[2],
                self.prefix[3],
                self.prefix[4],
            ]);
            self.body_left = u64::from(len);
            if len == 0 {
                self.messages += 1;
            }
        }
        Ok(())
    }

    /// The body ended: inside a message, or before the one a unary call needs?
    fn at_end(&self) -> Result<(), Status> {
        if self.prefix_len > 0 || self.body_left > 0 {
            return Err(malformed(format!(
                "the request ends inside message {} (the gRPC length prefix promises more bytes)",
                self.messages
            )));
        }
        if self.needs_a_message && self.messages == 0 {
            return Err(malformed("the request carries no message".to_owned()));
        }
        Ok(())
    }
}

fn malformed(description: String) -> Status {
    to_status(DomainError::validation("", description))
}

impl<B> Body for CheckedFraming<B>
where
    B: Body<Data = Bytes, Error = Status> + Unpin,
{
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        if self.failed {
            return Poll::Ready(None);
        }
        let polled = ready!(Pin::new(&mut self.inner).poll_frame(cx));
        let checked = match polled {
            Some(Ok(frame)) => match frame.data_ref().map(|data| self.track(data)) {
                Some(Err(status)) => Some(Err(status)),
                _ => Some(Ok(frame)),
            },
            None => self.at_end().err().map(Err),
            // The connection's own errors (a reset stream) pass unchanged.
            other => other,
        };
        if matches!(checked, Some(Err(_))) {
            self.failed = true;
        }
        Poll::Ready(checked)
    }
    // `is_end_stream` stays false (the default): tonic's `Body::new` would
    // otherwise replace an already finished body with an empty one, and the
    // missing-message check would never run.
}

#[cfg(test)]
mod tests {
    use http_body_util::{BodyExt, StreamBody};
    use tonic_types::StatusExt;

    use super::*;

    fn frame(payload: &[u8]) -> Vec<u8> {
        let mut out = vec![0];
        out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        out.extend_from_slice(payload);
        out
    }

    /// Feeds `chunks` through the check and returns how it ended.
    async fn run(chunks: Vec<Vec<u8>>, needs_a_message: bool) -> Result<usize, Status> {
        let stream = futures_util::stream::iter(
            chunks.into_iter().map(|c| Ok::<_, Status>(Frame::data(Bytes::from(c)))),
        );
        let mut body = CheckedFraming::new(StreamBody::new(stream), needs_a_message);
        let mut bytes = 0;
        while let Some(frame) = body.frame().await {
            bytes += frame?.into_data().map(|d| d.len()).unwrap_or(0);
        }
        Ok(bytes)
    }

    #[tokio::test]
    async fn whole_messages_in_any_chunking_pass() {
        let mut all = frame(b"hello");
        all.extend(frame(b""));
        all.extend(frame(b"world!"));
        for split in 0..all.len() {
            let chunks = vec![all[..split].to_vec(), all[split..].to_vec()];
            assert_eq!(run(chunks, true).await.ok(), Some(all.len()), "split at {split}");
        }
        assert_eq!(run(vec![], false).await.ok(), Some(0), "a stream may be empty");
    }

    #[tokio::test]
    async fn broken_framing_is_invalid_argument() {
        let whole = frame(b"hello");
        let mut compressed = whole.clone();
        compressed[0] = 1;
        let cases = [
            (vec![whole[..3].to_vec()], "inside message 0"),
            (vec![whole[..7].to_vec()], "inside message 0"),
            (vec![compressed], "flagged compressed"),
            (vec![], "no message"),
        ];
        for (chunks, expected) in cases {
            let status = run(chunks, true).await.expect_err(expected);
            assert_eq!(status.code(), tonic::Code::InvalidArgument);
            let details = status.get_error_details();
            assert_eq!(details.error_info().map(|i| i.reason.as_str()), Some("VALIDATION_FAILED"));
            let violation = &details.bad_request().expect("violation").field_violations[0];
            assert!(violation.description.contains(expected), "{}", violation.description);
        }
    }
}

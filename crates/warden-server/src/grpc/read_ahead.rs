//! Reads a client stream ahead of the code consuming it. ImportUsers writes
//! rows a batch at a time; while a batch is being written, the next rows keep
//! being read and decoded, so the client is not held up by the database and
//! h2's receive buffers are emptied as fast as frames arrive. What is read but
//! not yet consumed is bounded by a number of messages and a number of bytes,
//! so a stream of large messages cannot pile up in memory either.

use std::{future::Future, sync::Arc};

use prost::Message;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tonic::{Status, Streaming};

/// Reads at most this many messages ahead: two ImportUsers batches.
pub const MESSAGES: usize = 2 * warden_core::users::import::BATCH_SIZE;
/// ... and at most this many encoded bytes.
pub const BYTES: usize = 8 * 1024 * 1024;

/// The consuming end: items in stream order.
pub struct Ahead<T> {
    items: mpsc::Receiver<(T, OwnedSemaphorePermit)>,
}

impl<T> Ahead<T> {
    /// The next item; `None` once the stream has ended (or its reader failed:
    /// the reader's future returns that error).
    pub async fn next(&mut self) -> Option<T> {
        // The permit goes back as the item leaves the queue.
        self.items.recv().await.map(|(item, _permit)| item)
    }
}

/// Splits `stream` into a reader, which must be polled alongside the consumer
/// (e.g. with `tokio::try_join!`), and the [`Ahead`] the consumer takes items
/// from. `convert` runs on each message as soon as it is read.
pub fn read<M, T>(
    mut stream: Streaming<M>,
    mut convert: impl FnMut(M) -> Result<T, Status>,
) -> (impl Future<Output = Result<(), Status>>, Ahead<T>)
where
    M: Message,
{
    let budget = Arc::new(Semaphore::new(BYTES));
    let (sender, items) = mpsc::channel(MESSAGES);
    let reader = async move {
        while let Some(message) = stream.message().await? {
            // A message larger than the budget takes all of it.
            let size = message.encoded_len().clamp(1, BYTES) as u32;
            let permit = budget
                .clone()
                .acquire_many_owned(size)
                .await
                .map_err(|_| Status::internal("read-ahead budget closed"))?;
            if sender.send((convert(message)?, permit)).await.is_err() {
                break; // the consumer stopped: its error is the answer
            }
        }
        Ok(())
    };
    (reader, Ahead { items })
}

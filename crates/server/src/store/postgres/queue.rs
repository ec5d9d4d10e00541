//! The node's uploads, applied in groups: uploads wait in one queue, and a few workers each
//! take whatever has queued (up to [`MAX_GROUP`]) and apply it in one transaction
//! ([`super::ingest::group`]). Under a light load a group is one upload, taken as soon as it
//! comes; under a heavy one, the uploads that came while a group was written go together.
//!
//! Must never answer an upload before the transaction holding it has committed. When a group
//! fails (a deadlock with another node, a row one upload's data breaks), it is rolled back and
//! each of its uploads is applied again on its own, so one bad upload fails alone; uploads are
//! idempotent, so applying one again after a commit whose answer was lost changes nothing.
//!
//! An upload is answered within [`super::POOL_PATIENCE`]: when its group has not committed by
//! then (PostgreSQL gone silent, a network that drops everything, a queue longer than the
//! database can take), it is answered 503 and the agent sends it again later. Its group may
//! still commit afterwards; the resend is then a duplicate and changes nothing. An upload whose
//! request has gone by the time a worker takes it is left out.

use std::collections::HashSet;
use std::sync::Arc;

use deadpool_postgres::Pool;
use tokio::sync::{mpsc, oneshot, Mutex};

use super::ingest::group::{self, Upload};
use crate::error::{Error, Result};
use crate::model::DeviceIngest;

/// Workers, each with one connection while it writes a group: enough to keep the database
/// busy while another group's answer travels back, few enough to leave the pool to requests.
const WORKERS: usize = 4;
/// Most uploads in one group: bounds the wait of the first upload of a group.
const MAX_GROUP: usize = 64;
/// Uploads waiting for a worker before senders wait too (back-pressure).
const QUEUE: usize = 1024;

struct Queued {
    upload: Upload,
    reply: oneshot::Sender<Result<DeviceIngest>>,
}

/// The queue's sending end; cheap to clone. The workers end when every clone is gone.
#[derive(Clone)]
pub(super) struct IngestQueue {
    queue: mpsc::Sender<Queued>,
}

impl IngestQueue {
    /// Starts the workers on the current runtime, writing through `pool`.
    pub(super) fn start(pool: Pool) -> Self {
        let (queue, receiver) = mpsc::channel(QUEUE);
        let receiver = Arc::new(Mutex::new(receiver));
        for _ in 0..WORKERS {
            tokio::spawn(work(pool.clone(), Arc::clone(&receiver)));
        }
        Self { queue }
    }

    /// Applies `upload` in the next group and answers once that group has committed, or
    /// [`Error::Unanswered`] when that takes longer than [`super::POOL_PATIENCE`].
    pub(super) async fn apply(&self, upload: Upload) -> Result<DeviceIngest> {
        let (reply, answer) = oneshot::channel();
        let applied = async {
            self.queue
                .send(Queued { upload, reply })
                .await
                .map_err(|_| Error::Task("the upload workers have stopped".into()))?;
            answer
                .await
                .map_err(|_| Error::Task("an upload worker stopped before answering".into()))?
        };
        tokio::time::timeout(super::POOL_PATIENCE, applied)
            .await
            .unwrap_or_else(|_| {
                Err(Error::Unanswered(format!(
                    "PostgreSQL did not store the upload within {} s",
                    super::POOL_PATIENCE.as_secs()
                )))
            })
    }
}

/// One worker: takes a group from the queue, writes it, answers it; until the queue closes.
async fn work(pool: Pool, receiver: Arc<Mutex<mpsc::Receiver<Queued>>>) {
    // Uploads of a device that already had one in the group taken: the next group's first.
    let mut held: Vec<Queued> = Vec::new();
    loop {
        let mut taken = std::mem::take(&mut held);
        if taken.is_empty() {
            let mut rx = receiver.lock().await;
            match rx.recv().await {
                Some(q) => taken.push(q),
                None => return,
            }
            fill(&mut rx, &mut taken);
        } else if let Ok(mut rx) = receiver.try_lock() {
            // With uploads held, never wait for the queue: another worker may hold it while
            // it waits for an upload that does not come.
            fill(&mut rx, &mut taken);
        }
        let mut seen: HashSet<String> = HashSet::with_capacity(taken.len());
        let mut group = Vec::with_capacity(taken.len());
        for q in taken {
            if q.reply.is_closed() {
                // Its request was answered 503 (or went away): the agent sends it again.
                continue;
            }
            // One secret is one device: its second upload waits for the next group.
            if seen.insert(q.upload.secret_hash.clone()) {
                group.push(q);
            } else {
                held.push(q);
            }
        }
        if !group.is_empty() {
            write(&pool, group).await;
        }
    }
}

/// Adds what has queued to `taken`, up to [`MAX_GROUP`], without waiting.
fn fill(rx: &mut mpsc::Receiver<Queued>, taken: &mut Vec<Queued>) {
    while taken.len() < MAX_GROUP {
        match rx.try_recv() {
            Ok(q) => taken.push(q),
            Err(_) => break,
        }
    }
}

/// Writes `group` in one transaction and answers each upload; when that fails, writes each
/// upload on its own.
async fn write(pool: &Pool, group: Vec<Queued>) {
    let (uploads, replies): (Vec<Upload>, Vec<_>) =
        group.into_iter().map(|q| (q.upload, q.reply)).unzip();
    match in_one_transaction(pool, &uploads).await {
        Ok(answers) => {
            for (reply, answer) in replies.into_iter().zip(answers) {
                // The request may have gone away (cancelled): nothing to tell then.
                let _ = reply.send(Ok(answer));
            }
        }
        Err(e) if uploads.len() == 1 => {
            let _ = replies.into_iter().next().map(|r| r.send(Err(e)));
        }
        Err(e) => {
            tracing::debug!(uploads = uploads.len(), error = %e, "a group of uploads failed; applying each on its own");
            for (reply, upload) in replies.into_iter().zip(&uploads) {
                let _ = reply.send(
                    in_one_transaction(pool, std::slice::from_ref(upload))
                        .await
                        .and_then(|mut a| {
                            a.pop()
                                .ok_or_else(|| Error::Corrupt("an upload was not answered".into()))
                        }),
                );
            }
        }
    }
}

async fn in_one_transaction(pool: &Pool, uploads: &[Upload]) -> Result<Vec<DeviceIngest>> {
    let mut client = super::client_of(pool).await?;
    let tx = client.transaction().await?;
    let answers = group::apply(&tx, uploads).await?;
    tx.commit().await?;
    Ok(answers)
}

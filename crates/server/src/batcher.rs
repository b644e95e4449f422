//! Group commit at the Raft level: concurrent single-key KV writes are gathered into one
//! `Command::Batch` entry, so they share one log append and one fsync.
//!
//! openraft 0.9 waits for each append's flush before it submits the next, so without this
//! every write pays its own fdatasync however many clients write at once. One batch is in
//! flight at a time; requests that arrive meanwhile form the next batch. A key never
//! appears twice in a batch (a repeat starts the next one), which keeps every key's
//! ModifyIndex unique per write, so CAS and blocking queries behave exactly as unbatched.

use crate::{ServerError, unix_ms};
use proconsul_consensus::Consensus;
use proconsul_state::{Command, Request, Response};
use std::collections::HashSet;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Most writes one entry carries (bounds entry size and apply time).
const MAX_BATCH: usize = 256;
/// Writes that may wait for the batcher before callers feel backpressure.
pub(crate) const QUEUE_CAPACITY: usize = 4096;

pub(crate) type Reply = oneshot::Sender<Result<(u64, Response), ServerError>>;
pub(crate) type Pending = (Command, Reply);

pub(crate) async fn run(consensus: Arc<Consensus>, mut queue: mpsc::Receiver<Pending>) {
    let mut carry: Option<Pending> = None;
    loop {
        let first = match carry.take() {
            Some(pending) => pending,
            None => match queue.recv().await {
                Some(pending) => pending,
                None => return,
            },
        };
        let mut keys: HashSet<String> = first.0.batch_key().into_iter().collect();
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            let Ok(next) = queue.try_recv() else { break };
            let key = next.0.batch_key().unwrap_or_default();
            if !keys.insert(key) {
                carry = Some(next);
                break;
            }
            batch.push(next);
        }
        propose(&consensus, batch).await;
    }
}

async fn propose(consensus: &Consensus, batch: Vec<Pending>) {
    let (mut commands, replies): (Vec<Command>, Vec<Reply>) = batch.into_iter().unzip();
    let command = if commands.len() == 1 {
        commands.remove(0)
    } else {
        Command::Batch(commands)
    };
    let count = replies.len();
    let outcome = consensus
        .propose(Request {
            now_ms: unix_ms(),
            command,
        })
        .await;
    match outcome {
        Ok((index, Response::Batch(responses))) if responses.len() == count => {
            for (reply, response) in replies.into_iter().zip(responses) {
                let _ = reply.send(Ok((index, response)));
            }
        }
        Ok((index, response)) if count == 1 => {
            if let Some(reply) = replies.into_iter().next() {
                let _ = reply.send(Ok((index, response)));
            }
        }
        Ok((_, other)) => {
            let text = format!("unexpected answer to a batch of {count}: {other:?}");
            for reply in replies {
                let _ = reply.send(Err(ServerError::Propose(text.clone())));
            }
        }
        Err(err) => {
            let text = err.to_string();
            for reply in replies {
                let _ = reply.send(Err(ServerError::Propose(text.clone())));
            }
        }
    }
}

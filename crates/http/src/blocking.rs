//! Blocking queries: answer at once when the data's index is past the client's `index`,
//! otherwise wait on the narrowest watch covering the answer until it fires or the wait
//! (plus jitter) runs out, then answer with whatever is current.

use crate::context::Context;
use crate::error::HttpError;
use crate::query::ReadOptions;
use proconsul_consensus::ReadMeta;
use proconsul_state::{Store, Watch};
use tokio::time::Instant;

/// Runs `run` (which returns the answer's index and body) until it may be returned; `watch`
/// names the watch point, registered under the same store lock so no change slips between
/// reading and waiting.
pub async fn blocking_read<T>(
    ctx: &Context,
    opts: &ReadOptions,
    mut run: impl FnMut(&Store) -> (u64, T),
    watch: impl Fn(&Store) -> Watch,
) -> Result<(u64, T, ReadMeta), HttpError> {
    let deadline = Instant::now() + opts.wait_with_jitter();
    loop {
        let ((index, value, pending), meta) = ctx
            .server
            .read(opts.consistency, |store| {
                let (index, value) = run(store);
                // Block only if the client asked to and nothing newer than its index exists.
                let wait = opts.min_index > 0 && index <= opts.min_index;
                (index, value, wait.then(|| watch(store)))
            })
            .await?;
        let Some(pending) = pending else {
            return Ok((index, value, meta));
        };
        if Instant::now() >= deadline {
            return Ok((index, value, meta));
        }
        tokio::select! {
            _ = pending.fired() => {}
            _ = tokio::time::sleep_until(deadline) => {}
        }
    }
}

//! The revocation signal: a pub/sub subscription that tells readers when
//! the revocation log has grown, and whether they can trust that news.
//!
//! One task per store holds a subscription to `PREFIXrevocations`, on which
//! every [`revoke`](auth_core::store::RevocationStore::revoke) publishes.
//! Each message bumps `notices`; losing the connection sets `connected` to
//! false; a new subscription sets it back and bumps `notices`, because
//! messages may have been missed in between. A `PING` every second finds a
//! connection that died without closing. In a cluster, classic pub/sub
//! messages reach every node, so the task subscribes on any one of the
//! seed nodes, trying the next one at each reconnection.

use std::time::Duration;

use auth_core::store::RevocationSignal;
use deadpool_redis::redis::{self, Value};
use futures_util::StreamExt;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How often the subscription is checked with a `PING`.
const PING_EVERY: Duration = Duration::from_secs(1);
/// The first wait before reconnecting.
const BACKOFF_MIN: Duration = Duration::from_millis(50);
/// The longest wait before reconnecting.
const BACKOFF_MAX: Duration = Duration::from_secs(1);

/// The subscriber task, stopped when the last clone of its store drops.
pub(crate) struct Subscriber {
    receiver: watch::Receiver<RevocationSignal>,
    task: JoinHandle<()>,
}

impl Subscriber {
    /// Starts the task and waits up to `connect_timeout` for the first
    /// subscription (it goes on trying after that).
    ///
    /// The URLs must parse: the store has already opened a pool with them.
    pub(crate) async fn start(
        urls: Vec<String>,
        channel: String,
        connect_timeout: Duration,
        command_timeout: Duration,
    ) -> Self {
        let (sender, receiver) = watch::channel(RevocationSignal::default());
        let task = tokio::spawn(subscribe_forever(
            urls,
            channel,
            sender,
            connect_timeout,
            command_timeout,
        ));

        let mut first = receiver.clone();
        let _ = tokio::time::timeout(connect_timeout, first.wait_for(|s| s.connected)).await;
        Self { receiver, task }
    }

    /// A new receiver of the signal.
    pub(crate) fn receiver(&self) -> watch::Receiver<RevocationSignal> {
        self.receiver.clone()
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn subscribe_forever(
    urls: Vec<String>,
    channel: String,
    sender: watch::Sender<RevocationSignal>,
    connect_timeout: Duration,
    command_timeout: Duration,
) {
    let mut backoff = BACKOFF_MIN;
    let mut attempt = 0usize;

    loop {
        let url = &urls[attempt % urls.len()];
        attempt = attempt.wrapping_add(1);

        let subscribed = tokio::time::timeout(connect_timeout, subscribe(url, &channel)).await;
        match subscribed {
            Ok(Ok(pubsub)) => {
                backoff = BACKOFF_MIN;
                sender.send_modify(|s| {
                    s.connected = true;
                    s.notices += 1;
                });
                tracing::debug!(channel = %channel, "revocation signal subscribed");

                listen(pubsub, &sender, command_timeout).await;

                sender.send_modify(|s| s.connected = false);
                tracing::warn!(
                    channel = %channel,
                    "revocation signal lost its subscription; reconnecting"
                );
            }
            Ok(Err(error)) => {
                tracing::debug!(error = %error, "revocation signal could not subscribe");
            }
            Err(_) => tracing::debug!("revocation signal timed out subscribing"),
        }

        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}

async fn subscribe(url: &str, channel: &str) -> redis::RedisResult<redis::aio::PubSub> {
    let client = redis::Client::open(url)?;
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(channel).await?;
    Ok(pubsub)
}

/// Counts messages until the subscription ends or stops answering.
async fn listen(
    pubsub: redis::aio::PubSub,
    sender: &watch::Sender<RevocationSignal>,
    command_timeout: Duration,
) {
    let (mut sink, mut stream) = pubsub.split();
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

    loop {
        tokio::select! {
            message = stream.next() => match message {
                Some(_) => sender.send_modify(|s| s.notices += 1),
                None => return,
            },
            _ = ping.tick() => {
                let answer = tokio::time::timeout(command_timeout, sink.ping::<Value>()).await;
                if !matches!(answer, Ok(Ok(_))) {
                    return;
                }
            }
        }
    }
}

//! `Invalidations`: what one node publishes every node hears (itself
//! included), each change as it was sent, none lost in a burst, every
//! listener of a node told; and a channel that loses its connection says so
//! (`Everything`, not live) and comes back by itself. Run against every
//! channel: one process's own, PostgreSQL `LISTEN/NOTIFY`, the polled table
//! (SQLite, MySQL/MariaDB), Redis pub/sub.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::model::{Invalidation, TokenHash, UserId};
use crate::ports::Invalidations;

/// Two nodes' ends of one channel (for one process's channel, one end twice).
pub struct Channel {
    /// Names the channel in failure messages.
    pub label: String,
    /// The publishing node's end.
    pub first: Arc<dyn Invalidations>,
    /// Another node's end.
    pub second: Arc<dyn Invalidations>,
}

/// What a listener heard, in order.
#[derive(Clone, Default)]
struct Heard(Arc<Mutex<Vec<Invalidation>>>);

impl Heard {
    fn listen_to(&self, end: &dyn Invalidations) {
        let heard = self.0.clone();
        end.subscribe(Arc::new(move |change| heard.lock().unwrap().push(change.clone())));
    }

    fn all(&self) -> Vec<Invalidation> {
        self.0.lock().unwrap().clone()
    }

    fn has(&self, change: &Invalidation) -> bool {
        self.0.lock().unwrap().contains(change)
    }

    fn clear(&self) {
        self.0.lock().unwrap().clear();
    }
}

async fn eventually(label: &str, what: &str, check: impl Fn() -> bool) {
    for _ in 0..400 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{label}: {what} did not happen within 10 s");
}

fn token(letter: char) -> Invalidation {
    Invalidation::Token(TokenHash(letter.to_string().repeat(64)))
}

/// Runs every check but the loss of the connection.
pub async fn run(channel: &Channel) {
    let label = channel.label.as_str();
    let (first, second) = (channel.first.as_ref(), channel.second.as_ref());
    let (on_first, on_second, also_on_second) = (Heard::default(), Heard::default(), Heard::default());
    on_first.listen_to(first);
    on_second.listen_to(second);
    also_on_second.listen_to(second);
    eventually(label, "both ends live", || first.is_live() && second.is_live()).await;

    // Each kind of change arrives as it was sent, at every node and every
    // listener, the publisher's own included.
    let changes = [
        token('a'),
        Invalidation::User(UserId(7)),
        Invalidation::Everything,
    ];
    for change in &changes {
        first.publish(change.clone()).await.unwrap();
    }
    for (who, heard) in [
        ("the other node", &on_second),
        ("its second listener", &also_on_second),
        ("the publisher", &on_first),
    ] {
        eventually(label, &format!("{who} hearing every change"), || {
            changes.iter().all(|change| heard.has(change))
        })
        .await;
    }

    // A burst from both ends: nothing lost.
    for heard in [&on_first, &on_second] {
        heard.clear();
    }
    let burst: Vec<Invalidation> = (0..60).map(|n| Invalidation::User(UserId(1000 + n))).collect();
    for (n, change) in burst.iter().enumerate() {
        let end = if n % 2 == 0 { first } else { second };
        end.publish(change.clone()).await.unwrap();
    }
    for (who, heard) in [("the first node", &on_first), ("the second node", &on_second)] {
        eventually(label, &format!("{who} hearing all 60 of a burst"), || {
            burst.iter().all(|change| heard.has(change))
        })
        .await;
    }
    // What one end published, it heard in the order it published.
    let from_first: Vec<Invalidation> = burst.iter().step_by(2).cloned().collect();
    let heard_from_first: Vec<Invalidation> = on_second
        .all()
        .into_iter()
        .filter(|change| from_first.contains(change))
        .collect();
    assert_eq!(
        heard_from_first, from_first,
        "{label}: one node's changes in its order"
    );
}

/// After `cut` breaks the second end's connection: it hears `Everything`
/// (its cache may have missed changes), is live again by itself, and hears
/// what is published after.
pub async fn heals_after_a_lost_connection(channel: &Channel, cut: impl Future<Output = ()>) {
    let label = channel.label.as_str();
    let heard = Heard::default();
    heard.listen_to(channel.second.as_ref());
    eventually(label, "both ends live", || {
        channel.first.is_live() && channel.second.is_live()
    })
    .await;
    cut.await;
    eventually(label, "the loss told as Everything", || {
        heard.has(&Invalidation::Everything)
    })
    .await;
    eventually(label, "live again", || channel.second.is_live()).await;
    let after = Invalidation::User(UserId(8));
    channel.first.publish(after.clone()).await.unwrap();
    eventually(label, "hearing a change published after the loss", || {
        heard.has(&after)
    })
    .await;
}

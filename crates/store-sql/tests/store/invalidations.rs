//! The database as the nodes' invalidation channel (LISTEN/NOTIFY on
//! PostgreSQL, the polled table elsewhere): what one node publishes another
//! hears; on PostgreSQL a listening connection that is killed makes the
//! channel "down" (and flushes), and it comes back by itself.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use limen_domain::model::{Invalidation, UserId};
use sea_orm::ConnectionTrait;

use crate::engines;

async fn eventually(what: &str, check: impl Fn() -> bool) {
    for _ in 0..200 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{what} did not happen within 5 s");
}

#[tokio::test]
async fn changes_published_on_one_node_are_heard_on_another_and_a_lost_listener_comes_back() {
    for test in engines::all().await {
        let interval = Duration::from_millis(50);
        let (first, second) = (test.db.invalidations(interval), test.db.invalidations(interval));
        let heard = Arc::new(Mutex::new(Vec::new()));
        let sink = heard.clone();
        second.subscribe(Arc::new(move |change| sink.lock().unwrap().push(change.clone())));
        eventually("listening", || first.is_live() && second.is_live()).await;
        first.publish(Invalidation::User(UserId(7))).await.unwrap();
        eventually("hearing", || {
            heard.lock().unwrap().contains(&Invalidation::User(UserId(7)))
        })
        .await;
        if test.engine != "postgres" {
            drop((first, second));
            test.drop_database().await;
            continue;
        }

        heard.lock().unwrap().clear();
        test.db
            .connection()
            .execute_unprepared(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = current_database() AND query LIKE 'LISTEN%'",
            )
            .await
            .unwrap();
        eventually("noticing the loss", || {
            heard.lock().unwrap().contains(&Invalidation::Everything)
        })
        .await;
        eventually("listening again", || second.is_live()).await;
        first.publish(Invalidation::User(UserId(8))).await.unwrap();
        eventually("hearing again", || {
            heard.lock().unwrap().contains(&Invalidation::User(UserId(8)))
        })
        .await;
        drop((first, second));
        test.drop_database().await;
    }
}

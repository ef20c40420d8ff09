//! The database as the nodes' invalidation channel (LISTEN/NOTIFY on
//! PostgreSQL, the polled table elsewhere), through the suite every channel
//! passes; on PostgreSQL a listening connection that is killed makes the
//! channel "down" (and flushes), and it comes back by itself.

use std::time::Duration;

use limen_domain::conformance::invalidations::{Channel, heals_after_a_lost_connection, run};
use sea_orm::ConnectionTrait;

use crate::engines;

#[tokio::test]
async fn every_engine_passes_the_invalidations_suite_and_a_lost_listener_comes_back() {
    for test in engines::all().await {
        let interval = Duration::from_millis(50);
        let channel = Channel {
            label: format!("{} invalidations", test.engine),
            first: test.db.invalidations(interval),
            second: test.db.invalidations(interval),
        };
        run(&channel).await;
        if test.engine == "postgres" {
            let cut = async {
                test.db
                    .connection()
                    .execute_unprepared(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                         WHERE datname = current_database() AND query LIKE 'LISTEN%'",
                    )
                    .await
                    .unwrap();
            };
            heals_after_a_lost_connection(&channel, cut).await;
        }
        drop(channel);
        test.drop_database().await;
    }
}

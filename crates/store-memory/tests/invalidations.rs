//! One process's invalidation channel through the suite every channel passes
//! (its two "nodes" are one: a single node tells only its own cache).

use std::sync::Arc;

use limen_domain::conformance::invalidations::{Channel, run};
use limen_store_memory::LocalInvalidations;

#[tokio::test]
async fn the_process_channel_passes_the_invalidations_suite() {
    let local = Arc::new(LocalInvalidations::new());
    let channel = Channel {
        label: "in-process invalidations".into(),
        first: local.clone(),
        second: local,
    };
    run(&channel).await;
}

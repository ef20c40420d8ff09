//! The SQL token store against the domain's conformance suite.

use std::sync::Arc;

use limen_domain::conformance::session_tokens;

use crate::engines;

#[tokio::test]
async fn the_sql_token_store_passes_the_conformance_suite() {
    for test in engines::all().await {
        session_tokens::run(Arc::new(test.db.tokens()), test.engine).await;
        test.drop_database().await;
    }
}

//! The audit trail on every engine: kept as given, read newest first by user,
//! kind and time, in pages, purged by age.

use chrono::{Duration, DurationRound, Utc};
use limen_domain::model::{AuditEvent, AuditKind, AuditQuery, UserId};
use limen_domain::ports::AuditLog;

use crate::engines;

fn event(kind: AuditKind, minutes_ago: i64, user: Option<i64>, name: &str) -> AuditEvent {
    let now = Utc::now().duration_trunc(Duration::microseconds(1)).unwrap();
    AuditEvent {
        id: None,
        at: now - Duration::minutes(minutes_ago),
        kind,
        user_id: user.map(UserId),
        username: Some(name.to_owned()),
        actor: "request".into(),
        client: Some("2001:db8::7".into()),
        dialect: Some("lime".into()),
        method: Some("password".into()),
        detail: Some("wrong_credentials".into()),
        request_id: Some("req-1".into()),
    }
}

/// The events without the ids the store gave them.
fn unnumbered(events: Vec<AuditEvent>) -> Vec<AuditEvent> {
    events
        .into_iter()
        .map(|event| {
            assert!(event.id.is_some(), "a stored event has an id");
            AuditEvent { id: None, ..event }
        })
        .collect()
}

#[tokio::test]
async fn events_are_kept_read_by_user_and_time_and_purged_by_age() {
    for test in engines::all().await {
        let log = test.db.audit_log();
        let old = event(AuditKind::LoginFailed, 60 * 24 * 100, Some(1), "ann");
        let ann_failed = event(AuditKind::LoginFailed, 30, Some(1), "ann");
        let nobody = event(AuditKind::LoginFailed, 20, None, "ann");
        let bob = event(AuditKind::LoginSucceeded, 10, Some(2), "bob");
        let command = AuditEvent {
            actor: "cli:root".into(),
            client: None,
            dialect: None,
            method: None,
            request_id: None,
            detail: Some("user unlock ann".into()),
            ..event(AuditKind::AdminCommand, 5, None, "ann")
        };
        for each in [&old, &ann_failed, &nobody, &bob, &command] {
            log.append(each).await.unwrap();
        }

        let all = unnumbered(
            log.list(&AuditQuery {
                limit: 100,
                ..AuditQuery::default()
            })
            .await
            .unwrap(),
        );
        assert_eq!(
            all,
            vec![
                command.clone(),
                bob.clone(),
                nobody.clone(),
                ann_failed.clone(),
                old.clone()
            ],
            "{}",
            test.engine
        );

        let anns = unnumbered(
            log.list(&AuditQuery {
                user: Some((Some(UserId(1)), "ann".into())),
                since: Some(Utc::now() - Duration::hours(1)),
                limit: 100,
                ..AuditQuery::default()
            })
            .await
            .unwrap(),
        );
        assert_eq!(
            anns,
            vec![command.clone(), nobody.clone(), ann_failed.clone()],
            "{}",
            test.engine
        );

        let newest = log
            .list(&AuditQuery {
                limit: 2,
                ..AuditQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(
            unnumbered(newest.clone()),
            vec![command.clone(), bob.clone()],
            "{}",
            test.engine
        );
        let last = newest.last().unwrap();
        let next_page = unnumbered(
            log.list(&AuditQuery {
                limit: 2,
                before: Some((last.at, last.id.unwrap())),
                ..AuditQuery::default()
            })
            .await
            .unwrap(),
        );
        assert_eq!(
            next_page,
            vec![nobody.clone(), ann_failed.clone()],
            "{}",
            test.engine
        );
        let failures = unnumbered(
            log.list(&AuditQuery {
                kind: Some(AuditKind::LoginFailed),
                limit: 100,
                ..AuditQuery::default()
            })
            .await
            .unwrap(),
        );
        assert_eq!(
            failures,
            vec![nobody.clone(), ann_failed.clone(), old.clone()],
            "{}",
            test.engine
        );

        let purged = log.purge_before(Utc::now() - Duration::days(90)).await.unwrap();
        assert_eq!(purged, 1, "{}", test.engine);
        let left = log
            .list(&AuditQuery {
                limit: 100,
                ..AuditQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(left.len(), 4, "{}", test.engine);
        test.drop_database().await;
    }
}

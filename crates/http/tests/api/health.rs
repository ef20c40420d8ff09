use actix_web::http::StatusCode;
use actix_web::test::TestRequest;

use crate::helpers::TestApp;

#[actix_web::test]
async fn health_and_readiness_answer_when_the_database_does() {
    let app = TestApp::new().await;
    let health = app.send(TestRequest::get().uri("/healthz")).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.json()["status"], "ok");
    let ready = app.send(TestRequest::get().uri("/readyz")).await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(ready.json()["status"], "ready");
}

#[actix_web::test]
async fn readiness_fails_when_the_database_is_gone() {
    let app = TestApp::new().await;
    app.db.clone().close().await.unwrap();
    let ready = app.send(TestRequest::get().uri("/readyz")).await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ready.json()["status"], "unavailable");
}

#[actix_web::test]
async fn unknown_routes_are_404_in_json() {
    let app = TestApp::new().await;
    let answer = app.send(TestRequest::get().uri("/nope")).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.json()["code"], 404);
}

#[actix_web::test]
async fn other_methods_on_service_routes_are_405_in_json() {
    let app = TestApp::new().await;
    for path in ["/healthz", "/readyz", "/openapi.json"] {
        let answer = app.send(TestRequest::post().uri(path)).await;
        assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED, "{path}");
        assert_eq!(answer.headers.get("allow").unwrap(), "GET");
        assert_eq!(answer.json()["code"], 405);
    }
}

//! The authenticated session of a request, as an extractor.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use limen_domain::DomainError;
use limen_domain::services::Session;

use super::FlowError;
use crate::AppState;
use crate::credentials::request_token;

/// The session whose token (Bearer, `access_token` or cookie) the request carries;
/// 401 in the dialect's shape otherwise.
pub struct FlowSession(pub Session);

impl FromRequest for FlowSession {
    type Error = FlowError;
    type Future = LocalBoxFuture<'static, Result<Self, FlowError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| DomainError::Internal("application state is not registered".into()))?;
            let token = request_token(&req)?;
            Ok(FlowSession(state.services.sessions.authenticate(&token).await?))
        })
    }
}

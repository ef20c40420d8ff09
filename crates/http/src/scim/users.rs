//! `/Users` (RFC 7644 §3): create, read, list with a filter, replace, patch
//! and delete Limen's users. Profile attributes live in the user directory
//! (a read-only one refuses their change with 409); `active` and
//! `externalId` are Limen's own, on every backend.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use limen_domain::DomainError;
use limen_domain::model::{AdminScope, Password, User, UserId, normalize_identifier};
use limen_domain::services::{NewAccount, UserUpdate};
use serde::Deserialize;
use serde_json::Value;

use super::discovery::list_page;
use super::error::ScimError;
use super::filter::{Equals, Filter, Value as Compared, parse};
use super::paths::Attribute;
use super::resource::{ScimUser, project, user_json};
use super::{MAX_RESULTS, SCIM_JSON, base_url, read_json, scim};
use crate::AppState;
use crate::admin::etag;

/// Attempts of a change that met a concurrent one before it is given up.
const ATTEMPTS: usize = 3;

/// Which attributes an answer holds.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Projection {
    attributes: Option<String>,
    excluded_attributes: Option<String>,
}

impl Projection {
    fn split(list: Option<&str>) -> Vec<String> {
        list.unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|path| !path.is_empty())
            .map(str::to_owned)
            .collect()
    }

    fn apply(&self, resource: Value) -> Value {
        project(
            resource,
            &Self::split(self.attributes.as_deref()),
            &Self::split(self.excluded_attributes.as_deref()),
        )
    }
}

/// A listing's query parameters (or a SearchRequest's fields).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Search {
    filter: Option<String>,
    start_index: Option<i64>,
    count: Option<i64>,
    #[serde(flatten)]
    projection: Projection,
}

/// A SearchRequest (`POST /.search`): lists instead of comma-separated strings.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SearchRequest {
    filter: Option<String>,
    start_index: Option<i64>,
    count: Option<i64>,
    #[serde(default)]
    attributes: Vec<String>,
    #[serde(default)]
    excluded_attributes: Vec<String>,
}

/// `GET /Users`.
pub(crate) async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<Search>,
) -> HttpResponse {
    scim(&req, &state, AdminScope::Scim, async {
        search(&req, &state, &query).await
    })
    .await
}

/// `POST /Users/.search` and `POST /.search`.
pub(crate) async fn search_request(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> HttpResponse {
    scim(&req, &state, AdminScope::Scim, async {
        let body: SearchRequest = serde_json::from_value(read_json(&req, payload).await?)
            .map_err(|err| ScimError::invalid_syntax(format!("not a SearchRequest: {err}")))?;
        let query = Search {
            filter: body.filter,
            start_index: body.start_index,
            count: body.count,
            projection: Projection {
                attributes: Some(body.attributes.join(",")),
                excluded_attributes: Some(body.excluded_attributes.join(",")),
            },
        };
        search(&req, &state, &query).await
    })
    .await
}

async fn search(req: &HttpRequest, state: &AppState, query: &Search) -> Result<HttpResponse, ScimError> {
    let filter = query
        .filter
        .as_deref()
        .map(parse)
        .transpose()?
        .unwrap_or_default();
    // RFC 7644 §3.4.2.4: a startIndex below 1 is 1, a negative count 0.
    let start = usize::try_from(query.start_index.unwrap_or(1).max(1)).unwrap_or(1);
    let count = usize::try_from(
        query
            .count
            .unwrap_or(MAX_RESULTS as i64)
            .clamp(0, MAX_RESULTS as i64),
    )
    .unwrap_or(0);
    let matching = matching_users(state, &filter).await?;
    let base = base_url(req);
    let resources: Vec<Value> = matching
        .iter()
        .skip(start - 1)
        .take(count)
        .map(|user| query.projection.apply(user_json(user, &base)))
        .collect();
    Ok(super::scim_json(list_page(matching.len(), start, resources)))
}

/// The users every comparison of `filter` holds for, in id order. A
/// comparison of the username, address, id or externalId is looked up;
/// without one, the directory is read whole.
async fn matching_users(state: &AppState, filter: &Filter) -> Result<Vec<User>, ScimError> {
    let accounts = &state.services.accounts;
    let users = &state.services.users;
    let looked_up = filter
        .iter()
        .find_map(|term| match (&term.attribute, &term.value) {
            (Attribute::Id, Compared::Text(id)) => Some(Lookup::Id(id.clone())),
            (Attribute::UserName, Compared::Text(name)) => Some(Lookup::UserName(name.clone())),
            (Attribute::Email | Attribute::Emails, Compared::Text(email)) => {
                Some(Lookup::Email(email.clone()))
            }
            (Attribute::ExternalId, Compared::Text(id)) => Some(Lookup::ExternalId(id.clone())),
            _ => None,
        });
    let mut candidates = match looked_up {
        Some(Lookup::Id(id)) => match id.parse::<i64>() {
            Ok(id) => users.by_id(UserId(id)).await?.into_iter().collect(),
            Err(_) => Vec::new(),
        },
        Some(Lookup::UserName(name)) => users
            .by_username(&normalize_identifier(&name))
            .await?
            .into_iter()
            .collect(),
        Some(Lookup::Email(email)) => users
            .by_email(&normalize_identifier(&email))
            .await?
            .into_iter()
            .collect(),
        Some(Lookup::ExternalId(id)) => accounts.by_scim_external_id(&id).await?,
        None => accounts
            .list()
            .await?
            .into_iter()
            .map(|summary| summary.user)
            .collect(),
    };
    candidates.retain(|user| filter.iter().all(|term| holds(term, user)));
    candidates.sort_by_key(|user| user.id);
    Ok(candidates)
}

enum Lookup {
    Id(String),
    UserName(String),
    Email(String),
    ExternalId(String),
}

/// Whether `term` holds for `user` (userName and addresses compared in any
/// case, externalId exactly).
fn holds(term: &Equals, user: &User) -> bool {
    let text = match &term.value {
        Compared::Text(text) => Some(text.as_str()),
        _ => None,
    };
    let same = |field: Option<&str>| match (field, text) {
        (Some(field), Some(text)) => field.to_lowercase() == text.to_lowercase(),
        (None, None) => term.value == Compared::Null,
        _ => false,
    };
    match &term.attribute {
        Attribute::Id => text == Some(user.id.0.to_string().as_str()),
        Attribute::UserName => same(Some(&user.username)),
        Attribute::Email | Attribute::Emails => same(
            Some(&user.email)
                .filter(|email| !email.is_empty())
                .map(String::as_str),
        ),
        Attribute::ExternalId => match (&user.scim_external_id, &term.value) {
            (Some(id), Compared::Text(text)) => id == text,
            (None, Compared::Null) => true,
            _ => false,
        },
        Attribute::Active => match &term.value {
            Compared::Bool(flag) => user.enabled == *flag,
            Compared::Text(text) => text.eq_ignore_ascii_case(if user.enabled { "true" } else { "false" }),
            Compared::Null => false,
        },
        Attribute::GivenName => same(user.first_name.as_deref()),
        Attribute::FamilyName => same(user.last_name.as_deref()),
        _ => false,
    }
}

/// `POST /Users`: a new user in a directory that takes them.
pub(crate) async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> HttpResponse {
    scim(&req, &state, AdminScope::Scim, async {
        let body = read_json(&req, payload).await?;
        let wanted = ScimUser::from_json(ScimUser::blank(), &body)?;
        let email = wanted.email.clone().ok_or_else(|| {
            ScimError::invalid_value("emails is required: Limen's users have an e-mail address")
        })?;
        let accounts = &state.services.accounts;
        let created = accounts
            .create(NewAccount {
                username: wanted.user_name.clone(),
                email,
                first_name: wanted.given_name.clone(),
                last_name: wanted.family_name.clone(),
                personal_number: None,
                password: wanted.password.clone().map(Password::new),
            })
            .await?;
        let own_state = UserUpdate {
            enabled: (!wanted.active).then_some(false),
            scim_external_id: wanted.external_id.clone().map(Some),
            ..UserUpdate::default()
        };
        let user = if own_state.is_empty() {
            created
        } else {
            accounts.update(&created, created.version, own_state).await?
        };
        let mut answer = resource(&req, &user, StatusCode::CREATED, &Projection::default());
        if let Ok(location) =
            header::HeaderValue::from_str(&format!("{}/Users/{}", base_url(&req), user.id.0))
        {
            answer.headers_mut().insert(header::LOCATION, location);
        }
        Ok(answer)
    })
    .await
}

/// `GET /Users/{id}`.
pub(crate) async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    projection: web::Query<Projection>,
) -> HttpResponse {
    scim(&req, &state, AdminScope::Scim, async {
        let user = find(&state, &id).await?;
        Ok(resource(&req, &user, StatusCode::OK, &projection))
    })
    .await
}

/// `PUT /Users/{id}`: the user replaced by the body (attributes it leaves
/// out are cleared; `active` stays unless named).
pub(crate) async fn replace(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    payload: web::Payload,
) -> HttpResponse {
    scim(&req, &state, AdminScope::Scim, async {
        let body = read_json(&req, payload).await?;
        let user = modify(&req, &state, &id, |current| {
            ScimUser::from_json(current.cleared(), &body)
        })
        .await?;
        Ok(resource(&req, &user, StatusCode::OK, &Projection::default()))
    })
    .await
}

/// `PATCH /Users/{id}`.
pub(crate) async fn patch(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    payload: web::Payload,
) -> HttpResponse {
    scim(&req, &state, AdminScope::Scim, async {
        let body = read_json(&req, payload).await?;
        let user = modify(&req, &state, &id, |current| {
            let mut wanted = current.clone();
            super::patch::apply(&mut wanted, &body)?;
            Ok(wanted)
        })
        .await?;
        Ok(resource(&req, &user, StatusCode::OK, &Projection::default()))
    })
    .await
}

/// `DELETE /Users/{id}`: the user and everything Limen keeps of them.
pub(crate) async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> HttpResponse {
    scim(&req, &state, AdminScope::Scim, async {
        let user = find(&state, &id).await?;
        let accounts = &state.services.accounts;
        match if_match(&req, &user)? {
            Some(version) => accounts.delete_at_version(&user, version).await?,
            None => accounts.delete(&user).await?,
        }
        Ok(HttpResponse::NoContent().finish())
    })
    .await
}

/// Reads the user, works out the wanted state with `wanted`, and writes
/// the difference against the version read. Against `If-Match` a
/// concurrent change is 412; without it the change is made again on what
/// the other left, a few times.
async fn modify(
    req: &HttpRequest,
    state: &AppState,
    id: &str,
    wanted: impl Fn(&ScimUser) -> Result<ScimUser, ScimError>,
) -> Result<User, ScimError> {
    let accounts = &state.services.accounts;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let user = find(state, id).await?;
        let expected = if_match(req, &user)?;
        let current = ScimUser::of(&user);
        let update = current.change_to(&wanted(&current)?)?;
        if update.is_empty() {
            return Ok(user);
        }
        match accounts
            .update(&user, expected.unwrap_or(user.version), update)
            .await
        {
            Err(DomainError::StaleVersion) if expected.is_none() && attempt < ATTEMPTS => continue,
            other => return Ok(other?),
        }
    }
}

/// The user with this SCIM id (Limen's id), or 404.
async fn find(state: &AppState, id: &str) -> Result<User, ScimError> {
    let not_found = || ScimError::not_found(format!("no user has id {id:?}"));
    let id: i64 = id.parse().map_err(|_| not_found())?;
    state
        .services
        .users
        .by_id(UserId(id))
        .await?
        .ok_or_else(not_found)
}

/// The version `If-Match` names, when the request has one: the user's if it
/// names its current tag (or `*`), else 412.
fn if_match(req: &HttpRequest, user: &User) -> Result<Option<i64>, ScimError> {
    Ok(crate::admin::if_match(req, user).transpose()?)
}

/// The User resource as an answer, with its `ETag`.
fn resource(req: &HttpRequest, user: &User, status: StatusCode, projection: &Projection) -> HttpResponse {
    let body = projection.apply(user_json(user, &base_url(req)));
    HttpResponse::build(status)
        .content_type(SCIM_JSON)
        .insert_header((header::ETAG, etag(user)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

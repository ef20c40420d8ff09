//! SCIM's discovery endpoints (RFC 7644 §4): what this server supports, its
//! one resource type and the User schema as Limen keeps it.

use actix_web::{HttpRequest, HttpResponse, web};
use limen_domain::model::AdminScope;
use serde_json::{Value, json};

use super::error::ScimError;
use super::paths::USER_SCHEMA;
use super::{MAX_RESULTS, base_url, scim, scim_json};
use crate::AppState;

const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// `GET /ServiceProviderConfig`.
pub(crate) async fn service_provider_config(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    scim(&req, &state, AdminScope::Scim, async {
        let base = base_url(&req);
        Ok(scim_json(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "patch": {"supported": true},
            "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
            "filter": {"supported": true, "maxResults": MAX_RESULTS},
            "changePassword": {"supported": false},
            "sort": {"supported": false},
            "etag": {"supported": true},
            "authenticationSchemes": [{
                "type": "oauthbearertoken",
                "name": "Admin token",
                "description": "An admin token with the scope scim (limen token create --admin --scopes scim), \
                                as Authorization: Bearer",
                "primary": true
            }],
            "meta": {"resourceType": "ServiceProviderConfig", "location": format!("{base}/ServiceProviderConfig")}
        })))
    })
    .await
}

fn user_resource_type(base: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        "id": "User",
        "name": "User",
        "endpoint": "/Users",
        "description": "A user of Limen's directory",
        "schema": USER_SCHEMA,
        "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/User")}
    })
}

/// `GET /ResourceTypes`: Users only (see docs/scim.md on groups).
pub(crate) async fn resource_types(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    scim(&req, &state, AdminScope::Scim, async {
        Ok(scim_json(list_of(vec![user_resource_type(&base_url(&req))])))
    })
    .await
}

/// `GET /ResourceTypes/{id}`.
pub(crate) async fn resource_type(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> HttpResponse {
    scim(&req, &state, AdminScope::Scim, async {
        if id.as_str() != "User" {
            return Err(ScimError::not_found(format!(
                "no resource type {:?}",
                id.as_str()
            )));
        }
        Ok(scim_json(user_resource_type(&base_url(&req))))
    })
    .await
}

/// One attribute's definition (RFC 7643 §7).
fn attribute(
    name: &str,
    kind: &str,
    required: bool,
    mutability: &str,
    case_exact: bool,
    uniqueness: &str,
) -> Value {
    json!({
        "name": name,
        "type": kind,
        "multiValued": false,
        "description": "",
        "required": required,
        "caseExact": case_exact,
        "mutability": mutability,
        "returned": "default",
        "uniqueness": uniqueness
    })
}

/// The User schema as Limen keeps it: the attributes it stores, no others.
fn user_schema(base: &str) -> Value {
    let mut user_name = attribute("userName", "string", true, "readWrite", false, "server");
    user_name["description"] = json!("Limen's username, stored lower-case");
    let mut given = attribute("givenName", "string", false, "readWrite", false, "none");
    given["description"] = json!("Given name");
    let mut family = attribute("familyName", "string", false, "readWrite", false, "none");
    family["description"] = json!("Family name");
    let mut name = attribute("name", "complex", false, "readWrite", false, "none");
    name["description"] = json!("The user's name");
    name["subAttributes"] = json!([given, family]);
    let mut value = attribute("value", "string", true, "readWrite", false, "none");
    value["description"] = json!("The address, stored lower-case");
    let mut emails = attribute("emails", "complex", true, "readWrite", false, "server");
    emails["multiValued"] = json!(true);
    emails["description"] = json!("The user's e-mail address: Limen keeps one (the primary one given)");
    emails["subAttributes"] = json!([value]);
    let mut active = attribute("active", "boolean", true, "readWrite", false, "none");
    active["description"] = json!("false disables the user in Limen and ends every session");
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": USER_SCHEMA,
        "name": "User",
        "description": "A user of Limen's directory",
        "attributes": [user_name, name, emails, active],
        "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{USER_SCHEMA}")}
    })
}

/// `GET /Schemas`.
pub(crate) async fn schemas(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    scim(&req, &state, AdminScope::Scim, async {
        Ok(scim_json(list_of(vec![user_schema(&base_url(&req))])))
    })
    .await
}

/// `GET /Schemas/{id}`.
pub(crate) async fn schema(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> HttpResponse {
    scim(&req, &state, AdminScope::Scim, async {
        if id.as_str() != USER_SCHEMA {
            return Err(ScimError::not_found(format!("no schema {:?}", id.as_str())));
        }
        Ok(scim_json(user_schema(&base_url(&req))))
    })
    .await
}

/// A ListResponse of every resource in `resources`.
pub(crate) fn list_of(resources: Vec<Value>) -> Value {
    list_page(resources.len(), 1, resources)
}

/// A ListResponse page: `total` matches, this page starting at `start`.
pub(crate) fn list_page(total: usize, start: usize, resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": total,
        "startIndex": start,
        "itemsPerPage": resources.len(),
        "Resources": resources
    })
}

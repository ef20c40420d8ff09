//! For tests: a local server answering the subset of Lime CRM's REST API that
//! the directory uses, as Lime's documentation and its own clients show it
//! (docs/backends.md lists what it reproduces): `x-api-key` checked on every
//! request (401 with `{"message"}` otherwise), the API root, limeobjects of one
//! limetype by id (404 for an unknown one) and as HAL lists filtered by
//! property (equality ignoring case, like Lime's SQL Server), `min-` ranges,
//! `_sort`, `_limit` (10 by default) and `_offset` with `_links.next`, and PUT
//! of changed properties. It can also fail on purpose: an outage (503) or
//! answers that are not JSON.

// Test support: a failure here is a failed test, and says why.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Map, Value, json};

/// The server's state.
struct Crm {
    api_key: String,
    limetype: String,
    objects: BTreeMap<u64, Map<String, Value>>,
    next_id: u64,
    outage: bool,
    not_json: bool,
    requests: usize,
}

/// A running fake Lime CRM; stopped when dropped.
pub struct FakeLimeCrm {
    /// The API's base URL, `http://127.0.0.1:<port>/Lime%20CRM/api/v1/`.
    pub base: String,
    state: Arc<Mutex<Crm>>,
    handle: actix_web::dev::ServerHandle,
}

impl FakeLimeCrm {
    /// Starts a CRM whose users are `person` objects and whose API key is `api_key`.
    pub fn start(api_key: &str) -> Self {
        let state = Arc::new(Mutex::new(Crm {
            api_key: api_key.to_owned(),
            limetype: "person".into(),
            objects: BTreeMap::new(),
            next_id: 1000,
            outage: false,
            not_json: false,
            requests: 0,
        }));
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || {
            App::new().app_data(data.clone()).service(
                web::scope("/{app}/api/v1")
                    .route("/", web::get().to(root))
                    .route("/limeobject/{limetype}/", web::get().to(list))
                    .route("/limeobject/{limetype}/{id}/", web::get().to(one))
                    .route("/limeobject/{limetype}/{id}/", web::put().to(update)),
            )
        })
        .workers(1)
        .disable_signals()
        .bind("127.0.0.1:0")
        .unwrap();
        let base = format!("http://{}/Lime%20CRM/api/v1/", server.addrs()[0]);
        let server = server.run();
        let handle = server.handle();
        std::thread::spawn(move || actix_web::rt::System::new().block_on(server));
        Self { base, state, handle }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Crm> {
        self.state.lock().unwrap()
    }

    /// Adds a person with these properties; its `_id`.
    pub fn add(&self, properties: Value) -> u64 {
        let mut crm = self.lock();
        crm.next_id += 1;
        let id = crm.next_id;
        let Value::Object(properties) = properties else {
            panic!("a person is an object");
        };
        crm.objects.insert(id, properties);
        id
    }

    /// Changes properties of a person, as a CRM user would.
    pub fn change(&self, id: u64, properties: Value) {
        let mut crm = self.lock();
        let object = crm.objects.get_mut(&id).unwrap();
        for (key, value) in properties.as_object().unwrap() {
            object.insert(key.clone(), value.clone());
        }
    }

    /// A person's properties as the CRM holds them.
    pub fn object(&self, id: u64) -> Value {
        Value::Object(self.lock().objects[&id].clone())
    }

    /// Answers 503 to everything while `down`.
    pub fn set_outage(&self, down: bool) {
        self.lock().outage = down;
    }

    /// Answers with a body that is not JSON while `broken`.
    pub fn set_not_json(&self, broken: bool) {
        self.lock().not_json = broken;
    }

    /// Requests served so far (refused ones included).
    pub fn requests(&self) -> usize {
        self.lock().requests
    }
}

impl Drop for FakeLimeCrm {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

/// The refusals every endpoint shares: an outage, a wrong key, broken JSON.
fn refusal(req: &HttpRequest, crm: &mut Crm) -> Option<HttpResponse> {
    crm.requests += 1;
    if crm.outage {
        return Some(HttpResponse::ServiceUnavailable().json(json!({"message": "Service Unavailable"})));
    }
    let key = req
        .headers()
        .get("x-api-key")
        .and_then(|value| value.to_str().ok());
    if key != Some(crm.api_key.as_str()) {
        return Some(HttpResponse::Unauthorized().json(json!({"message": "Invalid or missing API key"})));
    }
    if crm.not_json {
        return Some(
            HttpResponse::Ok()
                .content_type("text/html")
                .body("<html>maintenance</html>"),
        );
    }
    None
}

fn base_of(req: &HttpRequest) -> String {
    let info = req.connection_info();
    let app = req
        .match_info()
        .get("app")
        .unwrap_or_default()
        .replace(' ', "%20");
    format!("{}://{}/{app}/api/v1", info.scheme(), info.host())
}

fn rendered(req: &HttpRequest, limetype: &str, id: u64, properties: &Map<String, Value>) -> Value {
    let mut object = properties.clone();
    object.insert("_id".into(), json!(id));
    object.insert("_descriptive".into(), json!(format!("{limetype} {id}")));
    object.insert(
        "_links".into(),
        json!({"self": {"href": format!("{}/limeobject/{limetype}/{id}/", base_of(req))}}),
    );
    Value::Object(object)
}

async fn root(req: HttpRequest, crm: web::Data<Mutex<Crm>>) -> HttpResponse {
    let mut crm = crm.lock().unwrap();
    if let Some(refused) = refusal(&req, &mut crm) {
        return refused;
    }
    HttpResponse::Ok()
        .json(json!({"_links": {"limeobject": {"href": format!("{}/limeobject/", base_of(&req))}}}))
}

fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Object(option) => option
            .get("key")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        other => other.to_string(),
    }
}

async fn list(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    crm: web::Data<Mutex<Crm>>,
) -> HttpResponse {
    let mut crm = crm.lock().unwrap();
    if let Some(refused) = refusal(&req, &mut crm) {
        return refused;
    }
    let (_, limetype) = path.into_inner();
    if limetype != crm.limetype {
        return HttpResponse::NotFound().json(json!({"message": format!("No such limetype: {limetype}")}));
    }
    let query: Vec<(String, String)> = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let params: HashMap<&str, &str> = query.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let limit: usize = params.get("_limit").and_then(|v| v.parse().ok()).unwrap_or(10);
    let offset: usize = params.get("_offset").and_then(|v| v.parse().ok()).unwrap_or(0);
    let matching: Vec<(u64, &Map<String, Value>)> = crm
        .objects
        .iter()
        .filter(|(id, object)| {
            query.iter().all(|(key, wanted)| {
                if let Some(property) = key.strip_prefix("min-") {
                    let value = if property == "_id" {
                        json!(**id)
                    } else {
                        object.get(property).cloned().unwrap_or(Value::Null)
                    };
                    return match (value.as_f64(), wanted.parse::<f64>()) {
                        (Some(value), Ok(wanted)) => value >= wanted,
                        _ => text(&value).as_str() >= wanted.as_str(),
                    };
                }
                if key.starts_with('_') {
                    return true;
                }
                object
                    .get(key)
                    .is_some_and(|value| text(value).to_lowercase() == wanted.to_lowercase())
            })
        })
        .map(|(id, object)| (*id, object))
        .collect();
    let page: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(limit)
        .map(|(id, object)| rendered(&req, &limetype, *id, object))
        .collect();
    let url = format!("{}/limeobject/{limetype}/", base_of(&req));
    let mut links = json!({"self": {"href": url}});
    if offset + limit < matching.len() {
        let mut next: Vec<(String, String)> = query.into_iter().filter(|(key, _)| key != "_offset").collect();
        next.push(("_offset".into(), (offset + limit).to_string()));
        links["next"] = json!({"href": format!("{url}?{}", serde_urlencoded::to_string(&next).unwrap())});
    }
    HttpResponse::Ok()
        .content_type("application/hal+json")
        .json(json!({"_links": links, "_embedded": {"limeobjects": page}}))
}

async fn one(
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
    crm: web::Data<Mutex<Crm>>,
) -> HttpResponse {
    let mut crm = crm.lock().unwrap();
    if let Some(refused) = refusal(&req, &mut crm) {
        return refused;
    }
    let (_, limetype, id) = path.into_inner();
    let found = id
        .parse::<u64>()
        .ok()
        .filter(|_| limetype == crm.limetype)
        .and_then(|id| crm.objects.get(&id).map(|o| (id, o)));
    match found {
        Some((id, object)) => HttpResponse::Ok().json(rendered(&req, &limetype, id, object)),
        None => HttpResponse::NotFound().json(json!({"message": "Not found"})),
    }
}

async fn update(
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
    body: web::Json<Map<String, Value>>,
    crm: web::Data<Mutex<Crm>>,
) -> HttpResponse {
    let mut crm = crm.lock().unwrap();
    if let Some(refused) = refusal(&req, &mut crm) {
        return refused;
    }
    let (_, limetype, id) = path.into_inner();
    let known = limetype == crm.limetype;
    let Some((id, object)) = id
        .parse::<u64>()
        .ok()
        .filter(|_| known)
        .and_then(|id| crm.objects.get_mut(&id).map(|o| (id, o)))
    else {
        return HttpResponse::NotFound().json(json!({"message": "Not found"}));
    };
    for (key, value) in body.into_inner() {
        object.insert(key, value);
    }
    let object = object.clone();
    HttpResponse::Ok().json(rendered(&req, &limetype, id, &object))
}

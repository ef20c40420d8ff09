//! The JSON bodies of BankID's Relying Party API v6, as BankID's OpenAPI file
//! names their fields; shared by the client and the simulator.

use serde::{Deserialize, Serialize};

/// `POST /auth`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthRequest {
    /// The end user's address, as the relying party sees it.
    pub end_user_ip: String,
    /// Who may identify themselves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requirement: Option<Requirement>,
}

/// The `requirement` object; in v6 the personal number lives here.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Requirement {
    /// 12 digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub personal_number: Option<String>,
}

/// The answer to `/auth`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthResponse {
    /// The order's reference.
    pub order_ref: String,
    /// For starting the app on the same device.
    pub auto_start_token: String,
    /// The QR code's public part.
    pub qr_start_token: String,
    /// The QR code's HMAC key.
    pub qr_start_secret: String,
}

/// `POST /collect` and `POST /cancel`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderRequest {
    /// The order's reference.
    pub order_ref: String,
}

/// The answer to `/collect`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CollectResponse {
    /// The order's reference.
    pub order_ref: String,
    /// `pending`, `failed` or `complete`.
    pub status: String,
    /// Why it is pending or failed; absent when complete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint_code: Option<String>,
    /// Who identified themselves, when complete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_data: Option<CompletionData>,
}

/// What a completed order tells about the person and the device.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompletionData {
    /// The person.
    pub user: CompletedUser,
    /// The device they used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<Device>,
    /// When the BankID was issued, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank_id_issue_date: Option<String>,
    /// The signature, base64 XML.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// The OCSP response, base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocsp_response: Option<String>,
}

/// The identified person.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompletedUser {
    /// 12 digits.
    pub personal_number: String,
    /// Full name.
    pub name: String,
    /// Given name.
    pub given_name: String,
    /// Surname.
    pub surname: String,
}

/// The device of a completed order.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    /// The address BankID saw the device at.
    pub ip_address: String,
    /// A unique hardware identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uhi: Option<String>,
}

/// An error answer: `{"errorCode": "...", "details": "..."}`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorResponse {
    /// `alreadyInProgress`, `invalidParameters`, `unauthorized`, …
    pub error_code: String,
    /// A description for the relying party's developers.
    #[serde(default)]
    pub details: String,
}

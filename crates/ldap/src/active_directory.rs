//! What Active Directory does its own way: a binary `objectGUID` as the id,
//! account state in `userAccountControl` and in a refused bind's diagnostic
//! text, and a new password as `unicodePwd`.

use limen_domain::model::DirectoryVerdict;

/// `userAccountControl`'s flag of a disabled account.
const ACCOUNT_DISABLE: u32 = 0x2;

/// An `objectGUID` in its usual text form
/// (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`): the first three groups are
/// stored little-endian, the last two as they read.
pub(crate) fn guid_text(bytes: &[u8]) -> Option<String> {
    let bytes: &[u8; 16] = bytes.try_into().ok()?;
    let hex = |range: &[u8]| range.iter().map(|byte| format!("{byte:02x}")).collect::<String>();
    let reversed = |range: &[u8]| hex(&range.iter().rev().copied().collect::<Vec<_>>());
    Some(format!(
        "{}-{}-{}-{}-{}",
        reversed(&bytes[0..4]),
        reversed(&bytes[4..6]),
        reversed(&bytes[6..8]),
        hex(&bytes[8..10]),
        hex(&bytes[10..16])
    ))
}

/// The bytes of a GUID in text form, in the order AD stores them; `None`
/// for anything else.
pub(crate) fn guid_bytes(text: &str) -> Option<[u8; 16]> {
    let groups: Vec<&str> = text.split('-').collect();
    let lengths = [8, 4, 4, 4, 12];
    if groups.len() != 5
        || groups
            .iter()
            .zip(lengths)
            .any(|(group, length)| group.len() != length)
    {
        return None;
    }
    let mut bytes = Vec::with_capacity(16);
    for (index, group) in groups.iter().enumerate() {
        let mut decoded = (0..group.len())
            .step_by(2)
            .map(|at| u8::from_str_radix(group.get(at..at + 2)?, 16).ok())
            .collect::<Option<Vec<u8>>>()?;
        if index < 3 {
            decoded.reverse();
        }
        bytes.extend(decoded);
    }
    bytes.try_into().ok()
}

/// A filter's value matching these bytes exactly (RFC 4515: every byte escaped).
pub(crate) fn escaped_bytes(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("\\{byte:02x}")).collect()
}

/// Whether `userAccountControl` lets the account log in.
pub(crate) fn enabled(user_account_control: Option<&str>) -> bool {
    let flags = user_account_control.and_then(|value| value.trim().parse::<i64>().ok());
    // The attribute is a signed 32-bit integer in LDAP's syntax.
    flags.is_none_or(|flags| (flags as u32) & ACCOUNT_DISABLE == 0)
}

/// Why AD refused a bind, from the `data <code>` of its diagnostic text
/// (`80090308: LdapErr: DSID-0C09041C, comment: AcceptSecurityContext error,
/// data 775, v4563`).
pub(crate) fn bind_refusal(diagnostic: &str) -> DirectoryVerdict {
    let code = diagnostic
        .split(", ")
        .find_map(|part| part.trim().strip_prefix("data "))
        .map(|code| code.trim().to_ascii_lowercase());
    match code.as_deref() {
        // Locked out by the domain's lockout policy.
        Some("775") => DirectoryVerdict::Locked,
        // Disabled; the account itself expired.
        Some("533" | "701") => DirectoryVerdict::Disabled,
        // The password expired; it must be changed at next logon.
        Some("532" | "773") => DirectoryVerdict::PasswordExpired,
        // 52e: a wrong password; anything else is told as one too.
        _ => DirectoryVerdict::Mismatch,
    }
}

/// `unicodePwd`'s value for a new password: the password in double quotes,
/// UTF-16 little-endian.
pub(crate) fn unicode_pwd(password: &str) -> Vec<u8> {
    format!("\"{password}\"")
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guid_reads_as_windows_shows_it_and_back() {
        // The byte order of objectGUID as stored, and the text AD tools print.
        let stored = [
            0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
        ];
        let text = "00112233-4455-6677-8899-aabbccddeeff";
        assert_eq!(guid_text(&stored).as_deref(), Some(text));
        assert_eq!(guid_bytes(text), Some(stored));
        assert_eq!(guid_bytes(&text.to_uppercase()), Some(stored));
        for not_a_guid in [
            "",
            "*",
            "00112233-4455-6677-8899",
            "0011223-34455-6677-8899-aabbccddeeff",
            "zz112233-4455-6677-8899-aabbccddeeff",
            "00112233-4455-6677-8899-aabbccddeefé",
        ] {
            assert_eq!(guid_bytes(not_a_guid), None, "{not_a_guid:?}");
        }
        assert_eq!(guid_text(&stored[..15]), None);
        assert_eq!(escaped_bytes(&[0x00, 0x2a, 0xff]), "\\00\\2a\\ff");
    }

    #[test]
    fn account_control_and_bind_diagnostics_give_the_account_state() {
        assert!(enabled(Some("512")));
        assert!(!enabled(Some("514")));
        assert!(!enabled(Some("-2147483646")), "the signed form of 0x80000002");
        assert!(enabled(None));
        let diagnostic = |code: &str| {
            format!(
                "80090308: LdapErr: DSID-0C09041C, comment: AcceptSecurityContext error, data {code}, v4563"
            )
        };
        assert_eq!(bind_refusal(&diagnostic("52e")), DirectoryVerdict::Mismatch);
        assert_eq!(bind_refusal(&diagnostic("775")), DirectoryVerdict::Locked);
        assert_eq!(bind_refusal(&diagnostic("533")), DirectoryVerdict::Disabled);
        assert_eq!(bind_refusal(&diagnostic("701")), DirectoryVerdict::Disabled);
        assert_eq!(
            bind_refusal(&diagnostic("532")),
            DirectoryVerdict::PasswordExpired
        );
        assert_eq!(
            bind_refusal(&diagnostic("773")),
            DirectoryVerdict::PasswordExpired
        );
        assert_eq!(bind_refusal(""), DirectoryVerdict::Mismatch);
    }

    #[test]
    fn a_new_password_is_quoted_utf16_little_endian() {
        assert_eq!(unicode_pwd("aö"), vec![b'"', 0, b'a', 0, 0xf6, 0, b'"', 0]);
    }
}

//! The authenticator model's AAGUID, read from a registration's attestation
//! object: a CBOR map whose `authData` holds the attested credential data
//! (WebAuthn §6.5.1). Only as much CBOR as that map needs is read.

/// The AAGUID of `attestation_object`, hyphenated; `None` when it is absent
/// or all zeros (an authenticator that does not say).
pub(crate) fn of(attestation_object: &[u8]) -> Option<String> {
    let auth_data = auth_data(attestation_object)?;
    // rpIdHash (32), flags (1), signCount (4), then with AT (0x40) the AAGUID (16).
    let flags = *auth_data.get(32)?;
    if flags & 0x40 == 0 {
        return None;
    }
    let aaguid = auth_data.get(37..53)?;
    if aaguid.iter().all(|byte| *byte == 0) {
        return None;
    }
    let uuid = uuid::Uuid::from_slice(aaguid).ok()?;
    Some(uuid.hyphenated().to_string())
}

/// The byte string under the text key `authData` of the top-level map.
fn auth_data(object: &[u8]) -> Option<&[u8]> {
    let mut reader = Reader { bytes: object, at: 0 };
    let (major, entries) = reader.head()?;
    if major != 5 {
        return None;
    }
    for _ in 0..entries {
        let key = reader.item_text()?;
        if key == Some("authData") {
            let (major, length) = reader.head()?;
            return (major == 2).then(|| reader.take(length)).flatten();
        }
        reader.skip()?;
    }
    None
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    /// A data item's major type and its argument (length or count).
    fn head(&mut self) -> Option<(u8, u64)> {
        let initial = *self.bytes.get(self.at)?;
        self.at += 1;
        let major = initial >> 5;
        let argument = match initial & 0x1f {
            small @ 0..=23 => u64::from(small),
            24 => u64::from(*self.take(1)?.first()?),
            25 => u64::from(u16::from_be_bytes(self.take(2)?.try_into().ok()?)),
            26 => u64::from(u32::from_be_bytes(self.take(4)?.try_into().ok()?)),
            27 => u64::from_be_bytes(self.take(8)?.try_into().ok()?),
            // Indefinite lengths and reserved values: not in an attestation object.
            _ => return None,
        };
        Some((major, argument))
    }

    fn take(&mut self, length: u64) -> Option<&'a [u8]> {
        let length = usize::try_from(length).ok()?;
        let end = self.at.checked_add(length)?;
        let slice = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(slice)
    }

    /// A map key: its text when it is a text string, `None` inside for others.
    fn item_text(&mut self) -> Option<Option<&'a str>> {
        let start = self.at;
        let (major, length) = self.head()?;
        if major == 3 {
            return Some(std::str::from_utf8(self.take(length)?).ok());
        }
        self.at = start;
        self.skip()?;
        Some(None)
    }

    /// Skips one data item, nested ones included.
    fn skip(&mut self) -> Option<()> {
        let (major, argument) = self.head()?;
        match major {
            0 | 1 | 7 => {}
            2 | 3 => {
                self.take(argument)?;
            }
            4 => {
                for _ in 0..argument {
                    self.skip()?;
                }
            }
            5 => {
                for _ in 0..argument {
                    self.skip()?;
                    self.skip()?;
                }
            }
            6 => self.skip()?,
            _ => return None,
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `{"fmt": "none", "attStmt": {}, "authData": <auth data>}` in CBOR.
    fn attestation_object(auth_data: &[u8]) -> Vec<u8> {
        let mut object = vec![0xa3, 0x63];
        object.extend(b"fmt");
        object.push(0x64);
        object.extend(b"none");
        object.push(0x67);
        object.extend(b"attStmt");
        object.push(0xa0);
        object.push(0x68);
        object.extend(b"authData");
        object.push(0x59);
        object.extend(u16::try_from(auth_data.len()).unwrap().to_be_bytes());
        object.extend(auth_data);
        object
    }

    fn auth_data(flags: u8, aaguid: [u8; 16]) -> Vec<u8> {
        let mut data = vec![7; 32];
        data.push(flags);
        data.extend([0, 0, 0, 1]);
        data.extend(aaguid);
        data.extend([0, 2, 0xab, 0xcd]);
        data
    }

    #[test]
    fn the_aaguid_is_read_from_attested_credential_data() {
        let aaguid = [
            0xea, 0x9b, 0x8d, 0x66, 0x4d, 0x01, 0x1d, 0x21, 0x3c, 0xe4, 0xb6, 0xb4, 0x8c, 0xb5, 0x75, 0xd4,
        ];
        let object = attestation_object(&auth_data(0x45, aaguid));
        assert_eq!(
            of(&object).as_deref(),
            Some("ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4")
        );
        assert_eq!(
            of(&attestation_object(&auth_data(0x45, [0; 16]))),
            None,
            "all zeros"
        );
        assert_eq!(
            of(&attestation_object(&auth_data(0x05, aaguid))),
            None,
            "no AT flag"
        );
        assert_eq!(of(&object[..20]), None, "cut short");
        assert_eq!(of(b""), None);
        assert_eq!(of(&[0xbf]), None, "an indefinite map");
    }
}

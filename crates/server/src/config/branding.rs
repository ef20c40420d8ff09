//! `[branding]`: how the hosted pages look for the operator's users: a logo
//! and one accent colour beside `[registration] site_name`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::ConfigError;

/// The largest logo served (a logo is a few kilobytes; this keeps a wrong
/// file out of every page's memory).
const MAX_LOGO_BYTES: u64 = 256 * 1024;

/// The contrast white text needs on the accent colour (WCAG 2.1, AA for
/// normal text): the pages' buttons are white on the accent.
const MIN_CONTRAST: f64 = 4.5;

/// `[branding]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BrandingSection {
    /// An SVG, PNG, JPEG or WebP image shown above the pages' forms instead
    /// of the site's name (which stays its text alternative).
    pub logo_file: Option<PathBuf>,
    /// `#rrggbb` (or `#rgb`): buttons, links and focus rings.
    pub accent_color: Option<String>,
}

/// A logo as served.
#[derive(Debug, Clone)]
pub(crate) struct Logo {
    /// Its media type, from the file's extension.
    pub content_type: &'static str,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

impl BrandingSection {
    /// What can be checked before serving: the colour and its contrast.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if let Some(colour) = &self.accent_color {
            let (r, g, b) = parse_hex(colour).ok_or_else(|| {
                ConfigError::Invalid(format!(
                    "branding.accent_color {colour:?} is not a colour such as \"#1f5fbf\""
                ))
            })?;
            let contrast = contrast_with_white(r, g, b);
            if contrast < MIN_CONTRAST {
                return Err(ConfigError::Invalid(format!(
                    "branding.accent_color {colour:?} is too light for the white text on buttons \
                     (contrast {contrast:.1}:1, at least {MIN_CONTRAST}:1 is needed); choose a darker shade"
                )));
            }
        }
        if let Some(path) = &self.logo_file {
            content_type(path)?;
        }
        Ok(())
    }

    /// The logo, read from `logo_file`.
    pub(crate) fn logo(&self) -> Result<Option<Logo>, ConfigError> {
        let Some(path) = &self.logo_file else {
            return Ok(None);
        };
        let unreadable = |err: std::io::Error| {
            ConfigError::Invalid(format!("branding.logo_file {}: {err}", path.display()))
        };
        let size = std::fs::metadata(path).map_err(unreadable)?.len();
        if size > MAX_LOGO_BYTES {
            return Err(ConfigError::Invalid(format!(
                "branding.logo_file {} has {size} bytes; at most {MAX_LOGO_BYTES} are served",
                path.display()
            )));
        }
        Ok(Some(Logo {
            content_type: content_type(path)?,
            bytes: std::fs::read(path).map_err(unreadable)?,
        }))
    }

    /// The accent as `#rrggbb`, when set.
    pub fn accent(&self) -> Option<String> {
        let (r, g, b) = parse_hex(self.accent_color.as_deref()?)?;
        Some(format!("#{r:02x}{g:02x}{b:02x}"))
    }
}

fn content_type(path: &std::path::Path) -> Result<&'static str, ConfigError> {
    let extension = path
        .extension()
        .and_then(|extension| extension.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("svg") => Ok("image/svg+xml"),
        Some("png") => Ok("image/png"),
        Some("jpg" | "jpeg") => Ok("image/jpeg"),
        Some("webp") => Ok("image/webp"),
        _ => Err(ConfigError::Invalid(format!(
            "branding.logo_file {} must end in .svg, .png, .jpg or .webp",
            path.display()
        ))),
    }
}

fn parse_hex(colour: &str) -> Option<(u8, u8, u8)> {
    let hex = colour.strip_prefix('#')?;
    if !hex.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return None;
    }
    let channel = |text: &str| u8::from_str_radix(text, 16).ok();
    match hex.len() {
        6 => Some((channel(&hex[0..2])?, channel(&hex[2..4])?, channel(&hex[4..6])?)),
        3 => {
            let doubled = |index: usize| channel(&hex[index..=index].repeat(2));
            Some((doubled(0)?, doubled(1)?, doubled(2)?))
        }
        _ => None,
    }
}

/// WCAG 2.1's contrast ratio of white on the colour.
fn contrast_with_white(r: u8, g: u8, b: u8) -> f64 {
    let linear = |channel: u8| {
        let value = f64::from(channel) / 255.0;
        if value <= 0.039_28 {
            value / 12.92
        } else {
            ((value + 0.055) / 1.055).powf(2.4)
        }
    };
    let luminance = 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
    1.05 / (luminance + 0.05)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_accent(colour: &str) -> BrandingSection {
        BrandingSection {
            accent_color: Some(colour.into()),
            ..BrandingSection::default()
        }
    }

    #[test]
    fn an_accent_must_be_a_colour_dark_enough_for_white_text() {
        assert!(with_accent("#1f5fbf").validate().is_ok());
        assert_eq!(with_accent("#0A7").accent().as_deref(), Some("#00aa77"));
        // Black on white is 21:1; white on white 1:1.
        assert!((contrast_with_white(0, 0, 0) - 21.0).abs() < 0.01);
        assert!((contrast_with_white(255, 255, 255) - 1.0).abs() < 0.01);
        let err = with_accent("#ffd700").validate().unwrap_err().to_string();
        assert!(err.contains("too light"), "{err}");
        for bad in ["1f5fbf", "#12345", "#ggg", "red", "#1f5fbf;}"] {
            assert!(with_accent(bad).validate().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_logo_is_an_image_of_a_known_type_and_size() {
        let dir = std::env::temp_dir().join(format!("limen-logo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let svg = dir.join("logo.SVG");
        std::fs::write(&svg, "<svg xmlns=\"http://www.w3.org/2000/svg\"/>").unwrap();
        let section = BrandingSection {
            logo_file: Some(svg),
            ..BrandingSection::default()
        };
        let logo = section.logo().unwrap().unwrap();
        assert_eq!(logo.content_type, "image/svg+xml");
        let gif = BrandingSection {
            logo_file: Some(dir.join("logo.gif")),
            ..BrandingSection::default()
        };
        assert!(gif.validate().is_err());
        let big = dir.join("big.png");
        std::fs::write(&big, vec![0u8; 300 * 1024]).unwrap();
        let err = BrandingSection {
            logo_file: Some(big),
            ..BrandingSection::default()
        }
        .logo()
        .unwrap_err()
        .to_string();
        assert!(err.contains("at most"), "{err}");
        std::fs::remove_dir_all(dir).ok();
    }
}

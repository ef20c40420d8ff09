//! The codes Limen computes agree with an independent implementation: GNU
//! oathtool (installed by `scripts/test`). Without it the test says so and
//! skips, except under `CI=true`, where its absence is a failure.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use limen_crypto::RfcTotp;
use limen_domain::model::{TotpAlgorithm, TotpParams};
use limen_domain::ports::TotpGenerator;

fn oathtool_available() -> bool {
    let found = Command::new("oathtool")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "oathtool is required when CI=true (scripts/test installs it)"
        );
        eprintln!("notice: oathtool not found; skipping the TOTP agreement test");
    }
    found
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn codes_agree_with_oathtool() {
    if !oathtool_available() {
        return;
    }
    let cases = [
        (TotpAlgorithm::Sha1, 6, 30),
        (TotpAlgorithm::Sha1, 8, 30),
        (TotpAlgorithm::Sha256, 6, 30),
        (TotpAlgorithm::Sha512, 8, 60),
    ];
    for (algorithm, digits, period) in cases {
        let params = TotpParams {
            algorithm,
            digits,
            period,
        };
        for time in [0u64, 59, 1_111_111_109, 1_700_000_000, 1_999_999_999] {
            let secret = RfcTotp.new_secret();
            let ours = RfcTotp.code(&secret, params, time / period).unwrap();
            let output = Command::new("oathtool")
                .arg(format!("--totp={}", algorithm.as_str()))
                .arg(format!("--digits={digits}"))
                .arg(format!("--time-step-size={period}s"))
                .arg(format!("--now=@{time}"))
                .arg(hex(&secret))
                .output()
                .unwrap();
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            let theirs = String::from_utf8(output.stdout).unwrap();
            assert_eq!(
                ours,
                theirs.trim(),
                "{algorithm:?} digits={digits} period={period} time={time}"
            );
        }
    }
}

//! `ident_hash`: the original login server's 32-bit string hash of the e-mail
//! address, kept so that clients comparing it with their own computation agree.

/// For each byte of `text` (read as a signed `char`, as the original's C++ does on
/// x86-64): rotate the hash left by 7 bits, then add the byte, wrapping at 32 bits.
pub fn ident_hash(text: &str) -> u32 {
    text.bytes().fold(0u32, |hash, byte| {
        // Sign extension of bytes >= 0x80 is what the original computes.
        let signed = i32::from(byte.cast_signed());
        hash.rotate_left(7).wrapping_add(signed.cast_unsigned())
    })
}

#[cfg(test)]
mod tests {
    use super::ident_hash;

    #[test]
    fn the_original_algorithm_is_reproduced() {
        assert_eq!(ident_hash(""), 0);
        assert_eq!(ident_hash("a"), 97);
        // ((97 rotl 7) + 98) = 12416 + 98.
        assert_eq!(ident_hash("ab"), 12_514);
        // Computed with the original's C function (gcc, x86-64).
        assert_eq!(ident_hash("max.musterman@gmail.de"), 3_354_208_457);
    }

    #[test]
    fn bytes_above_0x7f_are_sign_extended() {
        // "é" is 0xC3 0xA9: (-61 as u32) rotl 7, plus -87.
        let first = (-61i32).cast_unsigned();
        let expected = first.rotate_left(7).wrapping_add((-87i32).cast_unsigned());
        assert_eq!(ident_hash("é"), expected);
    }
}

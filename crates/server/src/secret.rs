//! Secrets: random tokens, their stored hashes, and argon2 password hashes.
//!
//! Secrets are never logged and never stored in the clear: device secrets, enrollment and
//! session tokens are stored as SHA-256 (they are 256-bit random, so a fast hash suffices);
//! passwords, which people choose, as argon2id.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// A fresh random token: 32 bytes as 64 lower-case hex characters.
pub fn random_token() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| Error::PasswordHash(format!("no randomness: {e}")))?;
    Ok(hex::encode(bytes))
}

/// The stored form of a token: `hex(sha256(token))`.
///
/// ```text
/// "abc" → "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
/// ```
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Compares two strings in time independent of where they differ (CSRF tokens).
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Hashes a password with argon2id; `memory_kib` is the memory cost (19456 is the usual
/// recommendation; tests use less so debug builds stay quick).
pub fn hash_password(password: &str, memory_kib: u32) -> Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| Error::PasswordHash(format!("no randomness: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| Error::PasswordHash(e.to_string()))?;
    let params = Params::new(memory_kib.max(Params::MIN_M_COST), 2, 1, None)
        .map_err(|e| Error::PasswordHash(e.to_string()))?;
    let hash = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| Error::PasswordHash(e.to_string()))?;
    Ok(hash.to_string())
}

/// Whether `password` matches the stored hash (its own parameters are used). A malformed
/// stored hash never matches.
pub fn verify_password(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_only_against_its_own_hash() {
        let hash = hash_password("correct horse", 64).expect("hash");
        assert!(hash.starts_with("$argon2id$"), "argon2id is used: {hash}");
        assert!(
            verify_password("correct horse", &hash),
            "the right password verifies"
        );
        assert!(
            !verify_password("wrong horse", &hash),
            "a wrong password does not"
        );
        assert!(
            !verify_password("correct horse", "not a hash"),
            "garbage never matches"
        );
    }

    #[test]
    fn tokens_are_random_and_hashes_stable() {
        let (a, b) = (
            random_token().expect("token"),
            random_token().expect("token"),
        );
        assert_ne!(a, b, "two tokens differ");
        assert_eq!(a.len(), 64, "32 bytes as hex");
        assert_eq!(
            token_hash(&a),
            token_hash(&a),
            "the stored hash is deterministic"
        );
        assert!(
            constant_time_eq(&a, &a) && !constant_time_eq(&a, &b),
            "comparison is exact"
        );
    }
}

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::error::DomainError;
use crate::model::ClientAddress;

/// Bounds how many password hashes one client address may have queued or
/// running on this node, so that one client cannot fill the hashing queue for
/// everyone. Per node by nature: it guards this process's hashing threads, and
/// an address spread over several nodes gets its share on each.
pub struct HashAdmission {
    per_address: usize,
    in_flight: Arc<Mutex<HashMap<String, usize>>>,
}

/// A place in the queue, given back when dropped.
pub struct HashTicket {
    key: Option<String>,
    in_flight: Arc<Mutex<HashMap<String, usize>>>,
}

impl HashAdmission {
    /// At most `per_address` hashes per address at once; 0 means no bound.
    pub fn new(per_address: usize) -> Self {
        Self {
            per_address,
            in_flight: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// A place for one hash of `client`, or `Busy` when the address has its share.
    pub fn enter(&self, client: &ClientAddress) -> Result<HashTicket, DomainError> {
        if self.per_address == 0 {
            return Ok(HashTicket {
                key: None,
                in_flight: self.in_flight.clone(),
            });
        }
        let key = client.throttle_key();
        let mut in_flight = self.in_flight.lock().unwrap_or_else(PoisonError::into_inner);
        let count = in_flight.entry(key.clone()).or_insert(0);
        if *count >= self.per_address {
            return Err(DomainError::Busy);
        }
        *count += 1;
        Ok(HashTicket {
            key: Some(key),
            in_flight: self.in_flight.clone(),
        })
    }
}

impl Drop for HashTicket {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else {
            return;
        };
        let mut in_flight = self.in_flight.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = in_flight.get_mut(&key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                // The map holds only addresses with hashes in flight.
                in_flight.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(text: &str) -> ClientAddress {
        ClientAddress::new(text.parse().unwrap())
    }

    #[test]
    fn an_address_gets_its_share_and_no_more_until_a_ticket_returns() {
        let admission = HashAdmission::new(2);
        let first = admission.enter(&client("192.0.2.1")).unwrap();
        let _second = admission.enter(&client("192.0.2.1")).unwrap();
        assert!(matches!(
            admission.enter(&client("192.0.2.1")),
            Err(DomainError::Busy)
        ));
        assert!(
            admission.enter(&client("192.0.2.2")).is_ok(),
            "other addresses are not affected"
        );
        drop(first);
        assert!(admission.enter(&client("192.0.2.1")).is_ok());
    }

    #[test]
    fn the_map_forgets_addresses_without_hashes_in_flight() {
        let admission = HashAdmission::new(1);
        for n in 0..100 {
            drop(admission.enter(&client(&format!("10.0.0.{n}"))).unwrap());
        }
        assert!(admission.in_flight.lock().unwrap().is_empty());
    }

    #[test]
    fn zero_means_no_bound() {
        let admission = HashAdmission::new(0);
        let tickets: Vec<_> = (0..50)
            .map(|_| admission.enter(&client("192.0.2.1")).unwrap())
            .collect();
        assert_eq!(tickets.len(), 50);
    }
}

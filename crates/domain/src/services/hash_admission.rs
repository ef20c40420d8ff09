use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::error::DomainError;
use crate::model::ClientAddress;

/// Bounds how many password hashes one client address, and all of them
/// together, may have queued or running on this node, so that one client cannot
/// fill the hashing queue for everyone. Per node by nature: it guards this
/// process's hashing threads, and an address spread over several nodes gets its
/// share on each.
///
/// The HTTP layer keeps a second one in front of the login endpoints with the
/// same bounds, taken before a request's body is read: surplus logins of a storm
/// are then refused for the price of their headers.
pub struct HashAdmission {
    per_address: usize,
    total: usize,
    in_flight: Arc<Mutex<InFlight>>,
}

/// What is in flight: the total and the count of each address that has some.
#[derive(Default)]
struct InFlight {
    total: usize,
    by_address: HashMap<String, usize>,
}

/// A place in the queue, given back when dropped.
pub struct HashTicket {
    key: Option<String>,
    in_flight: Arc<Mutex<InFlight>>,
}

impl HashAdmission {
    /// At most `per_address` hashes per address at once; 0 means no bound.
    pub fn new(per_address: usize) -> Self {
        Self {
            per_address,
            total: 0,
            in_flight: Arc::new(Mutex::new(InFlight::default())),
        }
    }

    /// Also at most `total` at once over all addresses; 0 means no bound.
    pub fn with_total(mut self, total: usize) -> Self {
        self.total = total;
        self
    }

    /// Places taken now, over all addresses.
    pub fn in_flight(&self) -> usize {
        self.in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .total
    }

    /// A place for one hash of `client`, or `Busy` when the address has its
    /// share or the node has no place left.
    pub fn enter(&self, client: &ClientAddress) -> Result<HashTicket, DomainError> {
        let mut in_flight = self.in_flight.lock().unwrap_or_else(PoisonError::into_inner);
        if self.total != 0 && in_flight.total >= self.total {
            return Err(DomainError::Busy);
        }
        let key = if self.per_address == 0 {
            None
        } else {
            let key = client.throttle_key();
            let count = in_flight.by_address.entry(key.clone()).or_insert(0);
            if *count >= self.per_address {
                return Err(DomainError::Busy);
            }
            *count += 1;
            Some(key)
        };
        in_flight.total += 1;
        Ok(HashTicket {
            key,
            in_flight: self.in_flight.clone(),
        })
    }
}

impl Drop for HashTicket {
    fn drop(&mut self) {
        let mut in_flight = self.in_flight.lock().unwrap_or_else(PoisonError::into_inner);
        in_flight.total = in_flight.total.saturating_sub(1);
        let Some(key) = self.key.take() else {
            return;
        };
        if let Some(count) = in_flight.by_address.get_mut(&key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                // The map holds only addresses with hashes in flight.
                in_flight.by_address.remove(&key);
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
        let in_flight = admission.in_flight.lock().unwrap();
        assert!(in_flight.by_address.is_empty());
        assert_eq!(in_flight.total, 0);
    }

    #[test]
    fn the_total_bounds_all_addresses_together() {
        let admission = HashAdmission::new(2).with_total(3);
        let first = admission.enter(&client("192.0.2.1")).unwrap();
        let _second = admission.enter(&client("192.0.2.2")).unwrap();
        let _third = admission.enter(&client("192.0.2.3")).unwrap();
        assert!(matches!(
            admission.enter(&client("192.0.2.4")),
            Err(DomainError::Busy)
        ));
        drop(first);
        assert!(admission.enter(&client("192.0.2.4")).is_ok());
    }

    #[test]
    fn a_refused_address_takes_no_place_from_the_total() {
        let admission = HashAdmission::new(1).with_total(2);
        let _held = admission.enter(&client("192.0.2.1")).unwrap();
        for _ in 0..10 {
            assert!(admission.enter(&client("192.0.2.1")).is_err());
        }
        assert!(admission.enter(&client("192.0.2.2")).is_ok());
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

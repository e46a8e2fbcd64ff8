//! A tiny deterministic random stream (splitmix64): enough for synthetic data, and shared so
//! that every part of the World derives its "random" choices from the run's seed.

/// splitmix64's mixing function.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A deterministic stream of numbers for one `(seed, key)`.
#[derive(Debug, Clone)]
pub struct Stream(u64);

impl Stream {
    /// The stream of `seed` for `key` (a person, a facility, …).
    pub fn new(seed: u64, key: u64) -> Self {
        Stream(mix(seed ^ mix(key)))
    }

    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = mix(self.0);
        self.0
    }

    /// A number below `n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// One of `items` (not empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_and_key_same_stream() {
        let a: Vec<_> = (0..4)
            .map({
                let mut s = Stream::new(1, 2);
                move |_| s.next_u64()
            })
            .collect();
        let b: Vec<_> = (0..4)
            .map({
                let mut s = Stream::new(1, 2);
                move |_| s.next_u64()
            })
            .collect();
        assert_eq!(a, b);
        assert_ne!(Stream::new(1, 3).next_u64(), a[0]);
    }
}

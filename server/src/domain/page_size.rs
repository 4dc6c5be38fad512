//! [`PageSize`]: how many rows a paged list gives unless asked, and the most it gives.

use super::desk_error::DeskError;

/// How many rows a list gives when not asked, and the most it gives.
#[derive(Clone, Copy, Debug)]
pub struct PageSize {
    /// Rows when `limit` is not given.
    pub default: u32,
    /// The largest `limit` accepted.
    pub max: u32,
}

impl PageSize {
    /// The `limit` asked for, or the default; 422 `invalid` unless it is between 1 and the
    /// maximum.
    pub fn limit(self, asked: Option<u32>) -> Result<u32, DeskError> {
        match asked {
            None => Ok(self.default),
            Some(n) if (1..=self.max).contains(&n) => Ok(n),
            Some(n) => Err(DeskError::invalid(
                "invalid",
                format!(
                    "limit is {n}: it must be between 1 and {} (default {})",
                    self.max, self.default
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_outside_its_bounds_is_refused() {
        let size = PageSize {
            default: 50,
            max: 500,
        };
        assert_eq!(size.limit(None).unwrap(), 50);
        assert_eq!(size.limit(Some(1)).unwrap(), 1);
        assert_eq!(size.limit(Some(500)).unwrap(), 500);
        for bad in [0, 501, u32::MAX] {
            let err = size.limit(Some(bad)).unwrap_err();
            assert!(err.to_string().contains("between 1 and 500"), "{err}");
        }
    }
}

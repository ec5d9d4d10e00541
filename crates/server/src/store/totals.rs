//! Summing whole-day totals of a group of people into a team's trends: per day (counting
//! people) and per category. Shared by both stores.
//!
//! Pure: no I/O, no clock reads.

use std::collections::{HashMap, HashSet};

use crate::error::{Error, Result};
use crate::model::{GroupTotals, Sums};

/// Sums rows of (person, day, category, sums) per day (counting people) and per category.
///
/// ```text
/// (1, "03-01", "Email", 10), (1, "03-01", "Chat", 5), (2, "03-01", "Email", 1)
///   → days [("03-01", 2 people, 16)], categories [("Chat", 5), ("Email", 11)]
/// ```
///
/// Any row order gives the same result; rows in index order (person, day, category) are the
/// cheapest, since consecutive rows then share their day and person.
#[derive(Debug, Default)]
pub(crate) struct TotalsBuilder {
    days: Vec<(String, u32, Sums)>,
    day_index: HashMap<String, usize>,
    /// People already counted per day index.
    seen: HashSet<(i64, usize)>,
    categories: Vec<(String, Sums)>,
    category_index: HashMap<String, usize>,
    /// The last row's (day index, person): most rows repeat it.
    last: Option<(usize, i64)>,
}

impl TotalsBuilder {
    pub(crate) fn add(&mut self, user: i64, day: &str, category: &str, sums: Sums) {
        let d = match self.last {
            Some((d, _)) if self.days[d].0 == day => d,
            _ => match self.day_index.get(day) {
                Some(&d) => d,
                None => {
                    self.days.push((day.to_owned(), 0, Sums::default()));
                    self.day_index.insert(day.to_owned(), self.days.len() - 1);
                    self.days.len() - 1
                }
            },
        };
        if self.last != Some((d, user)) && self.seen.insert((user, d)) {
            self.days[d].1 += 1;
        }
        self.last = Some((d, user));
        self.days[d].2.add(sums);
        let c = match self.category_index.get(category) {
            Some(&c) => c,
            None => {
                self.categories.push((category.to_owned(), Sums::default()));
                self.category_index
                    .insert(category.to_owned(), self.categories.len() - 1);
                self.categories.len() - 1
            }
        };
        self.categories[c].1.add(sums);
    }

    pub(crate) fn finish(self) -> GroupTotals {
        GroupTotals {
            days: self.days,
            categories: self.categories,
        }
    }
}

impl TotalsBuilder {
    /// Adds one person's day as stored in `person_days`: lines of
    /// `category<TAB>active<TAB>idle<TAB>clocked<TAB>input`.
    ///
    /// ```text
    /// (1, "03-01", "Email\t10\t1\t12\t5\nChat\t5\t0\t5\t2")
    ///   → add(1, "03-01", "Email", 10/1/12/5), add(1, "03-01", "Chat", 5/0/5/2)
    /// ```
    pub(crate) fn add_packed(&mut self, user: i64, day: &str, packed: &str) -> Result<()> {
        for (category, sums) in unpack(user, day, packed)? {
            self.add(user, day, category, sums);
        }
        Ok(())
    }
}

/// The per-category totals of one person's day as `person_days` stores them: lines of
/// `category<TAB>active<TAB>idle<TAB>clocked<TAB>input`, in the order stored.
pub(crate) fn unpack<'a>(user: i64, day: &str, packed: &'a str) -> Result<Vec<(&'a str, Sums)>> {
    packed
        .split('\n')
        .filter(|l| !l.is_empty())
        .map(|line| {
            let mut fields = line.split('\t');
            let category = fields.next().unwrap_or_default();
            let mut number = || -> Result<i64> {
                fields.next().and_then(|f| f.parse().ok()).ok_or_else(|| {
                    Error::Task(format!(
                        "the stored totals of person {user} on {day} are unreadable: {line:?}"
                    ))
                })
            };
            let sums = Sums {
                active_ms: number()?,
                idle_ms: number()?,
                clocked_ms: number()?,
                input_ms: number()?,
            };
            Ok((category, sums))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn totals_do_not_depend_on_row_order(
            rows in proptest::collection::vec((1i64..5, 0usize..4, 0usize..3, 0i64..1000), 0..60),
            sorted in any::<bool>(),
        ) {
            let days = ["2025-03-01", "2025-03-02", "2025-03-03", "2025-03-04"];
            let cats = ["Email", "Chat", "Office"];
            let mut rows = rows;
            if sorted {
                rows.sort();
            }
            let mut b = TotalsBuilder::default();
            let mut want_days: BTreeMap<&str, (BTreeSet<i64>, i64)> = BTreeMap::new();
            let mut want_cats: BTreeMap<&str, i64> = BTreeMap::new();
            for (user, d, c, ms) in &rows {
                let sums = Sums { active_ms: *ms, idle_ms: 1, clocked_ms: 2, input_ms: 3 };
                b.add(*user, days[*d], cats[*c], sums);
                let e = want_days.entry(days[*d]).or_default();
                e.0.insert(*user);
                e.1 += ms;
                *want_cats.entry(cats[*c]).or_default() += ms;
            }
            let got = b.finish();
            let got_days: BTreeMap<&str, (u32, i64, i64)> = got
                .days
                .iter()
                .map(|(d, p, s)| (d.as_str(), (*p, s.active_ms, s.idle_ms)))
                .collect();
            let want: BTreeMap<&str, (u32, i64, i64)> = want_days
                .iter()
                .map(|(d, (people, ms))| {
                    let n = rows.iter().filter(|r| days[r.1] == *d).count() as i64;
                    (*d, (people.len() as u32, *ms, n))
                })
                .collect();
            prop_assert_eq!(got_days, want, "per day: distinct people and sums");
            let got_cats: BTreeMap<&str, i64> =
                got.categories.iter().map(|(c, s)| (c.as_str(), s.active_ms)).collect();
            prop_assert_eq!(got_cats, want_cats, "per category sums");
        }
    }

    #[test]
    fn packed_days_add_up_like_rows() {
        let mut packed = TotalsBuilder::default();
        packed
            .add_packed(1, "2025-03-01", "Email\t10\t1\t12\t5\nChat\t5\t0\t5\t2")
            .expect("readable");
        packed
            .add_packed(2, "2025-03-01", "Email\t1\t0\t1\t0")
            .expect("readable");
        let got = packed.finish();
        assert_eq!(got.days.len(), 1, "one day");
        assert_eq!(got.days[0].1, 2, "two people that day");
        assert_eq!(got.days[0].2.active_ms, 16, "all categories of both people");
        let email = got
            .categories
            .iter()
            .find(|(c, _)| c == "Email")
            .expect("Email");
        assert_eq!(email.1.clocked_ms, 13, "Email of both people");
        assert!(
            TotalsBuilder::default()
                .add_packed(1, "d", "Email\tx\t1\t2\t3")
                .is_err(),
            "a damaged row is an error, not a wrong total"
        );
    }
}

//! The flood case: how long an honest bundle takes to reach every honest
//! node while a raw peer floods one of them with validly signed entries
//! from fresh keys, against the same measure just before the flood, in
//! the same run (the scenario is `weft_e2e::flood`; the adversarial test
//! asserts on its other figures).

use weft_e2e::flood::{self, quantile, Flood};

use crate::report::Report;
use crate::Sizes;

pub fn run(sizes: &Sizes, report: &mut Report) {
    let f = flood::run(Flood {
        entries: sizes.flood_entries,
        keys: (sizes.flood_entries / 4).max(1),
        cap: 500,
        rate: 100,
        before: 5,
        during: 10,
        // The rate of the attack the catalog-flood issue measured, so that
        // the flood lasts as long as the honest publishing it is timed
        // against (as fast as possible, it is over in half a second).
        pace: Some(2_000),
    });
    let (before, during) = (quantile(&f.before, 0.99), quantile(&f.during, 0.99));
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    report.add(
        &format!(
            "flood: honest bundle listed on 3 honest nodes while one takes {} entries from {} fresh keys at 2,000/s (p99 of {})",
            sizes.flood_entries,
            (sizes.flood_entries / 4).max(1),
            f.during.len()
        ),
        format!("{:.0} ms", ms(during)),
        format!("{:.0} ms before the flood (p99 of {})", ms(before), f.before.len()),
        format!("{:.2}×", ms(during) / ms(before).max(1.0)),
        "≤ 2 s",
        Some(during.as_secs_f64() <= 2.0),
    );
}

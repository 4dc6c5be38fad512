//! The server's domain: plain functions over a SQLite connection or transaction, time passed in.

pub mod alarms;
pub mod areas;
pub mod bounds;
pub mod devices;
pub mod estate;
pub mod gate_reports;
pub mod journal;
pub mod language;
pub mod monitor;
pub mod page_size;
pub mod signing_keys;
pub mod staff;
// the front desk
pub mod card;
pub mod collection;
pub mod deposit;
pub mod desk_error;
pub mod privacy;
pub mod refund;
pub mod renovation;
pub mod retention;
pub mod settings;
pub mod units;
pub mod visitor;
pub mod worker;
// emergencies: evacuation, fire alarms, muster list, overstays
pub mod emergency;
pub mod muster;
pub mod overstay;
// card custody and the deposit ledger
pub mod custody;
#[cfg(test)]
mod desk_walk;
pub mod ledger;
// goods-release permits
pub mod goods;
pub mod goods_print;
// keys and radios
pub mod custody_items;
// past records: visitor history, invites, exports
pub mod history;

use crate::db::{Db, DbError};
use chrono::{DateTime, Utc};

/// Seeds what a fresh database needs (estate defaults) and brings stored keys up to date
/// (deny-list name keys); does nothing more on later starts.
pub async fn first_start(db: &Db, _now: DateTime<Utc>) -> Result<(), DbError> {
    db.call(|c| {
        let tx = c.savepoint()?;
        estate::seed_defaults(&tx)?;
        visitor::refold_deny_list(&tx)?;
        tx.commit()?;
        Ok::<_, DbError>(())
    })
    .await
}

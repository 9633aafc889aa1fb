//! The `charges` table.

use contract::{Charge, ChargeJson, InvalidCharge};
use sea_orm::entity::prelude::*;

/// One charge, as decided. `response_status` and `response_body` are the exact answer given the
/// first time, so that a replay is byte-identical (including a declined charge's problem body).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "charges")]
pub struct Model {
    /// `ch_<32 hex>`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Unique: the database, not application code, enforces one charge per key.
    #[sea_orm(unique)]
    pub idempotency_key: String,
    /// SHA-256 (hex) of the canonical request; see `domain::fingerprint`.
    pub request_hash: String,
    pub amount_cents: i64,
    pub currency: String,
    pub payment_method: String,
    pub country: String,
    pub reference: String,
    /// `succeeded` or `declined`.
    pub status: String,
    pub decline_code: Option<String>,
    pub response_status: i32,
    #[sea_orm(column_type = "Text")]
    pub response_body: String,
    /// RFC 3339, UTC, millisecond precision — stored as text so that SQLite and Postgres return
    /// exactly the string that was answered.
    pub created_at: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The charge this row records, read through the same parser as any charge body: a row the
    /// gateway could not have written is an error, not a charge.
    pub fn charge(&self) -> Result<Charge, InvalidCharge> {
        Charge::try_from(ChargeJson {
            id: self.id.clone(),
            status: self.status.clone(),
            amount_cents: self.amount_cents,
            // Derived, and ignored when read.
            amount_usd: 0.0,
            currency: self.currency.clone(),
            payment_method: self.payment_method.clone(),
            country: self.country.clone(),
            reference: self.reference.clone(),
            created_at: self.created_at.clone(),
            decline_code: self.decline_code.clone(),
        })
    }
}

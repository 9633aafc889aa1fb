//! The `charges` table.

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
    /// SHA-256 (hex) of the canonical request; see `ChargeRequest::fingerprint`.
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
